"""The panel's small things a new user trips over (issue 14): the working-hours card with 24×7, the profile
photo, the server's error codes in the operator's language, the Operators page, note mode, the language
picked on the login page, the empty visitor card, the e-mail warning."""
from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.nav import nav_click
from tests.e2e.test_panel import Desk, close_page, conversation_item, open_panel, wait_connected
from tests.support import OperatorClient, ServerProcess

pytestmark = pytest.mark.e2e

SRC = Path(__file__).resolve().parents[2] / "src" / "frontdesk"


def _png(size: int = 8) -> bytes:
    raw = b"".join(b"\x00" + bytes((190, 100, 40)) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    proc = ServerProcess(tmp_path_factory.mktemp("panel-details") / "data").start()   # no SMTP
    yield proc
    proc.stop()


def test_working_hours_card_with_24x7_prints_no_null(browser, srv):
    demo = srv.demo
    page = open_panel(browser, srv, demo["admin_email"], demo["admin_password"])
    nav_click(page, "nav-sites")
    editor = page.get_by_test_id("hours-editor")
    always = editor.get_by_test_id("hours-always")
    expect(always).to_be_checked()
    expect(editor.get_by_test_id("hours-save")).to_be_visible()
    assert "null" not in editor.inner_text()
    always.uncheck()
    expect(editor.get_by_test_id("hours-day")).to_have_count(7)
    always.check()
    editor.get_by_test_id("hours-save").click()
    expect(editor.get_by_test_id("hours-status")).to_have_text("График сохранён")
    assert "null" not in editor.inner_text()
    assert editor.evaluate("e => [...e.childNodes].every(n => n.nodeType !== 3 || !n.textContent.trim())")
    close_page(page)


def test_profile_photo_shows_at_once_can_be_removed_and_errors_are_in_russian(browser, srv):
    desk = Desk(srv, "Вера")
    page = open_panel(browser, srv, desk.email, desk.password)
    nav_click(page, "nav-profile")
    photo = page.get_by_test_id("profile-photo")
    remove = page.get_by_test_id("profile-photo-remove")
    status = page.get_by_test_id("profile-photo-status")
    expect(photo).to_have_text("В")                               # the initial, no photo yet
    expect(remove).to_be_hidden()

    # a file that says it is a PNG but is not: the server's 415, told in Russian
    page.get_by_test_id("profile-photo-file").set_input_files(
        {"name": "photo.png", "mimeType": "image/png", "buffer": b"this is not an image at all"})
    expect(status).to_have_text("Можно загрузить только PNG, JPEG или WebP.")
    expect(status).to_have_class(re.compile("form-status--error"))
    expect(remove).to_be_hidden()

    page.get_by_test_id("profile-photo-file").set_input_files({"name": "me.png", "mimeType": "image/png", "buffer": _png()})
    expect(status).to_have_text("Фото обновлено")
    expect(photo.locator("img")).to_have_attribute("src", re.compile(r"/api/v1/operators/\d+/photo\?v="))
    page.wait_for_function("img => img.complete && img.naturalWidth === 8", arg=photo.locator("img").element_handle())
    expect(page.locator(".topbar .avatar img")).to_be_visible()     # the top bar too, without a reload
    expect(remove).to_be_visible()

    remove.click()
    expect(photo.locator("img")).to_have_count(0)
    expect(photo).to_have_text("В")
    expect(remove).to_be_hidden()
    expect(page.locator(".topbar .avatar img")).to_have_count(0)
    close_page(page)


def _server_error_codes() -> set[str]:
    """Every error code the server can send, read from its source."""
    codes: set[str] = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'ActionError\(\s*"([a-z_]+)"', text))
        codes |= set(re.findall(r'error_frame\(\s*"([a-z_]+)"', text))
    errors_py = (SRC / "web" / "errors.py").read_text(encoding="utf-8")
    codes |= set(re.findall(r'\d{3}: "([a-z_]+)"', errors_py))
    codes |= set(re.findall(r'error_response\(\s*\d{3},\s*"([a-z_]+)"', errors_py))
    return codes


