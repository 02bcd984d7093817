"""Bans in a real Chromium (issue 17): the operator bans the visitor's IP from the dialog; the
visitor's widget shows the neutral message; a new browser context (empty storage, fresh token) from
the same address cannot start a chat; the operator lifts the ban on the bans page and a fresh
visitor chats again."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.nav import nav_click
from tests.e2e.shots import shot
from tests.e2e.test_panel import conversation_item, open_panel, set_status
from tests.support import ServerProcess

pytestmark = pytest.mark.e2e




@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    proc = ServerProcess(tmp_path_factory.mktemp("bans") / "data").start()
    yield proc
    proc.stop()


def visitor_page(browser, srv, *, phone: bool = False):
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 800}
    page = browser.new_context(viewport=viewport, locale="ru-RU", is_mobile=phone, has_touch=phone).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(srv.url + "/demo/")
    page.get_by_test_id("widget-launcher").click()
    return page, errors


def test_ban_an_ip_from_the_dialog_then_lift_it_on_the_bans_page(browser, srv):
    demo = srv.demo
    op = open_panel(browser, srv, demo["operator_email"], demo["operator_password"])
    set_status(op, "online")

    shop, shop_errors = visitor_page(browser, srv)
    shop.get_by_test_id("widget-input").fill("Купите рекламу!!!")
    shop.get_by_test_id("widget-input").press("Enter")
    expect(shop.get_by_test_id("widget-message").filter(has_text="Купите рекламу")).to_have_attribute(
        "data-author", "visitor")

    item = op.get_by_test_id("conversation-item")
    expect(item).to_have_count(1)
    cid = int(item.get_attribute("data-conversation-id"))
    conversation_item(op, cid).click()
    op.get_by_test_id("visitor-ban").click()
    expect(op.get_by_test_id("ban-kind")).to_have_value("ip")
    shot(op, "ban-dialog.png")
    # the value is the visitor's address (from its card; left empty, the server takes the visitor's own)
    value = op.get_by_test_id("ban-value").input_value()
    assert value in ("", "127.0.0.1"), value
    op.get_by_test_id("ban-reason").fill("Спам <b>рекламой</b>")
    op.get_by_test_id("ban-expiry").select_option("1d")
    op.get_by_test_id("ban-submit").click()
    expect(op.get_by_test_id("ban-dialog")).to_have_count(0)

    # the visitor's widget: the neutral message, nothing else to type into
    banned = shop.get_by_test_id("widget-banned")
    expect(banned).to_be_visible()
    expect(banned).to_contain_text("Чат сейчас недоступен")
    expect(shop.get_by_test_id("widget-input")).to_be_hidden()
    shot(shop, "widget-banned.png")
    # the conversation closed with a note only operators see
    expect(op.get_by_test_id("dialog-state")).to_contain_text("Диалог закрыт")
    expect(op.get_by_test_id("chat-message").filter(has_text="Посетитель заблокирован")).to_have_count(1)
    expect(shop.get_by_test_id("widget-message").filter(has_text="заблокирован")).to_have_count(0)

    # a new browser context (empty storage, no token) from the same address: refused, on a phone too
    fresh, fresh_errors = visitor_page(browser, srv, phone=True)
    expect(fresh.get_by_test_id("widget-banned")).to_be_visible()
    expect(fresh.get_by_test_id("widget-input")).to_be_hidden()
    shot(fresh, "widget-banned-phone.png")
    fresh.context.close()

    # the bans page: the row says who and why (the reason is text, not markup); lift it
    nav_click(op, "nav-bans")
    row = op.get_by_test_id("ban-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("127.0.0.1")
    expect(row).to_contain_text("Спам <b>рекламой</b>")
    assert int(row.get_attribute("data-ban-id")) > 0
    shot(op, "bans.png")
    # the same page on a phone: the rows are cards, nothing runs off the screen
    phone = open_panel(browser, srv, demo["admin_email"], demo["admin_password"], viewport={"width": 390, "height": 844})
    phone.goto(srv.url + "/panel/bans")
    expect(phone.get_by_test_id("ban-row")).to_have_count(1)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(phone, "bans-phone.png")
    phone.context.close()
    row.get_by_test_id("ban-lift").click()
    expect(op.get_by_test_id("ban-row")).to_have_count(0)
    expect(op.get_by_test_id("ban-empty")).to_be_visible()

    # a fresh visitor from the same address chats again at once
    again, again_errors = visitor_page(browser, srv)
    expect(again.get_by_test_id("widget-banned")).to_be_hidden()
    again.get_by_test_id("widget-input").fill("Здравствуйте, я по делу")
    again.get_by_test_id("widget-input").press("Enter")
    expect(again.get_by_test_id("widget-message").filter(has_text="я по делу")).to_have_attribute("data-seq", "1")
    assert not shop_errors and not fresh_errors and not again_errors
