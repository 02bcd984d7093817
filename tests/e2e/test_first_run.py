"""The first ten minutes of a new user (issue 14): `serve --demo` as a real first start, the start page at `/`,
and what the panel says to an operator who is not online."""
from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.test_panel import Desk, close_page, open_panel
from tests.e2e.test_panel_phone import save_shot
from tests.support import ServerProcess, admin

pytestmark = pytest.mark.e2e

SHOP_ACCENT = "rgb(179, 90, 36)"   # static/demo/shop.css: the shop's buttons, logo and prices (#b35a24)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """`frontdesk serve --demo` exactly as a new user starts it: the demo accounts start online."""
    proc = ServerProcess(tmp_path_factory.mktemp("first-run") / "data", env={"FRONTDESK_DEMO_ONLINE": "1"}).start()
    yield proc
    proc.stop()


def test_demo_first_start_the_shop_chat_works_at_once_and_looks_like_the_shop(browser, first_run):
    # the console says where the installation lives, and that it is new
    log = first_run.log()
    assert f"frontdesk data directory: {first_run.data_dir.resolve()}" in log
    assert "a new installation was created there" in log
    assert "both start online" in log

    # a visitor of the demo shop gets the live chat (not the offline form), in the shop's colour
    shop = browser.new_context(viewport={"width": 1366, "height": 800}, locale="ru-RU").new_page()
    errors: list[str] = []
    shop.on("pageerror", lambda exc: errors.append(str(exc)))
    shop.goto(first_run.url + "/demo/product.html")
    launcher = shop.get_by_test_id("widget-launcher")
    expect(launcher).to_be_visible()
    assert shop.locator("a.btn").first.evaluate("e => getComputedStyle(e).backgroundColor") == SHOP_ACCENT
    assert launcher.evaluate("e => getComputedStyle(e).backgroundColor") == SHOP_ACCENT
    launcher.click()
    expect(shop.get_by_test_id("widget-input")).to_be_visible()
    expect(shop.get_by_test_id("widget-offline-form")).to_be_hidden()

    # the demo operator logs in: online from the first screen, and the visitor's question is offered
    demo = first_run.demo
    panel = open_panel(browser, first_run, demo["operator_email"], demo["operator_password"],
                       viewport={"width": 1366, "height": 800})
    expect(panel.get_by_test_id("operator-status")).to_have_value("online")
    expect(panel.get_by_test_id("status-hint")).to_be_hidden()
    shop.get_by_test_id("widget-input").fill("Здравствуйте! Плед «Облако» есть в сером цвете?")
    shop.get_by_test_id("widget-input").press("Enter")
    item = panel.get_by_test_id("conversation-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Уютный дом")                      # the site is named after the shop
    expect(panel.get_by_test_id("offer-toast")).to_be_visible()
    save_shot(panel, "first-run.png")

    # and the demo works both ways: the answer reaches the shop, the next visitor is offered too
    panel.get_by_test_id("offer-take").click()
    expect(panel.get_by_test_id("dialog-state")).to_contain_text("Ваш диалог")
    panel.get_by_test_id("chat-input").fill("Здравствуйте! Да, серый есть — отправим сегодня.")
    panel.get_by_test_id("chat-send").click()
    expect(shop.locator("[data-testid='widget-message'][data-author='operator']")).to_contain_text("серый есть")
    other = browser.new_context(viewport={"width": 1366, "height": 800}, locale="ru-RU").new_page()
    other.goto(first_run.url + "/demo/cart.html")
    other.get_by_test_id("widget-launcher").click()
    other.get_by_test_id("widget-input").fill("Можно оплатить заказ при получении?")
    other.get_by_test_id("widget-input").press("Enter")
    expect(item).to_have_count(2)
    expect(panel.get_by_test_id("offer-toast")).to_be_visible()
    shop.get_by_test_id("widget-input").press_sequentially("Отлично, тогда оформляю два")
    expect(panel.get_by_test_id("typing-preview")).to_contain_text("Отлично, тогда оформляю два")
    save_shot(panel, "panel.png")
    assert errors == []
    other.context.close()
    shop.context.close()
    close_page(panel)

    a = admin(first_run)
    try:
        site = next(s for s in a.call("GET", "/api/v1/sites").json()["sites"] if s["site_key"] == demo["site_key"])
    finally:
        a.close()
    assert (site["name"], site["widget"]["color"]) == ("Уютный дом", "#b35a24")


def test_a_second_start_is_not_a_new_installation_and_keeps_the_accounts(first_run):
    before = first_run.demo
    first_run.restart(kill=False)
    log = first_run.log()
    assert log.count("a new installation was created there") == 1      # the log holds both starts
    assert log.count(f"frontdesk data directory: {first_run.data_dir.resolve()}") == 2
    after = first_run.demo
    assert after["site_key"] == before["site_key"]
    assert after["admin_password"] == before["admin_password"]
    r = httpx.post(first_run.url + "/api/v1/auth/login",
                   json={"email": after["admin_email"], "password": after["admin_password"]})
    assert r.status_code == 200


def test_offline_operator_is_told_what_visitors_see_and_goes_online_in_one_click(browser, sqlite_server):
    desk = Desk(sqlite_server, "Ольга")                 # a new operator starts offline
    config = f"/api/v1/widget/config?site={desk.site_key}"
    assert httpx.get(sqlite_server.url + config).json()["available"] is False
    page = open_panel(browser, sqlite_server, desk.email, desk.password)
    hint = page.get_by_test_id("status-hint")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("посетители видят форму обратной связи вместо чата")
    go = page.get_by_test_id("go-online")
    expect(go).to_have_text("Выйти в сеть")
    go.click()
    expect(page.get_by_test_id("operator-status")).to_have_value("online")
    expect(hint).to_be_hidden()
    assert httpx.get(sqlite_server.url + config).json()["available"] is True   # the site's visitors get the chat

    page.get_by_test_id("operator-status").select_option("away")
    expect(hint).to_contain_text("Вы отошли")
    expect(go).to_have_text("Вернуться в сеть")
    go.click()
    expect(hint).to_be_hidden()
    close_page(page)


def test_the_start_page_says_what_this_server_is_and_where_to_go(browser, sqlite_server):
    page = browser.new_context(locale="ru-RU").new_page()
    page.goto(sqlite_server.url + "/")
    expect(page.locator("h1")).to_have_text("frontdesk — онлайн-консультант")
    expect(page.get_by_test_id("start-demo")).to_have_text("Демо-магазин «Уютный дом»")   # served with --demo
    expect(page.locator("#email")).to_have_text("Настройка e-mail")
    page.get_by_test_id("start-language").click()
    expect(page.locator("h1")).to_have_text("frontdesk — live chat")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_test_id("start-panel").click()
    page.wait_for_url(re.compile(r"/panel/login"))
    expect(page.get_by_test_id("login-submit")).to_be_visible()
    page.context.close()
