"""Supervision and missed chats in a real Chromium: a supervisor's whisper appears for the operator
holding the chat (at once, as a toast and in the history) and never in the widget; the receiver of
a transfer declines it; a chat nobody answers escalates, with the clock moved, to the e-mail step
(aiosmtpd) and finally offers the visitor the contacts form. Escalation is set in the Sites page."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.nav import nav_click
from tests.e2e.test_panel import close_page, conversation_item, open_panel, set_status
from tests.e2e.test_transfer import shot
from tests.mail.conftest import ClockFile, mail_env
from tests.mail.conftest import smtp as smtp  # the fixture
from tests.support import ServerProcess

pytestmark = pytest.mark.e2e

WHISPER = "Предложи ему бесплатную доставку — постоянный клиент"


def _widget_says(browser, srv, text: str):
    shop = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU").new_page()
    shop.errors = []  # type: ignore[attr-defined]
    shop.on("pageerror", lambda exc: shop.errors.append(str(exc)))  # type: ignore[attr-defined]
    shop.goto(srv.url + "/demo/")
    shop.get_by_test_id("widget-launcher").click()
    shop.get_by_test_id("widget-input").fill(text)
    shop.get_by_test_id("widget-input").press("Enter")
    return shop


def test_a_supervisors_whisper_reaches_the_operator_and_never_the_widget(browser, tmp_path):
    srv = ServerProcess(tmp_path / "data").start()
    try:
        demo = srv.demo
        boss = open_panel(browser, srv, demo["admin_email"], demo["admin_password"])     # the supervisor
        anna = open_panel(browser, srv, demo["operator_email"], demo["operator_password"])
        set_status(anna, "online")
        shop = _widget_says(browser, srv, "Здравствуйте! Сколько стоит доставка?")

        item = anna.get_by_test_id("conversation-item")
        expect(item).to_have_count(1)
        cid = int(item.get_attribute("data-conversation-id"))
        item.click()
        anna.get_by_test_id("conversation-take").click()
        expect(anna.get_by_test_id("dialog-state")).to_contain_text("Ваш диалог")
        anna.get_by_test_id("chat-input").fill("Добрый день! Сейчас посчитаю.")
        anna.get_by_test_id("chat-send").click()
        expect(shop.get_by_test_id("widget-operator-name")).to_have_text("Анна")

        # the supervisor reads the chat live and whispers
        conversation_item(boss, cid).click()
        expect(boss.get_by_test_id("chat-message").last).to_contain_text("Сейчас посчитаю")
        whisper = boss.get_by_test_id("whisper-input")
        expect(whisper).to_be_visible()
        expect(whisper).to_have_attribute("placeholder", "Увидит только Анна, посетитель — нет")
        whisper.fill(WHISPER)
        whisper.press("Enter")
        expect(boss.locator(".msg--note").last).to_contain_text(WHISPER)
        shot(boss, "whisper-supervisor.png")

        toast = anna.get_by_test_id("whisper-toast")
        expect(toast).to_contain_text("Администратор подсказывает")
        expect(toast).to_contain_text(WHISPER)
        note = anna.locator(".msg--note").last
        expect(note).to_contain_text(WHISPER)
        expect(note).to_contain_text("подсказка руководителя")
        expect(anna.get_by_test_id("whisper-input")).to_be_hidden()   # operators do not whisper
        shot(anna, "whisper-operator.png")

        # the visitor keeps chatting and sees Анна's next reply, never the whisper
        anna.get_by_test_id("chat-input").fill("Доставка для вас бесплатна!")
        anna.get_by_test_id("chat-send").click()
        expect(shop.get_by_test_id("widget-message").last).to_contain_text("Доставка для вас бесплатна!")
        seen = " ".join(shop.get_by_test_id("widget-message").all_inner_texts())
        assert WHISPER not in seen and "подсказ" not in seen.lower()

        # Анна offers the chat to the supervisor, who declines: it stays with her
        set_status(boss, "online")
        anna.get_by_test_id("conversation-transfer").click()
        anna.locator("[data-testid='transfer-target']", has_text="Администратор").click()
        anna.get_by_test_id("transfer-note").fill("Клиент просит руководителя")
        anna.get_by_test_id("transfer-submit").click()
        expect(anna.get_by_test_id("transfer-pending")).to_contain_text("Администратор")
        offer = boss.get_by_test_id("transfer-offer")
        expect(offer).to_be_visible()
        offer.get_by_test_id("transfer-decline").click()
        expect(boss.get_by_test_id("transfer-offer")).to_have_count(0)
        expect(anna.get_by_text("Администратор отклонил(а) передачу")).to_be_visible()
        expect(anna.get_by_test_id("transfer-pending")).to_have_count(0)
        expect(anna.get_by_test_id("dialog-state")).to_contain_text("Ваш диалог")
        seen = " ".join(shop.get_by_test_id("widget-message").all_inner_texts())
        assert "Клиент просит руководителя" not in seen and "отклон" not in seen
        for page in (boss, anna, shop):
            close_page(page)
    finally:
        srv.stop()


def test_an_unanswered_chat_escalates_to_the_email_step_when_the_clock_moves(browser, tmp_path, smtp):
    clock = ClockFile(tmp_path / "clock")
    srv = ServerProcess(tmp_path / "data", env=mail_env(
        smtp.url, FRONTDESK_TEST_CLOCK_FILE=str(clock.path), FRONTDESK_ESCALATION_TICK="0.2",
        FRONTDESK_NO_REPLY_SECONDS="0")).start()
    try:
        demo = srv.demo
        boss = open_panel(browser, srv, demo["admin_email"], demo["admin_password"], viewport={"width": 1440, "height": 1400})
        # the steps are set in the Sites page
        nav_click(boss, "nav-sites")
        boss.get_by_test_id("site-item").first.click()
        editor = boss.get_by_test_id("escalation-editor")
        expect(editor.get_by_test_id("escalation-save")).to_be_visible()
        editor.get_by_test_id("escalation-enabled").check()
        for step, minutes in (("alert", "1"), ("offer_all", "2"), ("email", "5"), ("contacts", "10")):
            editor.locator(f"[data-testid='escalation-step'][data-step='{step}']").fill(minutes)
        editor.get_by_test_id("escalation-emails").fill("supervisor@shop.example")
        # a later step before an earlier one is refused in the form
        editor.locator("[data-testid='escalation-step'][data-step='offer_all']").fill("30")
        editor.get_by_test_id("escalation-save").click()
        expect(editor.get_by_test_id("escalation-status")).to_contain_text("не раньше предыдущего")
        editor.locator("[data-testid='escalation-step'][data-step='offer_all']").fill("2")
        editor.get_by_test_id("escalation-save").click()
        expect(editor.get_by_test_id("escalation-status")).to_have_text("Сохранено.")
        folder = os.environ.get("FRONTDESK_SCREENSHOTS")
        if folder:  # the card itself, for docs/img
            editor.screenshot(path=str(Path(folder) / "escalation-settings.png"), animations="disabled")

        nav_click(boss, "nav-chats")
        set_status(boss, "online")
        shop = _widget_says(browser, srv, "Алло! Мне срочно нужен ответ")
        expect(boss.get_by_test_id("conversation-item")).to_have_count(1)
        clock.advance(301)   # past alert (1 min), offer to all (2 min) and the e-mail (5 min)
        mail = smtp.wait_for(1)[0]
        assert mail.rcpt_tos == ["supervisor@shop.example"]
        assert "Пропущенный чат" in mail.message["Subject"]
        assert "Мне срочно нужен ответ" in mail.text()
        expect(boss.get_by_test_id("offer-toast").first).to_be_visible()
        clock.advance(300)   # the last step: the visitor is offered to leave contacts
        expect(shop.get_by_test_id("widget-contacts-form")).to_be_visible(timeout=15000)
        assert len(smtp.received) == 1
        for page in (boss, shop):
            close_page(page)
    finally:
        srv.stop()
