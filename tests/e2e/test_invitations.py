"""Proactive invitations in Chromium (issue 11). A rule "more than 2 pages viewed and 10 s on
/demo/catalog/*" (the demo shop's catalog sections) fires on the third page after 10 s — the
browser's timers run on Playwright's clock (`context.clock`), moved by hand — and not before:
not on the second page however long, not at 9.8 s on the third. The visitor answers; the operator
sees a proactive conversation carrying the rule's name; the counts reach the API and the rules
page. A dismissed invitation does not come back in the same visit. A manual invitation sent from
the visitors list reaches a visitor who never opened the chat."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.nav import nav_click
from tests.e2e.shots import shot
from tests.e2e.test_panel import close_page, open_panel, set_status
from tests.support import ServerProcess, admin

CHROME_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/131.0.0.0 Safari/537.36")
RULE_NAME = "Каталог: третья страница"
CONDITIONS = {"pages_min": 3, "page_seconds": 10, "url": {"match": "wildcard", "value": "/demo/catalog/*"}}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    proc = ServerProcess(tmp_path_factory.mktemp("invitations") / "data").start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def boss(srv):
    client = admin(srv)
    yield client
    client.close()


def _site_id(boss, srv) -> int:
    return next(s["id"] for s in boss.call("GET", "/api/v1/sites").json()["sites"]
                if s["site_key"] == srv.demo["site_key"])


def _shop(browser, viewport=None):
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800}, locale="ru-RU",
                                  user_agent=CHROME_UA)
    context.clock.install()  # the page's Date, timers and performance run on a clock the test moves
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
    return page


def _visit(page, url: str) -> None:
    """Open a page and wait until invite.js runs and the server answered this page view."""
    page.goto(url)
    page.wait_for_function("() => !!(window.FrontdeskWidget && window.FrontdeskWidget.inviter)")
    page.wait_for_function("(u) => !!(window.FrontdeskWidget.visit) && location.href === u", arg=page.url)


def _freeze_at(page, seconds_on_page: float) -> None:
    """Stop the page's clock at ``seconds_on_page`` after the page began (firing what is due on the way)."""
    started = page.evaluate("() => window.FrontdeskWidget.inviter.pageStarted()")
    page.clock.pause_at((started + seconds_on_page * 1000) / 1000)  # a number is seconds in the Python API


def _bubble(page):
    return page.get_by_test_id("widget-invitation")


def test_rule_fires_on_the_third_catalog_page_after_ten_seconds_and_starts_a_proactive_conversation(
        browser, srv, boss):
    demo = srv.demo
    site_id = _site_id(boss, srv)
    operator = next(o for o in boss.call("GET", "/api/v1/operators").json()["operators"]
                    if o["email"] == demo["operator_email"])
    operator_id = operator["id"]
    r = boss.call("POST", f"/api/v1/sites/{site_id}/invitations", json={
        "name": RULE_NAME, "conditions": CONDITIONS, "caps": {"once_per_visit": True},
        "action": {"text": {"ru": "Здравствуйте! Помочь подобрать плед?", "en": "Hello! Can I help you pick a throw?"},
                   "sender": "operator", "operator_id": operator_id}})
    assert r.status_code == 201, r.text
    rule_id = r.json()["rule"]["id"]

    panel = open_panel(browser, srv, demo["operator_email"], demo["operator_password"])
    set_status(panel, "online")
    shop = _shop(browser)

    # pages 1 and 2: the home page, the catalog (not /demo/catalog/*): nothing, however long
    _visit(shop, srv.url + "/demo/")
    _visit(shop, srv.url + "/demo/catalog.html")
    shop.clock.run_for(30_000)
    expect(_bubble(shop)).to_have_count(0)
    # page 3, a catalog section: at 9.8 s not yet …
    _visit(shop, srv.url + "/demo/catalog/pledy.html")
    _freeze_at(shop, 9.0)
    shop.clock.run_for(800)
    assert shop.evaluate("() => Date.now() - window.FrontdeskWidget.inviter.pageStarted()") == 9_800
    expect(_bubble(shop)).to_have_count(0)
    # … at 10 s it shows (the next half-second tick), with the operator's name
    shop.clock.run_for(500)
    bubble = _bubble(shop)
    expect(bubble).to_be_visible()
    expect(bubble).to_contain_text("Помочь подобрать плед?")
    expect(bubble).to_contain_text(operator["name"])
    assert shop.evaluate("() => !!window.FrontdeskWidget.chat") is False  # the chat code is still not loaded
    shop.wait_for_timeout(350)  # the bubble's entry animation (wall time: the page clock is paused)
    shot(shop, "invitation.png")
    shop.clock.resume()

    # the visitor answers: the window opens with the invitation as the first message
    bubble.click()
    expect(shop.get_by_test_id("widget-window")).to_be_visible()
    expect(shop.get_by_test_id("widget-greeting")).to_contain_text("Помочь подобрать плед?")
    expect(_bubble(shop)).to_have_count(0)
    shop.wait_for_timeout(300)  # the window's entry animation
    shot(shop, "invitation-answer.png")
    shop.get_by_test_id("widget-input").fill("Да, нужен серый плед на диван")
    shop.get_by_test_id("widget-input").press("Enter")

    # the operator sees a proactive conversation with the rule's name
    item = panel.get_by_test_id("conversation-item").first
    expect(item).to_be_visible()
    item.click()
    badge = panel.get_by_test_id("conversation-proactive")
    expect(badge).to_be_visible()
    expect(badge).to_contain_text(RULE_NAME)
    shot(panel, "invitation-dialog.png")

    # the counts: API and the rules page
    rules = boss.call("GET", f"/api/v1/sites/{site_id}/invitations").json()["rules"]
    assert [(x["id"], x["counts"]) for x in rules] == [(rule_id, {"shown": 1, "accepted": 1, "dismissed": 0})]
    nav_click(panel, "nav-invitations")
    row = panel.get_by_test_id("invitation-rule")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-shown", "1")
    expect(row).to_have_attribute("data-accepted", "1")
    expect(row).to_have_attribute("data-dismissed", "0")
    expect(row).to_contain_text(RULE_NAME)
    assert shop.errors == []  # type: ignore[attr-defined]
    shop.context.close()
    close_page(panel)


