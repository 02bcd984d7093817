"""The site's own visitor data in Chromium (issue 10): ``window.frontdesk.setUser`` called before the
loader (the documented array queue and the two-line stub) and after it; the visitor is shown by
the name it gave in the visitors list, the conversation list and the dialog header; custom fields
appear in the visitor card as ``visitor-field-<key>`` (as text: markup in a value stays text) and
take part in the operator's field order. And one visitor per browser: a chat opened before the
first page-view report was answered is the same visitor as the page views."""
from __future__ import annotations

import sqlite3
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.nav import nav_click
from tests.e2e.shots import shot
from tests.e2e.test_panel import close_page, conversation_item, open_panel, set_status
from tests.support import ServerProcess, admin

CHROME_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/131.0.0.0 Safari/537.36")
# what the site puts in its page before widget.js (docs/visitor-context.md): the array queue and
# the stub that makes frontdesk.setUser callable before the loader is there
STUB = """
window.frontdesk = window.frontdesk || [];
window.frontdesk.setUser = window.frontdesk.setUser || function (u) { window.frontdesk.push(["setUser", u]); };
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    proc = ServerProcess(tmp_path_factory.mktemp("visitor-fields") / "data").start()
    yield proc
    proc.stop()


def _visitors_of(srv) -> int:
    db = sqlite3.connect(srv.data_dir / "frontdesk.db")
    try:
        return db.execute("SELECT count(*) FROM visitors").fetchone()[0]
    finally:
        db.close()


def test_set_user_before_and_after_the_loader_names_the_visitor_everywhere(browser, srv):
    demo = srv.demo
    panel = open_panel(browser, srv, demo["operator_email"], demo["operator_password"])
    set_status(panel, "online")
    nav_click(panel, "nav-visitors")
    expect(panel.get_by_test_id("visitors-list")).to_be_attached()

    shop_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU", user_agent=CHROME_UA)
    # before the loader: the stub's call and a call pushed on the array
    shop_context.add_init_script(STUB + """
      frontdesk.setUser({name: "Ирина Петрова", plan: "Премиум", note: "<img src=x onerror=window.__xss=1>"});
      frontdesk.push(["setUser", {"заказов": 3}]);
    """)
    shop = shop_context.new_page()
    errors: list[str] = []
    shop.on("pageerror", lambda exc: errors.append(str(exc)))
    shop.goto(srv.url + "/demo/")
    row = panel.get_by_test_id("visitor-row")
    expect(row).to_have_count(1)
    expect(row.locator(".cell-title")).to_have_text("Ирина Петрова")

    # after the loader: the API object itself, and push still works
    shop.wait_for_function("() => typeof window.frontdesk.setUser === 'function' && !Array.isArray(window.frontdesk)")
    shop.evaluate("""() => { frontdesk.setUser({email: "irina@example.com", vip: true});
                             frontdesk.push(["setUser", {plan: "Бизнес"}]); }""")

    shop.get_by_test_id("widget-launcher").click()
    shop.get_by_test_id("widget-input").fill("Здравствуйте, где мой заказ?")
    shop.get_by_test_id("widget-input").press("Enter")
    item = panel.get_by_test_id("conversation-item")
    nav_click(panel, "nav-chats")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Ирина Петрова")
    item.click()
    expect(panel.get_by_test_id("dialog-title")).to_have_text("Ирина Петрова")
    card = panel.get_by_test_id("visitor-info")
    expect(card.get_by_test_id("visitor-field-plan")).to_have_text("Бизнес")
    expect(card.get_by_test_id("visitor-field-заказов")).to_have_text("3")
    expect(card.get_by_test_id("visitor-field-vip")).to_have_text("true")
    expect(card.get_by_test_id("visitor-field-email")).to_have_text("irina@example.com")
    note = card.get_by_test_id("visitor-field-note")
    expect(note).to_have_text("<img src=x onerror=window.__xss=1>")  # text, not markup
    assert note.locator("img").count() == 0 and panel.evaluate("() => window.__xss") is None

    # a new name after the loader: the list and the header follow live
    shop.evaluate("() => frontdesk.setUser({name: 'Ирина П.'})")
    expect(panel.get_by_test_id("dialog-title")).to_have_text("Ирина П.")
    expect(item).to_contain_text("Ирина П.")
    nav_click(panel, "nav-visitors")
    expect(row.locator(".cell-title")).to_have_text("Ирина П.")
    panel.wait_for_timeout(300)
    shot(panel, "visitors-named.png")
    nav_click(panel, "nav-chats")
    item.click()

    # the custom field takes part in the operator's order: "plan" to the top, "vip" hidden
    card.get_by_test_id("visitor-fields-edit").click()
    editor = panel.get_by_test_id("visitor-fields-editor")
    plan = editor.locator("[data-testid='visitor-fields-item'][data-field='plan']")
    expect(plan).to_have_count(1)
    editor.locator("[data-testid='visitor-fields-item'][data-field='vip'] [data-testid='visitor-fields-toggle']").uncheck()
    items = editor.get_by_test_id("visitor-fields-item")
    while items.first.get_attribute("data-field") != "plan":
        plan.get_by_test_id("visitor-fields-up").click()
    editor.get_by_test_id("visitor-fields-save").click()
    expect(editor).to_have_count(0)
    fields = card.locator("[data-testid^='visitor-field-']")
    expect(fields.first).to_have_attribute("data-testid", "visitor-field-plan")
    expect(card.get_by_test_id("visitor-field-vip")).to_have_count(0)
    panel.set_viewport_size({"width": 1280, "height": 1240})
    panel.wait_for_timeout(300)
    shot(panel, "visitor-fields.png")
    panel.set_viewport_size({"width": 1280, "height": 800})
    panel.reload()
    conversation_item(panel, int(item.get_attribute("data-conversation-id") or 0)).click()
    expect(fields.first).to_have_attribute("data-testid", "visitor-field-plan")
    expect(card.get_by_test_id("visitor-field-vip")).to_have_count(0)

    assert errors == []
    shop_context.close()
    close_page(panel)


def test_the_panel_on_a_phone_shows_names_and_custom_fields(browser, srv):
    demo = srv.demo
    panel = open_panel(browser, srv, demo["operator_email"], demo["operator_password"],
                       viewport={"width": 390, "height": 844})
    panel.get_by_test_id("menu-toggle").click()
    nav_click(panel, "nav-visitors")
    row = panel.get_by_test_id("visitor-row")
    expect(row.first).to_be_visible()
    expect(row.first).to_contain_text("Ирина П.")
    panel.wait_for_timeout(300)
    shot(panel, "visitors-named-phone.png")
    panel.get_by_test_id("menu-toggle").click()
    nav_click(panel, "nav-chats")
    item = panel.get_by_test_id("conversation-item").first
    expect(item).to_contain_text("Ирина П.")
    item.click()
    panel.get_by_test_id("dialog-info").click()  # the visitor card is a screen of its own on a phone
    card = panel.get_by_test_id("visitor-info")
    expect(card.get_by_test_id("visitor-field-plan")).to_be_visible()
    panel.wait_for_timeout(300)
    shot(panel, "visitor-fields-phone.png")
    close_page(panel)


def test_a_chat_opened_before_the_first_page_view_answer_is_the_same_visitor(browser, srv):
    demo = srv.demo
    panel = open_panel(browser, srv, demo["operator_email"], demo["operator_password"])
    set_status(panel, "online")
    before = _visitors_of(srv)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU")
    page = context.new_page()
    held: list = []
    page.route("**/api/v1/widget/pageviews*", lambda route: held.append(route))
    page.goto(srv.url + "/demo/")
    deadline = time.monotonic() + 30
    while not held and time.monotonic() < deadline:  # the first report is on its way (and held)
        page.wait_for_timeout(50)
    assert held, "track.js sent no page view"
    page.get_by_test_id("widget-launcher").click()
    page.get_by_test_id("widget-input").fill("Вопрос до ответа на первый просмотр")
    page.get_by_test_id("widget-input").press("Enter")
    page.wait_for_timeout(500)  # the chat had every chance to say hello without a token
    for route in held:
        route.continue_()
    page.unroute("**/api/v1/widget/pageviews*")
    expect(page.locator("[data-testid='widget-message'][data-author='visitor'][data-seq]")).to_have_count(1)
    page.wait_for_function("() => !window.FrontdeskWidget.store.get('pv')")  # the page view was answered
    # one visitor for this browser: the page views' and the chat's
    assert _visitors_of(srv) - before == 1
    token = page.evaluate("() => window.FrontdeskWidget.store.get('token')")
    assert token
    context.close()
    close_page(panel)


def test_a_report_refused_with_429_stays_queued_and_goes_later(browser, srv):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU")
    page = context.new_page()
    refused: list[int] = []

    def refuse(route):
        refused.append(1)
        route.fulfill(status=429, content_type="application/json",
                      body='{"error": {"code": "rate_limited", "message": "too many page-view reports"}}')

    page.route("**/api/v1/widget/pageviews*", refuse)
    page.goto(srv.url + "/demo/catalog.html")
    page.wait_for_function("() => !!window.FrontdeskWidget && !!window.FrontdeskWidget.track")
    store = "window.FrontdeskWidget.store"
    deadline = time.monotonic() + 30
    while not refused and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    page.wait_for_function(f"() => JSON.parse({store}.get('pv') || '[]').length === 1")  # kept after the 429
    page.evaluate("() => frontdesk.setUser({name: 'Вера Лимитова'})")   # refused too: kept as well
    assert refused
    assert page.evaluate(f"() => JSON.parse({store}.get('user')).name") == "Вера Лимитова"
    page.unroute("**/api/v1/widget/pageviews*")
    # "online" is what the loader waits for (or 30 s); said again while a refused report may still be on its way
    page.wait_for_function(f"""() => {{ window.dispatchEvent(new Event('online'));
        return !{store}.get('pv') && !{store}.get('user') && !!{store}.get('token'); }}""", polling=500)
    a = admin(srv)
    try:
        names = [v["display_name"] for v in a.call("GET", "/api/v1/visitors/online").json()["visitors"]]
    finally:
        a.close()
    assert "Вера Лимитова" in names
    context.close()