def test_every_server_error_code_has_a_russian_and_an_english_text(browser, srv):
    codes = _server_error_codes()
    assert {"unsupported_media_type", "conflict", "invalid_input", "rate_limited"} <= codes   # the scan works
    page = browser.new_context().new_page()
    page.goto(srv.url + "/panel/login")
    result = page.evaluate("""async (codes) => {
      const { ERROR_CODES, explain } = await import('/panel/js/errors.js');
      const { STRINGS, setLanguage } = await import('/panel/js/i18n.js');
      const out = { unlisted: codes.filter(c => !ERROR_CODES.includes(c)), missing: [], texts: {} };
      for (const lang of ['ru', 'en']) {
        setLanguage(lang);
        for (const c of ERROR_CODES) {
          if (!STRINGS[lang][`err.code.${c}`]) out.missing.push(`${lang}:${c}`);
          out.texts[`${lang}:${c}`] = explain({ code: c, message: 'some English detail', status: 400 });
        }
        out.texts[`${lang}:photo`] = explain({ code: 'unsupported_media_type', message: 'the photo must be a PNG, JPEG or WebP image' });
        out.texts[`${lang}:self`] = explain({ code: 'conflict', message: 'you cannot deactivate yourself' });
        out.texts[`${lang}:tz`] = explain({ code: 'invalid_input', message: "unknown time zone 'Mars/Olympus'" });
        out.texts[`${lang}:net`] = explain({ code: 'network', message: 'Failed to fetch', status: 0 });
      }
      const ru = Object.keys(STRINGS.ru), en = Object.keys(STRINGS.en);
      out.onlyRu = ru.filter(k => !en.includes(k));
      out.onlyEn = en.filter(k => !ru.includes(k));
      setLanguage('ru');
      return out;
    }""", sorted(codes))
    page.context.close()
    assert result["unlisted"] == [], "codes the panel has no words for (static/panel/js/errors.js)"
    assert result["missing"] == []
    assert result["onlyRu"] == [] and result["onlyEn"] == []
    for key, text in result["texts"].items():
        assert "English detail" not in text, key                   # never the server's own words
    assert result["texts"]["ru:photo"] == "Можно загрузить только PNG, JPEG или WebP."
    assert result["texts"]["en:photo"] == "Only PNG, JPEG or WebP images."
    assert result["texts"]["ru:self"] == "Нельзя отключить самого себя."
    assert result["texts"]["ru:tz"] == "неизвестный часовой пояс «Mars/Olympus»."
    assert result["texts"]["ru:net"] == "Сервер недоступен. Проверьте соединение."


def test_operators_page_says_all_sites_lines_up_the_password_row_and_links_the_email_docs(browser, srv):
    demo = srv.demo
    page = open_panel(browser, srv, demo["admin_email"], demo["admin_password"])
    nav_click(page, "nav-operators")
    me = page.locator(f"[data-testid='operator-row'][data-operator-id='{page.evaluate('() => window.frontdeskPanel.store.me.id')}']")
    expect(me.get_by_test_id("operator-all-sites")).to_have_text("Все сайты")
    expect(page.get_by_test_id("operators-table")).not_to_contain_text("*")
    password, generate = page.get_by_test_id("operator-password"), page.get_by_test_id("operator-generate")
    a, b = password.bounding_box(), generate.bounding_box()
    assert abs(a["y"] - b["y"]) <= 1 and abs(a["height"] - b["height"]) <= 1, (a, b)
    before = password.input_value()
    generate.click()
    assert password.input_value() != before
    smtp = page.get_by_test_id("operators-smtp-off")
    expect(smtp).to_contain_text("E-mail не настроен")
    expect(smtp).not_to_contain_text("FRONTDESK_")
    expect(smtp.locator("a")).to_have_attribute("href", "/#email")
    close_page(page)


def test_the_dialogs_email_warning_says_it_plainly_and_links_the_admin_docs(browser, srv):
    desk = Desk(srv, "Глеб")
    r = httpx.post(f"{srv.url}/api/v1/widget/offline", params={"site": desk.site_key}, json={
        "name": "Пётр", "email": "petr@example.com", "message": "Есть ли самовывоз?"})
    assert r.status_code == 201, r.text
    page = open_panel(browser, srv, desk.email, desk.password)
    conversation_item(page, r.json()["conversation_id"]).click()
    warning = page.get_by_test_id("smtp-off")
    expect(warning).to_contain_text("E-mail не настроен: письма ждут в очереди")
    expect(warning).not_to_contain_text("FRONTDESK_")
    link = warning.get_by_test_id("smtp-help")
    expect(link).to_have_attribute("href", "/#email")
    help_page = httpx.get(srv.url + "/", headers={"Accept-Language": "ru"}).text
    assert 'id="email"' in help_page and "FRONTDESK_SMTP_URL" in help_page   # the admin docs name the variable
    close_page(page)