def test_a_dismissed_invitation_does_not_come_back_in_the_same_visit(browser, srv, boss):
    site_id = _site_id(boss, srv)
    for rule in boss.call("GET", f"/api/v1/sites/{site_id}/invitations").json()["rules"]:
        boss.call("PATCH", f"/api/v1/invitations/{rule['id']}", json={"enabled": False})
    # no cap at all: only the dismissal keeps it away
    r = boss.call("POST", f"/api/v1/sites/{site_id}/invitations", json={
        "name": "Без ограничений", "conditions": {"page_seconds": 10, "url": {"match": "prefix", "value": "/demo/catalog/"}},
        "caps": {}, "action": {"text": {"ru": "Подсказать со свечами?"}}})
    assert r.status_code == 201, r.text
    rule_id = r.json()["rule"]["id"]

    shop = _shop(browser)
    _visit(shop, srv.url + "/demo/catalog/svechi.html")
    _freeze_at(shop, 10.5)
    shop.clock.run_for(500)
    expect(_bubble(shop)).to_be_visible()
    expect(_bubble(shop)).to_contain_text("Подсказать со свечами?")
    shop.get_by_test_id("widget-invitation-close").click()
    expect(_bubble(shop)).to_have_count(0)
    shop.clock.resume()
    # the next page of the same visit: a minute on it, nothing
    _visit(shop, srv.url + "/demo/catalog/pledy.html")
    shop.clock.run_for(60_000)
    expect(_bubble(shop)).to_have_count(0)
    counts = next(x["counts"] for x in boss.call("GET", f"/api/v1/sites/{site_id}/invitations").json()["rules"]
                  if x["id"] == rule_id)
    assert counts == {"shown": 1, "accepted": 0, "dismissed": 1}
    # a fresh visitor (no dismissal) gets it on that same page
    other = _shop(browser)
    _visit(other, srv.url + "/demo/catalog/pledy.html")
    _freeze_at(other, 10.5)
    other.clock.run_for(500)
    expect(_bubble(other)).to_be_visible()
    assert shop.errors == [] and other.errors == []  # type: ignore[attr-defined]
    other.context.close()
    shop.context.close()


def test_a_manual_invitation_from_the_visitors_list_reaches_the_widget(browser, srv, boss):
    site_id = _site_id(boss, srv)
    for rule in boss.call("GET", f"/api/v1/sites/{site_id}/invitations").json()["rules"]:
        boss.call("PATCH", f"/api/v1/invitations/{rule['id']}", json={"enabled": False})
    demo = srv.demo
    panel = open_panel(browser, srv, demo["operator_email"], demo["operator_password"])
    nav_click(panel, "nav-visitors")
    shop = _shop(browser)
    shop.clock.resume()
    _visit(shop, srv.url + "/demo/contacts.html?manual=1")
    row = panel.get_by_test_id("visitor-row").filter(has_text="manual=1")
    expect(row).to_have_count(1)
    row.get_by_test_id("visitor-invite").click()
    panel.get_by_test_id("visitor-invite-text").fill("Здравствуйте! Я Мария, подскажу с доставкой <b>сегодня</b>")
    panel.get_by_test_id("visitor-invite-send").click()
    expect(panel.get_by_test_id("visitor-invite-status")).to_have_text(re.compile("Отправлено"))
    bubble = _bubble(shop)
    expect(bubble).to_be_visible(timeout=5_000)
    expect(bubble).to_contain_text("подскажу с доставкой <b>сегодня</b>")  # as text, never as HTML
    assert shop.evaluate("() => !!window.FrontdeskWidget.chat") is False
    # answered: a proactive conversation ("manual")
    bubble.click()
    expect(shop.get_by_test_id("widget-greeting")).to_contain_text("подскажу с доставкой")
    shop.get_by_test_id("widget-input").fill("Да, привезёте сегодня?")
    shop.get_by_test_id("widget-input").press("Enter")
    expect(row.get_by_test_id("visitor-row-chat")).to_have_attribute("data-chatting", "1")
    row.click()
    expect(panel.get_by_test_id("conversation-proactive")).to_contain_text("ручное")
    assert shop.errors == []  # type: ignore[attr-defined]
    shop.context.close()
    close_page(panel)


