"""Greeting and holding phrases on the Sites page (issue 9), in a real Chromium: the admin changes the
auto-greeting and the automatic "Одну минуточку…" line (text and seconds) per language; the widget greets
with the new text; once the operator has taken the chat and stays silent, the visitor gets the line on
the operator's behalf after N seconds of the controllable clock, and the panel's list keeps showing the
visitor's question."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.nav import nav_click
from tests.e2e.test_panel import close_page, conversation_item, open_panel, set_status
from tests.mail.conftest import ClockFile
from tests.support import ServerProcess, admin

pytestmark = pytest.mark.e2e


@pytest.fixture
def clocked(tmp_path):
    clock = ClockFile(tmp_path / "clock")
    proc = ServerProcess(tmp_path / "data", env={"FRONTDESK_TEST_CLOCK_FILE": str(clock.path),
                                                 "FRONTDESK_OFFLINE_TICK": "0.2",
                                                 "FRONTDESK_NO_REPLY_SECONDS": "0"}).start()
    yield proc, clock
    proc.stop()


def test_greeting_and_holding_phrases_edited_on_the_sites_page_reach_the_visitor(browser, clocked):
    srv, clock = clocked
    demo = srv.demo
    page = open_panel(browser, srv, demo["admin_email"], demo["admin_password"])
    set_status(page, "online")
    nav_click(page, "nav-sites")
    section = page.get_by_test_id("site-phrases")
    expect(section).to_contain_text("Автоприветствие и удержание")
    seconds = page.get_by_test_id("site-auto-hold-seconds")
    expect(seconds).to_have_value("0")                                       # off by default
    expect(page.get_by_test_id("site-text-ru-auto_hold")).to_have_value("Одну минуточку, уточняю…")
    expect(page.get_by_test_id("site-text-en-auto_hold")).to_have_value("One moment, let me check…")
    expect(page.get_by_test_id("site-text-ru-hold_online")).to_have_value(re.compile("Оператор скоро ответит"))
    page.get_by_test_id("site-text-ru-greeting").fill("Добрый день! Спросите нас о доставке.")
    page.get_by_test_id("site-text-ru-auto_hold").fill("Минутку, проверяю на складе…")
    seconds.fill("20")
    page.get_by_test_id("site-save").click()
    expect(page.get_by_test_id("site-status")).to_have_text("Сохранено")
    page.reload()                                                            # kept on the server
    expect(page.get_by_test_id("site-auto-hold-seconds")).to_have_value("20")
    expect(page.get_by_test_id("site-text-ru-auto_hold")).to_have_value("Минутку, проверяю на складе…")

    shop = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU").new_page()
    shop.goto(srv.url + "/demo/product.html")
    shop.get_by_test_id("widget-launcher").click()
    expect(shop.get_by_test_id("widget-greeting")).to_have_text("Добрый день! Спросите нас о доставке.")
    shop.get_by_test_id("widget-input").fill("Плед «Облако» есть в сером цвете?")
    shop.get_by_test_id("widget-input").press("Enter")
    visitor_msg = shop.locator("[data-testid=widget-message][data-author=visitor][data-state=delivered]")
    expect(visitor_msg).to_have_count(1)
    cid = int(visitor_msg.first.get_attribute("data-conversation-id") or 0)

    boss = admin(srv)
    try:
        assert boss.call("POST", f"/api/v1/conversations/{cid}/take").status_code == 200
    finally:
        boss.close()
    nav_click(page, "nav-chats")
    expect(conversation_item(page, cid)).to_contain_text("Плед «Облако» есть в сером цвете?")
    clock.advance(21)                                                        # 20 s of silence after the take
    line = shop.locator("[data-testid=widget-message][data-author=operator]")
    expect(line).to_contain_text("Минутку, проверяю на складе…", timeout=20_000)
    expect(line).to_have_count(1)
    expect(conversation_item(page, cid)).to_contain_text("Плед «Облако» есть в сером цвете?")  # still the question
    conversation_item(page, cid).click()
    expect(page.get_by_test_id("chat-message").last).to_contain_text("Минутку, проверяю на складе…")
    shop.context.close()
    close_page(page)