def test_note_mode_turns_off_after_sending_a_note(browser, srv):
    desk = Desk(srv, "Нина")
    page = open_panel(browser, srv, desk.email, desk.password)
    visitor = desk.visitor(srv)
    cid = visitor.say("Подскажите размер пледа")["conversation_id"]
    conversation_item(page, cid).click()
    page.get_by_test_id("conversation-take").click()
    note = page.get_by_test_id("note-mode")
    note.click()
    expect(note).to_have_attribute("aria-selected", "true")
    box = page.get_by_test_id("chat-input")
    box.fill("Клиент постоянный, дать скидку")
    box.press("Enter")
    expect(page.locator("[data-testid='chat-message'][data-author='note']")).to_have_count(1)
    expect(note).to_have_attribute("aria-selected", "false")          # back to replying
    expect(box).to_have_attribute("placeholder", "Напишите ответ…")
    box.fill("Размер 150×200")
    box.press("Enter")
    expect(page.locator("[data-testid='chat-message'][data-author='operator']")).to_have_count(1)
    assert visitor.wait_text("Размер 150×200")["kind"] == "operator"   # the visitor gets the reply …
    visitor.drain()
    assert all(m["kind"] != "note" for m in visitor.messages.values())   # … and never the note
    visitor.close()
    close_page(page)


def test_english_chosen_on_the_login_page_survives_the_login(browser, srv):
    desk = Desk(srv, "John")
    context = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(srv.url + "/panel/login")
    expect(page.get_by_test_id("login-submit")).to_have_text("Войти")
    page.get_by_test_id("login-lang-en").click()
    expect(page.get_by_test_id("login-submit")).to_have_text("Sign in")
    page.get_by_test_id("login-email").fill(desk.email)
    page.get_by_test_id("login-password").fill(desk.password)
    page.get_by_test_id("login-submit").click()
    wait_connected(page)
    expect(page.get_by_test_id("nav-chats")).to_have_text("Chats")
    page.reload()
    wait_connected(page)
    expect(page.get_by_test_id("nav-chats")).to_have_text("Chats")
    other = httpx.Client(base_url=srv.url)                              # saved in the profile: any browser
    assert other.post("/api/v1/auth/login", json={"email": desk.email, "password": desk.password}).json()["operator"]["language"] == "en"
    other.close()
    context.close()

    # without a pick on the login page, the profile's language rules
    fresh = browser.new_context(locale="ru-RU").new_page()
    fresh.goto(srv.url + "/panel/login")
    fresh.get_by_test_id("login-email").fill(desk.email)
    fresh.get_by_test_id("login-password").fill(desk.password)
    fresh.get_by_test_id("login-submit").click()
    wait_connected(fresh)
    expect(fresh.get_by_test_id("nav-chats")).to_have_text("Chats")
    fresh.context.close()


def test_visitor_info_column_has_an_empty_state(browser, srv):
    desk = Desk(srv, "Ира")
    page = open_panel(browser, srv, desk.email, desk.password, viewport={"width": 1366, "height": 800})
    empty = page.get_by_test_id("visitor-info-empty")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("Откройте диалог")
    visitor = desk.visitor(srv)
    cid = visitor.say("Добрый день")["conversation_id"]
    conversation_item(page, cid).click()
    expect(empty).to_be_hidden()
    expect(page.get_by_test_id("visitor-page-title")).to_have_text("Каталог")
    page.keyboard.press("Escape")                                     # out of the message box …
    page.keyboard.press("Escape")                                     # … and out of the dialog: the empty state again
    expect(page.get_by_test_id("visitor-info-empty")).to_be_visible()
    visitor.close()
    close_page(page)


def test_history_uses_the_width_and_keeps_names_and_dates_on_one_line(browser, srv):
    desk = Desk(srv, "Лев")
    op = OperatorClient(srv, desk.email, desk.password)
    visitor = desk.visitor(srv)
    cid = visitor.say("Подскажите, а кружки «Мох» продаются наборами по шесть штук? Хочу подарить коллегам на праздник")["conversation_id"]
    for action in ("take", "close"):
        assert op.call("POST", f"/api/v1/conversations/{cid}/{action}").status_code == 200
    visitor.close()
    op.close()
    page = open_panel(browser, srv, desk.email, desk.password, viewport={"width": 1366, "height": 800})
    nav_click(page, "nav-history")
    row = page.locator(f"[data-testid='history-item'][data-conversation-id='{cid}']")
    expect(row).to_be_visible()
    heights = row.locator("td").evaluate_all("tds => tds.map(td => td.getBoundingClientRect().height)")
    line = row.locator("td").first.evaluate("td => parseFloat(getComputedStyle(td).lineHeight) + "
                                            "parseFloat(getComputedStyle(td).paddingTop) * 2")
    assert max(heights) <= line + 2, (heights, line)              # no cell wraps: one line per conversation
    table = page.get_by_test_id("history-table").bounding_box()
    assert table["width"] >= 1366 - 2 * 24 - 2, table                # the whole page, not two thirds of it
    close_page(page)
