"""The operator panel on a phone (390 × 844, issue 14): a menu drawer with sign-out, the list, the dialog
and the visitor info as screens with a way back, tables as cards, the composer above the keyboard.

Set FRONTDESK_SCREENSHOTS=docs/img to (re)write the README's screenshots while the tests run."""
from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.nav import nav_click, reveal_nav
from tests.e2e.test_panel import close_page, conversation_item, wait_connected
from tests.support import OperatorClient, ServerProcess

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
KEYBOARD_OPEN = {"width": 390, "height": 480}   # what is left of 844 px above an on-screen keyboard


def save_shot(page: Page, name: str) -> None:
    """A screenshot for the docs, only when FRONTDESK_SCREENSHOTS names a folder."""
    folder = os.environ.get("FRONTDESK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(250)   # let transitions end: a picture, not an assertion
        page.screenshot(path=str(Path(folder) / name))


def phone_panel(browser, server: ServerProcess, email: str, password: str) -> Page:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2, locale="ru-RU")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
    page.goto(server.url + "/panel/")
    page.wait_for_url(re.compile(r"/panel/login"))
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    wait_connected(page)
    return page


def shop_visitor(browser, server: ServerProcess, path: str, text: str) -> Page:
    """A person on the demo shop writing through the real widget; returns their page."""
    page = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU").new_page()
    page.goto(server.url + path)
    page.get_by_test_id("widget-launcher").click()
    page.get_by_test_id("widget-input").fill(text)
    page.get_by_test_id("widget-input").press("Enter")
    page.wait_for_function("() => document.getElementById('frontdesk-widget').shadowRoot"
                           ".querySelector('[data-author=visitor][data-state=delivered]')")
    return page


def settle(page: Page) -> None:
    """Until the drawer's slide (a CSS transition) has ended: sizes and places are final then."""
    page.evaluate("() => Promise.all(document.getAnimations().map(a => a.finished.catch(() => null)))")


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px screen"


def inside_screen(page: Page, locator) -> None:
    """The element is inside the viewport — once the page has followed a viewport change (the panel
    sets its height from the visual viewport's resize event, a frame after the change)."""
    with contextlib.suppress(PlaywrightTimeoutError):  # the assertions below say where it is
        page.wait_for_function(
            "el => { const r = el.getBoundingClientRect(); return r.left >= 0 && r.top >= 0"
            " && r.right <= innerWidth + 0.5 && r.bottom <= innerHeight + 0.5; }",
            arg=locator.element_handle(), timeout=5_000)
    box = locator.bounding_box()
    viewport = page.viewport_size
    assert box is not None, "not rendered"
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 0.5, box
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"] + 0.5, box


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    proc = ServerProcess(tmp_path_factory.mktemp("panel-phone") / "data").start()
    yield proc
    proc.stop()


