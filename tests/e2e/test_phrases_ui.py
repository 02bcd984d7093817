"""Quick phrases and spell check in the operator panel (issue 9), in a real Chromium against a real
server with the spell checker on: the operator types "/дост", picks the phrase with the keyboard,
edits it and sends; Alt+1 inserts the bound phrase; a misspelled word is underlined and replaced
from a suggestion; the Phrases page exports and imports CSV; the same in English.
FRONTDESK_SCREENSHOTS=docs/img writes docs/img/phrases.png and docs/img/spellcheck.png."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.nav import nav_click
from tests.e2e.shots import shot
from tests.e2e.test_panel import (
    Desk,
    _set_visitor_contacts,
    close_page,
    conversation_item,
    open_panel,
    set_status,
    wait_connected,
)
from tests.support import ServerProcess

pytestmark = pytest.mark.e2e
SPELL_READY_MS = 120_000  # the dictionaries load in a thread at start (≈ 4 s of CPU; longer on a busy machine)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    proc = ServerProcess(tmp_path_factory.mktemp("phrases") / "data", env={"FRONTDESK_SPELLCHECK": "1"}).start()
    yield proc
    proc.stop()




def _new_phrase(page: Page, key: str, title: str, text: str, group: str = "") -> None:
    page.get_by_test_id("phrase-new").click()
    page.get_by_test_id("phrase-key").fill(key)
    page.get_by_test_id("phrase-title").fill(title)
    page.get_by_test_id("phrase-text").fill(text)
    page.get_by_test_id("phrase-group").fill(group)
    page.get_by_test_id("phrase-save").click()
    expect(page.locator("[data-testid='phrase-item']", has_text=title)).to_be_visible()


def _bind(page: Page, title: str, digit: int) -> None:
    item = page.locator("[data-testid='phrase-item']", has_text=title)
    with page.expect_response(lambda r: "/phrases/hotkeys/" in r.url):
        item.get_by_test_id("phrase-hotkey").select_option(str(digit))
    expect(page.locator("[data-testid='phrase-item']", has_text=title).get_by_test_id("phrase-hotkey")).to_have_value(str(digit))


def _open_dialog(page: Page, cid: int) -> None:
    nav_click(page, "nav-chats")
    conversation_item(page, cid).click()
    expect(page.get_by_test_id("chat-input")).to_be_enabled()


def _pick_with_keyboard(page: Page, phrase_title: str) -> None:
    box = page.get_by_test_id("phrase-suggestions")
    expect(box).to_be_visible()
    items = page.get_by_test_id("phrase-suggestion")
    expect(items.first).to_be_visible()
    titles = [t.strip() for t in items.locator(".suggest__title").all_inner_texts()]
    assert phrase_title in titles, titles
    for _ in range(titles.index(phrase_title)):
        page.keyboard.press("ArrowDown")
    expect(page.locator(".suggest__item--on .suggest__title")).to_have_text(phrase_title)
    page.keyboard.press("Enter")
    expect(box).to_be_hidden()


def _spell_fix(page: Page, typo: str, correction: str) -> None:
    mark = page.locator(f"[data-testid='spell-error'][data-word='{typo}']")
    expect(mark).to_have_count(1, timeout=SPELL_READY_MS)
    box = mark.bounding_box()
    assert box and box["width"] > 5
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # the textarea is on top
    menu = page.get_by_test_id("spell-menu")
    expect(menu).to_be_visible()
    expect(page.get_by_test_id("spell-suggestion").first).to_be_visible()
    assert correction in page.get_by_test_id("spell-suggestion").all_inner_texts()


def test_phrases_suggested_picked_edited_sent_hotkey_and_spell_check_ru(browser, srv):
    desk = Desk(srv, "Анна")
    page = open_panel(browser, srv, desk.email, desk.password)
    set_status(page, "online")
    visitor = desk.visitor(srv, page={"url": "https://shop.example/p/xr500", "title": "Кронштейн XR-500"})
    cid = visitor.say("Здравствуйте! Сколько стоит доставка?")["conversation_id"]
    _set_visitor_contacts(srv, visitor, name="Пётр", email="petr@example.com")

    # the Phrases page: three phrases, one bound to Alt+1
    nav_click(page, "nav-phrases")
    expect(page.get_by_role("heading", name="Быстрые фразы")).to_be_visible()
    _new_phrase(page, "доставка", "Доставка курьером", "{visitor_name}, доставка курьером по городу — 300 ₽.", "Доставка")
    _new_phrase(page, "доставка-регионы", "Доставка в регионы", "Доставка в регионы — СДЭК, 3–5 дней.", "Доставка")
    _new_phrase(page, "привет", "Приветствие", "Здравствуйте, {visitor_name}! Меня зовут {operator_name}, вы смотрите «{page_title}».")
    _bind(page, "Приветствие", 1)
    expect(page.get_by_test_id("phrase-list-group")).to_have_count(2)  # "Доставка" and no group
    shot(page, "phrases-page.png")
    page.get_by_test_id("phrase-search").fill("регион")
    expect(page.get_by_test_id("phrase-item")).to_have_count(1)
    page.get_by_test_id("phrase-search").fill("")

    # CSV: export, import the same file again — nothing changes
    with page.expect_download() as dl:
        page.get_by_test_id("phrase-export").click()
    csv_path = dl.value.path()
    exported = Path(csv_path).read_text(encoding="utf-8-sig")
    assert exported.startswith("id,key,title,text,group") and "Доставка курьером" in exported
    page.get_by_test_id("phrase-import-file").set_input_files(csv_path)
    expect(page.locator(".toast").last).to_contain_text("добавлено 0, изменено 0, без изменений 3")
    expect(page.get_by_test_id("phrase-item")).to_have_count(3)

    # "/дост" in the chat input: suggestions, picked with the keyboard, edited, sent
    page.reload()  # the visitor's name was stored behind the panel's back: show it
    wait_connected(page)
    _open_dialog(page, cid)
    chat = page.get_by_test_id("chat-input")
    chat.press_sequentially("/дост")
    _pick_with_keyboard(page, "Доставка курьером")
    expect(chat).to_have_value("Пётр, доставка курьером по городу — 300 ₽.")
    chat.press("End")
    chat.press_sequentially(" Привезём завтра.")
    chat.press("Enter")
    visitor.wait_text("Пётр, доставка курьером по городу — 300 ₽. Привезём завтра.")
    expect(chat).to_have_value("")

    # the list open, for the screenshot; Esc closes it and keeps the text
    chat.press_sequentially("/дост")
    expect(page.get_by_test_id("phrase-suggestion")).to_have_count(2)
    page.get_by_test_id("phrase-suggestions").wait_for()
    page.evaluate("() => document.querySelectorAll('.toast').forEach((e) => e.remove())")
    shot(page, "phrases.png")
    chat.press("Escape")
    expect(page.get_by_test_id("phrase-suggestions")).to_be_hidden()
    expect(chat).to_have_value("/дост")
    expect(chat).to_be_focused()
    # a click picks too
    chat.fill("")
    chat.press_sequentially("регион")
    expect(page.get_by_test_id("phrase-suggestion")).to_have_count(1)
    expect(page.locator(".suggest__item--on")).to_have_count(0)  # plain words: Enter would still send
    page.get_by_test_id("phrase-suggestion").first.click()
    expect(chat).to_have_value("Доставка в регионы — СДЭК, 3–5 дней.")

    # Alt+1: the bound phrase at the caret, filled from the dialog; shown in the "?" overlay
    chat.fill("")
    chat.press("Alt+1")
    expect(chat).to_have_value("Здравствуйте, Пётр! Меня зовут Анна, вы смотрите «Кронштейн XR-500».")
    expect(conversation_item(page, cid)).to_be_visible()  # and no tab switch happened
    chat.fill("")
    page.get_by_test_id("dialog-title").click()
    page.keyboard.press("?")
    expect(page.get_by_test_id("help-overlay")).to_contain_text("Вставить фразу, назначенную на цифру")
    page.keyboard.press("Escape")

    # spell check: underlined, a suggestion replaces it
    chat.click()
    chat.press_sequentially("Спасибо за заказ, пожалуста подождите минуту")
    _spell_fix(page, "пожалуста", "пожалуйста")
    shot(page, "spellcheck.png")
    page.get_by_test_id("spell-suggestion").filter(has_text="пожалуйста").first.click()
    expect(chat).to_have_value("Спасибо за заказ, пожалуйста подождите минуту")
    expect(page.get_by_test_id("spell-error")).to_have_count(0)
    # "add to my dictionary": a brand name stops being underlined
    chat.fill("")
    chat.press_sequentially("Наш магазин Ромашкофф работает до восьми")
    mark = page.locator("[data-testid='spell-error'][data-word='Ромашкофф']")
    expect(mark).to_have_count(1, timeout=SPELL_READY_MS)
    box = mark.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.get_by_test_id("spell-add").click()
    expect(page.get_by_test_id("spell-error")).to_have_count(0)
    chat.press("End")
    final = "Наш магазин Ромашкофф работает до восьми и Ромашкофф ждёт"
    with page.expect_response(lambda r: r.url.endswith("/api/v1/spellcheck") and final in (r.request.post_data or ""),
                              timeout=SPELL_READY_MS) as checked:
        chat.press_sequentially(" и Ромашкофф ждёт")
    answer = checked.value.json()
    assert answer["ready"] and answer["issues"] == []               # the server's answer for this very text …
    expect(chat).to_have_attribute("data-spell-checked", "true")    # … is drawn:
    expect(page.get_by_test_id("spell-error")).to_have_count(0)     # nothing underlined
    visitor.close()
    close_page(page)


def test_phrases_and_spell_check_in_english(browser, srv):
    desk = Desk(srv, "John")
    page = open_panel(browser, srv, desk.email, desk.password)
    page.evaluate("() => fetch('/api/v1/me', {method: 'PATCH', headers: {'Content-Type': 'application/json', "
                  "'X-CSRF-Token': document.cookie.match(/fd_csrf=([^;]+)/)[1]}, body: JSON.stringify({language: 'en'})})")
    page.reload()
    expect(page.get_by_test_id("nav-phrases")).to_have_text("Phrases")
    visitor = desk.visitor(srv)
    cid = visitor.say("Hi, where is my order?")["conversation_id"]
    nav_click(page, "nav-phrases")
    expect(page.get_by_role("heading", name="Quick phrases")).to_be_visible()
    _new_phrase(page, "order", "Order status", "Hello {visitor_name}, your order is on its way. {operator_name}")
    _open_dialog(page, cid)
    chat = page.get_by_test_id("chat-input")
    chat.press_sequentially("/ord")
    _pick_with_keyboard(page, "Order status")
    expect(chat).to_have_value("Hello, your order is on its way. John")
    chat.fill("")
    chat.press_sequentially("You will recieve it tomorrow")
    _spell_fix(page, "recieve", "receive")
    page.get_by_test_id("spell-suggestion").filter(has_text="receive").first.click()
    expect(chat).to_have_value("You will receive it tomorrow")
    chat.press("Enter")
    visitor.wait_text("You will receive it tomorrow")
    # the warning before sending, in English
    _warn_on(page)
    _open_dialog(page, cid)
    chat.press_sequentially("See you tommorow")
    expect(page.locator("[data-testid='spell-error'][data-word='tommorow']")).to_have_count(1, timeout=SPELL_READY_MS)
    chat.press("Enter")
    expect(page.get_by_test_id("spell-warn")).to_contain_text('Possible misspellings: "tommorow". Fix them or press Enter again')
    chat.press("Enter")
    visitor.wait_text("See you tommorow")
    visitor.close()
    close_page(page)


def _warn_on(page: Page) -> None:
    nav_click(page, "nav-phrases")
    toggle = page.get_by_test_id("spell-warn-toggle")
    expect(toggle).not_to_be_checked()  # off by default
    with page.expect_response(lambda r: r.url.endswith("/api/v1/phrases/settings") and r.request.method == "PUT"):
        toggle.check()


def test_warn_before_sending_underlined_words_asks_once(browser, srv):
    """The operator's setting (Phrases page): Enter on a reply with underlined words shows a warning
    naming them and sends nothing; a second Enter sends it as it is. Without underlines Enter sends."""
    desk = Desk(srv, "Вера")
    page = open_panel(browser, srv, desk.email, desk.password)
    set_status(page, "online")
    visitor = desk.visitor(srv)
    cid = visitor.say("Добрый день! Когда привезёте заказ?")["conversation_id"]
    _warn_on(page)
    page.reload()  # the setting is kept on the server
    wait_connected(page)
    expect(page.get_by_test_id("spell-warn-toggle")).to_be_checked()
    _open_dialog(page, cid)
    chat = page.get_by_test_id("chat-input")
    text = "Привезём завтра, пожалуста ожидайте звонка"
    chat.press_sequentially(text)
    expect(page.locator("[data-testid='spell-error'][data-word='пожалуста']")).to_have_count(1, timeout=SPELL_READY_MS)
    chat.press("Enter")
    warn = page.get_by_test_id("spell-warn")
    expect(warn).to_be_visible()
    expect(warn).to_contain_text("«пожалуста»")
    expect(warn).to_contain_text("Enter ещё раз")
    expect(chat).to_have_value(text)  # nothing was sent: the input is cleared only by a send
    shot(page, "spell-warn.png")
    chat.press("Enter")               # the second Enter sends it as it is
    expect(chat).to_have_value("")
    expect(warn).to_be_hidden()
    visitor.wait_text(text)
    assert [m["text"] for m in visitor.messages.values()].count(text) == 1
    # a reply without underlined words goes at the first Enter
    with page.expect_response(lambda r: r.url.endswith("/api/v1/spellcheck") and "Позвоним" in (r.request.post_data or "")):
        chat.press_sequentially("Позвоним за час до приезда")
    expect(chat).to_have_attribute("data-spell-checked", "true")
    chat.press("Enter")
    expect(chat).to_have_value("")
    visitor.wait_text("Позвоним за час до приезда")
    # editing the text after the warning asks again for the new text
    chat.press_sequentially("Досвидания")
    expect(page.get_by_test_id("spell-error")).to_have_count(1, timeout=SPELL_READY_MS)
    chat.press("Enter")
    expect(warn).to_be_visible()
    chat.press_sequentially(" друзя")
    expect(warn).to_be_hidden()
    expect(page.locator("[data-testid='spell-error'][data-word='друзя']")).to_have_count(1, timeout=SPELL_READY_MS)
    chat.press("Enter")
    expect(warn).to_be_visible()
    expect(chat).to_have_value("Досвидания друзя")
    visitor.close()
    close_page(page)
