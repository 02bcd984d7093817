"""CSAT in the widget and the reports page, in a real Chromium against a real server.

The server's clock is moved back (FRONTDESK_TEST_CLOCK_FILE) to give the reports a week of
conversations; then a person on /demo/ chats, the operator closes, the visitor rates it 5 with
a comment, and the operator sees it in the dialog, in History and on the reports page.
"""
from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.nav import nav_click
from tests.e2e.shots import shot
from tests.e2e.test_panel import SyncVisitor, close_page, conversation_item, open_panel, set_status
from tests.mail.conftest import ClockFile
from tests.support import OperatorClient, ServerProcess

pytestmark = pytest.mark.e2e




@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    base = tmp_path_factory.mktemp("csat")
    clock = ClockFile(base / "clock")
    proc = ServerProcess(base / "data", env={"FRONTDESK_TEST_CLOCK_FILE": str(clock.path),
                                             "FRONTDESK_OFFLINE_GRACE": "3600"}).start()
    proc.clock = clock
    yield proc
    proc.stop()


def _past_week(server: ServerProcess, op: OperatorClient) -> None:
    """Conversations over the last six days: some answered fast, some slowly, some missed, some rated."""
    now = datetime.now(UTC)
    plan = [(6, [(20, 600, 5), (None, 200, None)]), (5, [(45, 900, 4), (15, 300, 5), (90, 1500, 3)]),
            (4, [(30, 400, 5)]), (3, [(120, 1800, 2), (None, 100, None), (25, 500, 5)]),
            (2, [(10, 300, 4), (60, 700, 5)]), (1, [(35, 450, 5), (None, 60, None), (50, 800, 4)])]
    for days_ago, chats in plan:
        for n, (reply, close, rating) in enumerate(chats):
            start = now - timedelta(days=days_ago, hours=3 - n)
            server.clock.set(start)
            v = SyncVisitor(server)
            cid = v.say("Здравствуйте, вопрос про доставку")["conversation_id"]
            if reply is not None:
                server.clock.set(start + timedelta(seconds=reply))
                r = op.call("POST", f"/api/v1/conversations/{cid}/messages",
                            json={"client_id": "o-" + uuid.uuid4().hex, "text": "Добрый день! Подскажу."})
                assert r.status_code == 200, r.text
            server.clock.set(start + timedelta(seconds=close))
            assert op.call("POST", f"/api/v1/conversations/{cid}/close").status_code == 200
            if rating is not None:
                r = httpx.post(f"{server.url}/api/v1/widget/conversations/{cid}/rating",
                               params={"site": server.demo["site_key"]}, json={"value": rating},
                               headers={"Authorization": f"Bearer {v.token}"})
                assert r.status_code == 200, r.text
            v.close()
    server.clock.set(datetime.now(UTC))