def test_screenshots_of_the_bubble_on_a_phone_and_the_rules_page(browser, srv, boss):
    site_id = _site_id(boss, srv)
    r = boss.call("POST", f"/api/v1/sites/{site_id}/invitations", json={
        "name": "Телефон", "conditions": {"page_seconds": 3}, "caps": {},
        "action": {"text": {"ru": "Здравствуйте! Подсказать с выбором? Доставим завтра, сборка бесплатно."}}})
    assert r.status_code == 201, r.text
    phone = _shop(browser, viewport={"width": 390, "height": 844})
    _visit(phone, srv.url + "/demo/")
    _freeze_at(phone, 3.5)
    phone.clock.run_for(500)
    expect(_bubble(phone)).to_be_visible()
    phone.wait_for_timeout(350)
    shot(phone, "invitation-phone.png")
    box = _bubble(phone).bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390  # inside the screen
    phone.context.close()

    demo = srv.demo
    for viewport, name in (({"width": 1280, "height": 900}, "invitations.png"),
                           ({"width": 390, "height": 844}, "invitations-phone.png")):
        page = open_panel(browser, srv, demo["admin_email"], demo["admin_password"], viewport=viewport)
        page.goto(srv.url + "/panel/invitations")
        expect(page.get_by_test_id("invitation-rule").first).to_be_visible()
        shot(page, name, full=True)
        if name == "invitations.png":
            page.get_by_test_id("invitation-new").click()
            expect(page.get_by_test_id("invitation-form")).to_be_visible()
            shot(page, "invitation-form.png", full=True)
        close_page(page)


def test_window_behaviour_launcher_delay_text_and_auto_open(browser, srv, boss):
    site_id = _site_id(boss, srv)
    for rule in boss.call("GET", f"/api/v1/sites/{site_id}/invitations").json()["rules"]:
        boss.call("PATCH", f"/api/v1/invitations/{rule['id']}", json={"enabled": False})
    r = boss.call("PATCH", f"/api/v1/sites/{site_id}", json={"widget": {
        "launcher_delay": 8, "auto_open_delay": 20,
        "texts": {"ru": {"launcher": "Есть вопрос? Пишите!"}, "en": {"launcher": "Questions? Ask us!"}}}})
    assert r.status_code == 200, r.text
    panel = open_panel(browser, srv, srv.demo["operator_email"], srv.demo["operator_password"])
    set_status(panel, "online")  # the launcher's label is the site's text while operators are available
    try:
        shop = _shop(browser)
        shop.goto(srv.url + "/demo/contacts.html")
        shop.wait_for_function("() => !!window.FrontdeskWidget")
        started = shop.evaluate("() => window.FrontdeskWidget.t0")
        shop.clock.pause_at((started + 7_000) / 1000)
        launcher = shop.get_by_test_id("widget-launcher")
        expect(launcher).to_be_hidden()  # not yet: 7 s of 8
        shop.clock.run_for(1_100)
        expect(launcher).to_be_visible()
        expect(shop.locator("#frontdesk-widget .lb")).to_have_text("Есть вопрос? Пишите!")
        shop.wait_for_function("() => !!window.FrontdeskWidget.inviter")
        expect(shop.get_by_test_id("widget-window")).to_have_count(0)  # the chat code is not even loaded
        shop.clock.run_for(13_000)  # 21.1 s on the page: the window opens by itself
        shop.clock.resume()
        expect(shop.get_by_test_id("widget-window")).to_be_visible()
        assert shop.errors == []  # type: ignore[attr-defined]
        shop.context.close()
        close_page(panel)
    finally:
        boss.call("PATCH", f"/api/v1/sites/{site_id}", json={"widget": {
            "launcher_delay": 0, "auto_open_delay": 0, "texts": {"ru": {"launcher": ""}, "en": {"launcher": ""}}}})