def test_the_menu_is_a_drawer_that_reaches_every_page_and_sign_out(browser, srv):
    demo = srv.demo
    page = phone_panel(browser, srv, demo["admin_email"], demo["admin_password"])
    status = page.get_by_test_id("operator-status")
    inside_screen(page, status)                                 # the status stays in the bar
    expect(page.get_by_test_id("nav-history")).to_be_hidden()   # the menu is closed
    expect(page.get_by_test_id("logout")).to_be_hidden()
    no_sideways_scroll(page)

    toggle = page.get_by_test_id("menu-toggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    settle(page)
    for testid in ("nav-chats", "nav-history", "nav-sites", "nav-operators", "nav-profile", "logout"):
        expect(page.get_by_test_id(testid)).to_be_visible()
        inside_screen(page, page.get_by_test_id(testid))
    page.keyboard.press("Escape")                               # Esc closes it
    expect(page.get_by_test_id("logout")).to_be_hidden()

    toggle.click()
    page.get_by_test_id("nav-operators").click()                # a page: the drawer closes behind it
    expect(page.get_by_test_id("operators-table")).to_be_visible()
    expect(page.get_by_test_id("nav-operators")).to_be_hidden()
    no_sideways_scroll(page)

    toggle.click()
    page.get_by_test_id("logout").click()
    page.wait_for_url(re.compile(r"/panel/login"))
    close_page(page)


def test_list_dialog_and_visitor_info_are_screens_with_a_way_back_and_tables_are_cards(browser, srv):
    demo = srv.demo
    anna = OperatorClient(srv, demo["operator_email"], demo["operator_password"])
    anna.set_status("online")                       # someone is online: the shop's visitors get the chat
    anna.close()
    first = shop_visitor(browser, srv, "/demo/product.html", "Здравствуйте! Плед «Облако» есть в сером цвете?")
    second = shop_visitor(browser, srv, "/demo/cart.html", "Можно оплатить заказ при получении?")
    page = phone_panel(browser, srv, demo["operator_email"], demo["operator_password"])
    expect(page.get_by_test_id("operator-status")).to_have_value("online")
    items = page.get_by_test_id("conversation-item")
    expect(items).to_have_count(2)
    expect(page.get_by_test_id("chat-input")).to_be_hidden()            # the list is the whole screen
    no_sideways_scroll(page)
    save_shot(page, "panel-phone-list.png")

    # list → dialog: the header shows the whole name, with a way back
    items.first.click()
    title = page.get_by_test_id("dialog-title")
    expect(title).to_be_visible()
    expect(items.first).to_be_hidden()
    assert title.evaluate("e => e.scrollWidth <= e.clientWidth"), "the visitor's name is cut"
    page.get_by_test_id("conversation-take").click()
    expect(page.get_by_test_id("dialog-state")).to_contain_text("Ваш диалог")
    page.get_by_test_id("chat-input").fill("Здравствуйте! Да, серый есть — 2 штуки на складе.")
    page.get_by_test_id("chat-send").click()
    expect(page.locator("[data-testid='chat-message'][data-author='operator']")).to_have_count(1)
    inside_screen(page, page.get_by_test_id("chat-send"))
    no_sideways_scroll(page)
    save_shot(page, "panel-phone-dialog.png")

    # the on-screen keyboard takes the lower part of the screen: the composer moves up above it
    page.get_by_test_id("chat-input").focus()
    page.set_viewport_size(KEYBOARD_OPEN)
    inside_screen(page, page.get_by_test_id("chat-input"))
    inside_screen(page, page.get_by_test_id("chat-send"))
    inside_screen(page, page.get_by_test_id("dialog-title"))
    page.set_viewport_size(PHONE)

    # dialog → visitor info: a screen of its own, and back to the dialog
    page.get_by_test_id("dialog-info").click()
    info = page.get_by_test_id("visitor-info")
    expect(info.get_by_test_id("visitor-page-title")).to_have_text(re.compile("Уютный дом"))
    box = info.bounding_box()
    assert box and box["x"] == 0 and box["width"] == PHONE["width"]    # the whole width: not a sliver
    expect(page.get_by_test_id("visitor-back")).to_have_text("К диалогу")
    save_shot(page, "panel-phone-visitor.png")
    page.get_by_test_id("visitor-back").click()
    expect(info).to_be_hidden()
    expect(page.get_by_test_id("chat-input")).to_be_visible()

    # dialog → list
    page.get_by_test_id("conversation-close").click()
    expect(page.get_by_test_id("dialog-state")).to_have_text(re.compile("Диалог закрыт"))
    page.get_by_role("button", name="Назад").click()
    expect(page.get_by_test_id("chat-input")).to_be_hidden()
    expect(items.first).to_be_visible()
    items.first.click()                                          # the other chat: answered and closed too
    page.get_by_test_id("conversation-take").click()
    page.get_by_test_id("chat-input").fill("Да, картой или наличными курьеру.")
    page.get_by_test_id("chat-send").click()
    page.get_by_test_id("conversation-close").click()
    expect(page.get_by_test_id("dialog-state")).to_have_text(re.compile("Диалог закрыт"))
    page.get_by_role("button", name="Назад").click()

    # History: the table becomes one card per conversation, nothing to scroll sideways
    page.get_by_test_id("menu-toggle").click()
    page.get_by_test_id("nav-history").click()
    rows = page.get_by_test_id("history-item")
    expect(rows).to_have_count(2)
    row = rows.last
    assert row.evaluate("e => getComputedStyle(e).display") == "block"
    expect(row.locator("td[data-label='Закрыт']")).to_be_visible()
    inside_screen(page, row)
    no_sideways_scroll(page)
    save_shot(page, "panel-phone-table.png")
    row.click()                                                  # a card opens its conversation
    expect(page.get_by_test_id("dialog-title")).to_be_visible()
    expect(page.get_by_test_id("conversation-reopen")).to_be_visible()

    for p in (first, second):
        p.context.close()
    close_page(page)


def test_operators_table_is_cards_on_a_phone(browser, srv):
    demo = srv.demo
    page = phone_panel(browser, srv, demo["admin_email"], demo["admin_password"])
    page.goto(srv.url + "/panel/operators")
    wait_connected(page)
    rows = page.get_by_test_id("operator-row")
    expect(rows).to_have_count(2)
    for i in range(2):
        assert rows.nth(i).evaluate("e => getComputedStyle(e).display") == "block"
        inside_screen(page, rows.nth(i).get_by_test_id("operator-reset"))
    no_sideways_scroll(page)
    close_page(page)


def test_a_closed_conversation_still_has_its_dialog_on_a_phone(browser, srv):
    """Opening a conversation from the list and leaving it keeps the list usable (no stuck screens)."""
    demo = srv.demo
    visitor = shop_visitor(browser, srv, "/demo/", "Есть доставка в Казань?")
    page = phone_panel(browser, srv, demo["operator_email"], demo["operator_password"])
    cid = int(visitor.evaluate("() => document.getElementById('frontdesk-widget').shadowRoot"
                               ".querySelector('[data-conversation-id]').dataset.conversationId"))
    conversation_item(page, cid).click()
    page.get_by_test_id("dialog-info").click()
    expect(page.get_by_test_id("visitor-info")).to_be_visible()
    page.keyboard.press("Escape")                                # Esc leaves the card first …
    expect(page.get_by_test_id("visitor-back")).to_be_hidden()
    expect(page.get_by_test_id("dialog-title")).to_be_visible()
    page.keyboard.press("Escape")                                # … then the dialog
    expect(conversation_item(page, cid)).to_be_visible()
    visitor.context.close()
    close_page(page)


ADMIN_PAGES = ("nav-chats", "nav-phrases", "nav-visitors", "nav-history", "nav-reports", "nav-invitations", "nav-sites",
               "nav-operators", "nav-bans", "nav-profile")


def _admin_at(browser, srv, width: int) -> Page:
    demo = srv.demo
    context = browser.new_context(viewport={"width": width, "height": 700}, locale="ru-RU")
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
    page.goto(srv.url + "/panel/login")
    page.get_by_test_id("login-email").fill(demo["admin_email"])
    page.get_by_test_id("login-password").fill(demo["admin_password"])
    page.get_by_test_id("login-submit").click()
    wait_connected(page)
    return page


def _not_cut_off(page: Page, testid: str, width: int) -> None:
    link = page.get_by_test_id(testid)
    expect(link).to_be_visible()
    inside_screen(page, link)
    clipped = link.evaluate("e => { const r = e.getBoundingClientRect(), p = e.parentElement.getBoundingClientRect();"
                            " return r.left < p.left - 0.5 || r.right > p.right + 0.5; }")
    assert not clipped, f"{testid} is cut off at {width} px"


@pytest.mark.parametrize("width", [800, 1024, 1179, 1180, 1280, 1440, 1920])
def test_every_page_and_sign_out_are_reachable_at_any_width(browser, srv, width):
    """The admin's pages: in the row as far as they fit, the rest under "Ещё" (wide screens) or in
    the drawer (below 1180 px) — each visible, inside the screen and never clipped; the bar never scrolls."""
    page = _admin_at(browser, srv, width)
    bar = page.locator(".topbar")
    assert bar.evaluate("e => e.scrollWidth <= e.clientWidth"), f"the top bar overflows at {width} px"
    for testid in ADMIN_PAGES:
        reveal_nav(page, testid)
        _not_cut_off(page, testid, width)
    toggle = page.get_by_test_id("menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
        settle(page)
    _not_cut_off(page, "logout", width)
    inside_screen(page, page.get_by_test_id("operator-status"))
    nav_click(page, "nav-operators")                      # from wherever it is, the page opens
    expect(page.get_by_test_id("operators-table")).to_be_visible()
    expect(page.get_by_test_id("nav-more-list")).to_be_hidden()  # the list closed behind it
    if width >= 1180 and not page.get_by_test_id("nav-operators").is_visible():
        expect(page.get_by_test_id("nav-more")).to_have_class(re.compile("nav-more__button--on"))  # you are here
    assert not page.errors, page.errors  # type: ignore[attr-defined]
    close_page(page)


@pytest.mark.parametrize("width", [1180, 1440])
def test_any_number_of_pages_fits_in_the_wide_bar(browser, srv, width):
    """Other pages are coming (invitations, bans, departments…): with eight more, the row keeps what fits
    and every page is one click away under "Ещё", in order; narrower and wider again re-fits it."""
    page = _admin_at(browser, srv, width)
    page.evaluate("""() => {
      const p = window.frontdeskPanel.panel;
      for (let i = 1; i <= 8; i++) {
        const a = document.createElement('a');
        a.className = 'nav__link'; a.href = `/panel/extra${i}`; a.dataset.testid = `nav-extra${i}`;
        a.textContent = `Длинный пункт меню ${i}`;
        p.navLinks.push(a);
      }
      p._fitNav();
    }""")
    bar = page.locator(".topbar")
    assert bar.evaluate("e => e.scrollWidth <= e.clientWidth")
    row = page.locator(".nav .nav__link").evaluate_all("els => els.map(e => e.dataset.testid)")
    listed = page.locator(".nav-more__list .nav__link").evaluate_all("els => els.map(e => e.dataset.testid)")
    print(f"\n{width} px: row {row}, under Ещё {listed}")
    assert row + listed == [*ADMIN_PAGES, *(f"nav-extra{i}" for i in range(1, 9))]  # the order kept
    assert row[0] == "nav-chats" and listed
    for testid in ("nav-extra8", "nav-sites", "nav-chats"):
        reveal_nav(page, testid)
        _not_cut_off(page, testid, width)
    page.set_viewport_size({"width": 1920, "height": 700})
    page.wait_for_function("() => document.querySelectorAll('.nav .nav__link').length > %d" % len(row))
    assert bar.evaluate("e => e.scrollWidth <= e.clientWidth")
    close_page(page)