def test_visitor_rates_a_closed_chat_and_the_reports_show_it(browser, srv):
    demo = srv.demo
    op = OperatorClient(srv, demo["operator_email"], demo["operator_password"])
    _past_week(srv, op)

    page = open_panel(browser, srv, demo["operator_email"], demo["operator_password"])
    set_status(page, "online")
    shop = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU").new_page()
    shop_errors: list[str] = []
    shop.on("pageerror", lambda exc: shop_errors.append(str(exc)))
    shop.goto(srv.url + "/demo/")
    shop.get_by_test_id("widget-launcher").click()
    expect(shop.get_by_test_id("widget-window")).to_be_visible()
    shop.get_by_test_id("widget-input").fill("Можно оплатить картой при получении?")
    shop.get_by_test_id("widget-input").press("Enter")
    expect(shop.get_by_test_id("widget-end")).to_be_visible()   # the visitor may end an open chat

    item = page.locator("[data-testid='conversation-item'][data-state='waiting']")
    expect(item).to_have_count(1)
    cid = int(item.get_attribute("data-conversation-id"))
    item.click()
    page.get_by_test_id("chat-input").fill("Да, картой или наличными курьеру.")
    page.get_by_test_id("chat-send").click()
    expect(shop.locator("[data-testid='widget-message'][data-author='operator']")).to_contain_text("картой")
    expect(shop.get_by_test_id("widget-rating")).to_have_count(0)   # not while the chat is open
    page.get_by_test_id("conversation-close").click()

    # the widget asks for a rating; the visitor gives 5 stars and a comment
    form = shop.get_by_test_id("widget-rating")
    expect(form).to_be_visible()
    expect(shop.get_by_test_id("widget-end")).to_be_hidden()
    options = shop.get_by_test_id("widget-rating-option")
    expect(options).to_have_count(5)
    shop.get_by_test_id("widget-rating-submit").click()
    expect(form).to_contain_text("Выберите оценку")                 # nothing chosen yet
    shop.locator("[data-testid='widget-rating-option'][data-value='5']").click()
    expect(shop.locator("[data-testid='widget-rating-option'][aria-pressed='true']")).to_have_attribute("data-value", "5")
    shop.get_by_test_id("widget-rating-comment").fill("Ответили быстро, спасибо <b>!</b>")
    shot(shop.get_by_test_id("widget-window"), "widget-rating.png")
    shop.get_by_test_id("widget-rating-submit").click()
    expect(shop.get_by_test_id("widget-rating-thanks")).to_be_visible()

    # next to the rating: the transcript by e-mail, to the visitor's own address
    shop.get_by_test_id("widget-transcript").click()
    shop.get_by_test_id("widget-transcript-email").fill("не адрес")
    shop.get_by_test_id("widget-transcript-submit").click()
    expect(shop.get_by_test_id("widget-window")).to_contain_text("Проверьте e‑mail")
    shop.get_by_test_id("widget-transcript-email").fill("guest@example.com")
    shot(shop.get_by_test_id("widget-window"), "widget-transcript-form.png")
    shop.get_by_test_id("widget-transcript-submit").click()
    expect(shop.get_by_test_id("widget-transcript-sent")).to_contain_text("guest@example.com")
    shot(shop.get_by_test_id("widget-window"), "widget-transcript.png")
    queued = [e for e in op.call("GET", "/api/v1/outbox").json().get("emails", []) if e["kind"] == "visitor_transcript"]
    assert [(e["to"], e["conversation_id"]) for e in queued] == [("guest@example.com", cid)]

    # the open dialog updates at once (conversation.rated), comment as text
    expect(page.get_by_test_id("dialog-state").get_by_test_id("conversation-rating")).to_have_attribute("data-value", "5")
    expect(page.get_by_test_id("conversation-rating-comment")).to_contain_text("Ответили быстро, спасибо <b>!</b>")
    # after a reload too, and in History
    nav_click(page, "nav-history")
    row = page.locator(f"[data-testid='history-item'][data-conversation-id='{cid}']")
    expect(row.get_by_test_id("conversation-rating")).to_have_attribute("data-value", "5")

    # the reports page: today's rating is counted, the charts are drawn
    nav_click(page, "nav-reports")
    page.locator("[data-testid='report-preset'][data-days='7']").click()
    week_ago = (datetime.now().date() - timedelta(days=6)).isoformat()
    expect(page.get_by_test_id("report-period")).to_have_attribute("data-from", week_ago)
    expect(page.locator("[data-testid='report-value'][data-metric='conversations']")).to_have_attribute("data-value", "15")
    expect(page.locator("[data-testid='report-value'][data-metric='csat_count']")).to_have_attribute("data-value", "12")
    expect(page.locator("[data-testid='report-value'][data-metric='missed']")).to_have_attribute("data-value", "3")
    for report in ("conversations", "csat"):
        expect(page.locator(f"[data-testid='report-chart'][data-report='{report}'] canvas")).to_have_count(1)
    expect(page.locator("[data-testid='report-csv'][data-table='operators']")).to_have_attribute(
        "href", re.compile(r"/api/v1/reports/\d+/operators\.csv\?from="))
    # incoming vs proactive (no invitation here: all incoming), the escalation's missed chats (none
    # configured: 0), and per department: the site has none yet — the empty state says what will appear
    origin = page.locator("[data-testid='report-chart'][data-report='origin']")
    expect(origin.locator("canvas")).to_have_count(1)
    expect(origin).to_have_attribute("data-incoming", "15")
    expect(origin).to_have_attribute("data-proactive", "0")
    expect(page.locator("[data-testid='report-value'][data-metric='missed_escalation']")).to_have_attribute(
        "data-value", "0")
    expect(page.get_by_test_id("report-departments-empty")).to_contain_text("нет отделов")
    admin_op = OperatorClient(srv, demo["admin_email"], demo["admin_password"])
    site_id = next(s["id"] for s in admin_op.call("GET", "/api/v1/sites").json()["sites"]
                   if s["site_key"] == demo["site_key"])
    dep_ids = [admin_op.call("POST", f"/api/v1/sites/{site_id}/departments", json={"name": n}).json()["department"]["id"]
               for n in ("Продажи", "Поддержка")]
    admin_op.close()
    page.locator("[data-testid='report-preset'][data-days='7']").click()
    rows = page.get_by_test_id("report-department")
    expect(rows).to_have_count(3)                                   # both departments (no chat yet) and "no department"
    expect(rows.nth(0)).to_have_attribute("data-department-id", str(dep_ids[0]))
    expect(rows.nth(0)).to_have_attribute("data-conversations", "0")
    expect(rows.nth(2)).to_have_attribute("data-conversations", "15")
    expect(rows.nth(2)).to_contain_text("Без отдела")
    expect(page.locator("[data-testid='report-csv'][data-table='departments']")).to_have_attribute(
        "href", re.compile(r"/api/v1/reports/\d+/departments\.csv\?from="))
    for name, size in (("reports.png", (1280, 1180)), ("reports-phone.png", (390, 844))):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.locator("[data-testid='report-preset'][data-days='7']").click()    # drawn at this width
        expect(page.get_by_test_id("report-status")).to_have_text("")
        expect(rows).to_have_count(3)
        expect(origin.locator("canvas")).to_have_count(1)
        if os.environ.get("FRONTDESK_SCREENSHOTS"):   # the page scrolls inside the panel: a viewport as tall as it
            tall = page.evaluate("document.querySelector('.reports').scrollHeight")
            page.set_viewport_size({"width": size[0], "height": tall + 120})
            shot(page, name)
    page.set_viewport_size({"width": 1280, "height": 800})

    # an empty period explains what will appear
    page.get_by_test_id("report-from").fill("2020-01-01")
    page.get_by_test_id("report-to").fill("2020-01-31")
    page.get_by_test_id("report-apply").click()
    expect(page.locator("[data-testid='report-chart'][data-report='conversations']")).to_contain_text("появится")
    expect(page.locator("[data-testid='report-value'][data-metric='conversations']")).to_have_attribute("data-value", "0")
    assert shop_errors == []
    shop.context.close()
    op.close()
    close_page(page)


