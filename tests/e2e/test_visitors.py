"""Visitor context in Chromium (issue 10): a visitor lands on the demo shop from a Yandex Direct
ad and walks three pages without opening the chat; the operator's visitors list shows it, the
source "реклама · Яндекс" and the current page changing with each navigation; then the visitor
writes and the operator sees the three pages in order and the source beside the dialog. After
more than 30 minutes (the server's test clock file, no sleeping) the same browser comes back: a
new visit, "повторный визит", and the earlier conversation, which opens its transcript."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.nav import nav_click
from tests.e2e.shots import shot
from tests.e2e.test_panel import close_page, open_panel, set_status
from tests.mail.conftest import ClockFile
from tests.support import ServerProcess

AD_LANDING = "/demo/?utm_source=yandex&utm_medium=cpc&yclid=123"
# a real desktop Chrome (headless Chromium calls itself HeadlessChrome: a bot)
CHROME_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/131.0.0.0 Safari/537.36")


@pytest.fixture(scope="module")
def clock(tmp_path_factory):
    return ClockFile(tmp_path_factory.mktemp("visits-clock") / "clock")


@pytest.fixture(scope="module")
def srv(tmp_path_factory, clock):
    proc = ServerProcess(tmp_path_factory.mktemp("visitors") / "data",
                         env={"FRONTDESK_TEST_CLOCK_FILE": str(clock.path)}).start()
    yield proc
    proc.stop()


def _row(page):
    return page.get_by_test_id("visitor-row")


def test_a_visitor_from_yandex_direct_is_followed_live_and_recognised_when_back(browser, srv, clock):
    demo = srv.demo
    panel = open_panel(browser, srv, demo["operator_email"], demo["operator_password"])
    set_status(panel, "online")
    nav_click(panel, "nav-visitors")
    expect(panel.get_by_test_id("visitors-list")).to_be_attached()
    expect(_row(panel)).to_have_count(0)

    shop_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU", user_agent=CHROME_UA)
    shop = shop_context.new_page()
    shop_errors: list[str] = []
    shop.on("pageerror", lambda exc: shop_errors.append(str(exc)))

    # 1. the ad click: Yandex as the referrer, utm tags and yclid in the landing URL
    shop.goto(srv.url + AD_LANDING, referer="https://yandex.ru/")
    row = _row(panel)
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("visitor-row-source")).to_have_text("реклама · Яндекс")
    expect(row.get_by_test_id("visitor-row-page")).to_contain_text("yclid=123")
    expect(row.get_by_test_id("visitor-row-visit")).to_have_text("1")
    expect(row.get_by_test_id("visitor-row-chat")).to_have_attribute("data-chatting", "0")
    visitor_id = row.get_attribute("data-visitor-id")
    assert visitor_id and visitor_id.isdigit()

    # 2-3. two more pages by clicking the shop's links: the row follows live, same visitor
    shop.locator("header nav a[href='catalog.html']").click()
    shop.wait_for_url(re.compile(r"/demo/catalog\.html$"))
    expect(row.get_by_test_id("visitor-row-page")).to_contain_text("catalog.html")
    shop.locator("a[href='product.html']").first.click()
    shop.wait_for_url(re.compile(r"/demo/product\.html$"))
    expect(row.get_by_test_id("visitor-row-page")).to_contain_text("product.html")
    expect(_row(panel)).to_have_count(1)
    expect(row).to_have_attribute("data-visitor-id", visitor_id)
    expect(row.get_by_test_id("visitor-row-source")).to_have_text("реклама · Яндекс")  # the visit's, not the page's
    # the chat code was never loaded for this
    assert shop.evaluate("() => !!window.FrontdeskWidget.chat") is False
    panel.wait_for_timeout(300)
    shot(panel, "visitors.png")

    # 4. the visitor writes; the operator sees the three pages in order and the source
    shop.get_by_test_id("widget-launcher").click()
    expect(shop.get_by_test_id("widget-window")).to_be_visible()
    shop.get_by_test_id("widget-input").fill("Здравствуйте! Есть ли этот плед в сером цвете?")
    shop.get_by_test_id("widget-input").press("Enter")
    expect(row.get_by_test_id("visitor-row-chat")).to_have_attribute("data-chatting", "1")
    row.click()  # a chatting visitor's row opens the dialog
    expect(panel.get_by_test_id("chat-input")).to_be_visible()
    card = panel.get_by_test_id("visitor-info")
    pages = card.get_by_test_id("visitor-page")
    expect(pages).to_have_count(3)
    expect(pages.nth(0)).to_contain_text("yclid=123")
    expect(pages.nth(1)).to_contain_text("catalog.html")
    expect(pages.nth(2)).to_contain_text("product.html")
    expect(card.get_by_test_id("visitor-source")).to_have_text("реклама · Яндекс")
    expect(card.get_by_test_id("visitor-location")).to_have_text("локальная сеть")
    expect(card.get_by_test_id("visitor-device")).to_have_text("Chrome 131 · Windows 10 · компьютер")
    expect(card.get_by_test_id("visitor-visits")).to_have_text("1-й визит · новый посетитель")
    expect(card.get_by_test_id("visitor-current-page")).to_contain_text("product.html")
    expect(card.get_by_test_id("visitor-previous-conversation")).to_have_count(0)
    order = card.locator("[data-testid^='visitor-field-']").evaluate_all("els => els.map(e => e.dataset.testid)")
    assert order[:8] == ["visitor-field-name", "visitor-field-email", "visitor-field-phone", "visitor-field-page",
                         "visitor-field-source", "visitor-field-location", "visitor-field-device",
                         "visitor-field-visits"], order

    # the current page in the open dialog follows the visitor too
    shop.locator("header nav a[href='contacts.html']").click()
    shop.wait_for_url(re.compile(r"/demo/contacts\.html$"))
    expect(card.get_by_test_id("visitor-current-page")).to_contain_text("contacts.html")
    expect(pages).to_have_count(4)
    expect(pages.nth(3)).to_contain_text("contacts.html")
    panel.set_viewport_size({"width": 1280, "height": 1240})  # the whole card
    panel.wait_for_timeout(300)
    shot(panel, "visitor-context.png")
    panel.set_viewport_size({"width": 1280, "height": 800})

    # 5. the operator closes the dialog; 31 minutes later the same browser comes back
    panel.get_by_test_id("conversation-close").click()
    expect(panel.get_by_test_id("dialog-state")).to_have_attribute("class", re.compile("closed"))
    clock.advance(31 * 60)
    shop.goto(srv.url + "/demo/catalog.html")
    nav_click(panel, "nav-visitors")
    expect(row.get_by_test_id("visitor-row-visit")).to_have_text("2")
    expect(row).to_have_attribute("data-visitor-id", visitor_id)
    expect(row.get_by_test_id("visitor-row-source")).to_have_text("прямой заход")
    expect(shop.get_by_test_id("widget-window")).to_be_visible()  # it was open on the previous page
    shop.get_by_test_id("widget-input").fill("Я снова к вам: оформил заказ?")
    shop.get_by_test_id("widget-input").press("Enter")
    expect(row.get_by_test_id("visitor-row-chat")).to_have_attribute("data-chatting", "1")
    row.click()
    expect(card.get_by_test_id("visitor-visits")).to_have_text("2-й визит · повторный визит")
    expect(card.get_by_test_id("visitor-pages").get_by_test_id("visitor-page")).to_have_count(1)
    earlier = card.get_by_test_id("visitor-previous-conversation")
    expect(earlier).to_have_count(1)
    expect(earlier).to_contain_text("Есть ли этот плед в сером цвете?")
    earlier.click()  # opens the earlier transcript
    expect(panel.locator("[data-testid='chat-message'][data-seq='1']")).to_contain_text(
        "Есть ли этот плед в сером цвете?")

    assert shop_errors == []
    shop_context.close()
    close_page(panel)


def test_each_operator_orders_and_hides_the_visitor_fields_and_the_choice_stays(browser, srv):
    from tests.e2e.test_panel import SyncVisitor, conversation_item

    demo = srv.demo
    visitor = SyncVisitor(srv, page={"url": srv.url + "/demo/catalog.html", "title": "Каталог"})
    conversation_id = visitor.say("Подскажите размеры пледа")["conversation_id"]
    panel = open_panel(browser, srv, demo["operator_email"], demo["operator_password"])
    conversation_item(panel, conversation_id).click()
    card = panel.get_by_test_id("visitor-info")
    fields = card.locator("[data-testid^='visitor-field-']")
    expect(card.get_by_test_id("visitor-field-phone")).to_be_attached()
    expect(fields.first).to_have_attribute("data-testid", "visitor-field-name")

    card.get_by_test_id("visitor-fields-edit").click()
    editor = panel.get_by_test_id("visitor-fields-editor")
    expect(editor).to_be_visible()
    items = editor.get_by_test_id("visitor-fields-item")
    editor.locator("[data-testid='visitor-fields-item'][data-field='phone'] [data-testid='visitor-fields-toggle']").uncheck()
    # drag "Визиты" above everything
    editor.locator("[data-testid='visitor-fields-item'][data-field='visits']").drag_to(items.first,
                                                                                      target_position={"x": 20, "y": 2})
    expect(items.first).to_have_attribute("data-field", "visits")
    editor.get_by_test_id("visitor-fields-save").click()
    expect(editor).to_have_count(0)
    expect(fields.first).to_have_attribute("data-testid", "visitor-field-visits")
    expect(card.get_by_test_id("visitor-field-phone")).to_have_count(0)

    panel.reload()  # saved on the server, for this operator
    conversation_item(panel, conversation_id).click()
    expect(fields.first).to_have_attribute("data-testid", "visitor-field-visits")
    expect(card.get_by_test_id("visitor-field-phone")).to_have_count(0)
    expect(card.get_by_test_id("visitor-field-name")).to_be_attached()
    order = fields.evaluate_all("els => els.map(e => e.dataset.testid)")
    assert order[:3] == ["visitor-field-visits", "visitor-field-name", "visitor-field-email"], order
    visitor.close()
    close_page(panel)