def test_visitor_ends_the_chat_and_rates_with_thumbs(browser, srv):
    demo = srv.demo
    admin_op = OperatorClient(srv, demo["admin_email"], demo["admin_password"])
    site_id = next(s["id"] for s in admin_op.call("GET", "/api/v1/sites").json()["sites"]
                   if s["site_key"] == demo["site_key"])
    r = admin_op.call("PATCH", f"/api/v1/sites/{site_id}", json={"widget": {"rating": "thumbs"}})
    assert r.status_code == 200, r.text
    # the admin turns the visitor's transcript off on the Sites page (on by default)
    boss = open_panel(browser, srv, demo["admin_email"], demo["admin_password"])
    nav_click(boss, "nav-sites")
    expect(boss.get_by_test_id("site-transcript")).to_be_checked()
    boss.get_by_test_id("site-transcript").uncheck()
    boss.get_by_test_id("site-save").click()
    expect(boss.get_by_test_id("site-status")).to_have_text("Сохранено")
    close_page(boss)
    assert admin_op.call("GET", "/api/v1/sites").json()["sites"][0]["widget"]["transcript"] is False
    op = OperatorClient(srv, demo["operator_email"], demo["operator_password"])
    op.set_status("online")                                            # else the widget shows the offline form
    page = open_panel(browser, srv, demo["operator_email"], demo["operator_password"])
    shop = browser.new_context(viewport={"width": 400, "height": 760}, locale="en-US").new_page()
    shop.goto(srv.url + "/demo/")
    shop.get_by_test_id("widget-launcher").click()
    shop.get_by_test_id("widget-input").fill("Hello, one question")
    shop.get_by_test_id("widget-input").press("Enter")
    item = page.locator("[data-testid='conversation-item'][data-state='waiting']")
    expect(item).to_have_count(1)
    cid = int(item.get_attribute("data-conversation-id"))
    r = op.call("POST", f"/api/v1/conversations/{cid}/messages", json={"client_id": "o-t1", "text": "Hi!"})
    assert r.status_code == 200
    expect(shop.locator("[data-testid='widget-message'][data-author='operator']")).to_have_count(1)

    shop.get_by_test_id("widget-end").click()                          # the visitor ends it
    expect(conversation_item(page, cid)).to_have_count(0)              # gone from the open list
    expect(shop.get_by_test_id("widget-rating-option")).to_have_count(2)
    shop.locator("[data-testid='widget-rating-option'][data-value='1']").click()
    expect(shop.get_by_test_id("widget-transcript")).to_have_count(0)   # the site turned it off
    shop.get_by_test_id("widget-rating-submit").click()
    expect(shop.get_by_test_id("widget-rating-thanks")).to_have_text(re.compile("Thank you"))
    conv = op.call("GET", f"/api/v1/conversations/{cid}").json()["conversation"]
    assert conv["status"] == "closed" and conv["rating"]["value"] == 1 and conv["rating"]["scale"] == "thumbs"
    # the next page does not ask again
    shop.reload()                                                      # the window stays open across pages
    expect(shop.get_by_test_id("widget-window")).to_be_visible()
    expect(shop.get_by_test_id("widget-rating")).to_have_count(0)
    shop.context.close()
    for c in (op, admin_op):
        c.close()
    close_page(page)
