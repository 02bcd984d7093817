"""Team work in a real Chromium: operator A transfers a chat to operator B with a note, B accepts,
the visitor (the real widget on /demo/) keeps chatting without a reload and sees B; A's list no
longer shows it as A's. Also: who else has the dialog open (and is typing), and the confirmation
before taking a chat a colleague holds."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.shots import shot
from tests.e2e.test_panel import close_page, conversation_item, open_panel, set_status
from tests.support import ServerProcess, make_operator

pytestmark = pytest.mark.e2e

NOTE = "Постоянный клиент, обещали бесплатную доставку — проверь заказ 1042"




@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    proc = ServerProcess(tmp_path_factory.mktemp("transfer") / "data").start()
    yield proc
    proc.stop()


def test_a_transfers_to_b_with_a_note_b_accepts_and_the_visitor_keeps_chatting(browser, srv):
    demo = srv.demo
    boris = make_operator(srv, name="Борис")
    a = open_panel(browser, srv, demo["operator_email"], demo["operator_password"])   # Анна
    b = open_panel(browser, srv, boris.operator["email"], "correct horse battery")
    set_status(a, "online")
    set_status(b, "online")

    shop = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU").new_page()
    shop_errors: list[str] = []
    shop.on("pageerror", lambda exc: shop_errors.append(str(exc)))
    shop.goto(srv.url + "/demo/")
    shop.get_by_test_id("widget-launcher").click()
    widget_input = shop.get_by_test_id("widget-input")
    widget_input.fill("Здравствуйте! Когда привезут заказ 1042?")
    widget_input.press("Enter")

    # A takes the chat and answers; the visitor sees Анна
    item_a = a.get_by_test_id("conversation-item")
    expect(item_a).to_have_count(1)
    cid = int(item_a.get_attribute("data-conversation-id"))
    item_a.click()
    a.get_by_test_id("conversation-take").click()
    expect(a.get_by_test_id("dialog-state")).to_contain_text("Ваш диалог")
    a.get_by_test_id("chat-input").fill("Сейчас уточню у коллеги.")
    a.get_by_test_id("chat-send").click()
    expect(shop.get_by_test_id("widget-operator-name")).to_have_text("Анна")

    # B opens the same dialog: each sees the other, and A sees B typing
    conversation_item(b, cid).click()
    expect(a.get_by_test_id("conversation-viewers")).to_contain_text("Борис")
    expect(b.get_by_test_id("conversation-viewers")).to_contain_text("Анна")
    b.get_by_test_id("chat-input").press_sequentially("Могу")
    expect(a.get_by_test_id("conversation-viewers")).to_contain_text("печатает")
    b.get_by_test_id("chat-input").fill("")
    # B's colleague holds the chat: "Взять" asks first; cancelling leaves it with A
    b.get_by_test_id("conversation-take").click()
    expect(b.get_by_test_id("confirm-dialog")).to_contain_text("Диалог ведёт Анна")
    b.get_by_test_id("confirm-cancel").click()
    expect(b.get_by_test_id("confirm-dialog")).to_have_count(0)
    expect(b.get_by_test_id("dialog-state")).to_contain_text("Ведёт Анна")

    # A transfers it to B with a note
    a.get_by_test_id("conversation-transfer").click()
    target = a.locator(f"[data-testid='transfer-target'][data-target='{boris.operator['id']}']")
    expect(target).to_contain_text("Борис")
    target.click()
    a.get_by_test_id("transfer-note").fill(NOTE)
    shot(a, "transfer.png")
    a.get_by_test_id("transfer-submit").click()
    expect(a.get_by_test_id("transfer-dialog")).to_have_count(0)

    # B gets the offer with the note, and accepts
    offer = b.get_by_test_id("transfer-offer")
    expect(offer).to_contain_text("Анна")
    expect(offer).to_contain_text(NOTE)
    expect(b.get_by_test_id("conversation-viewers")).not_to_contain_text("null")
    shot(b, "transfer-offer.png")
    offer.get_by_test_id("transfer-accept").click()
    expect(offer).to_have_count(0)
    expect(b.get_by_test_id("dialog-state")).to_contain_text("Ваш диалог")

    # the visitor, without a reload, sees B's name and the system line, and keeps chatting
    expect(shop.get_by_test_id("widget-operator-name")).to_have_text("Борис")
    expect(shop.locator("[data-testid='widget-message'][data-author='system']")).to_contain_text(
        "Диалог передан оператору Борис.")
    widget_input.fill("Хорошо, жду")
    widget_input.press("Enter")
    expect(b.locator("[data-testid='chat-message']").last).to_contain_text("Хорошо, жду")
    b.get_by_test_id("chat-input").fill("Здравствуйте, я Борис. Доставка бесплатная, привезём завтра.")
    b.get_by_test_id("chat-send").click()
    expect(shop.locator("[data-testid='widget-message'][data-author='operator']").last).to_contain_text(
        "я Борис")

    # A's list: no longer A's, and B's reply is B's, not "Вы: …"
    item = conversation_item(a, cid)
    expect(item).to_have_attribute("data-state", "other")
    expect(item).to_contain_text("Борис: Здравствуйте, я Борис")
    expect(item).not_to_contain_text("Вы:")
    expect(a.get_by_test_id("tab-mine")).to_contain_text("0")
    expect(a.get_by_test_id("dialog-state")).to_contain_text("Ведёт Борис")

    # the note is the operators' only: in B's history as a note, never in the widget
    expect(b.locator("[data-testid='chat-message']", has_text=NOTE)).to_have_count(1)
    assert NOTE not in shop.content()
    widget_texts = shop.locator("[data-testid='widget-message']").all_inner_texts()
    assert not any("бесплатную доставку — проверь" in t for t in widget_texts)
    assert shop_errors == []
    shop.context.close()
    close_page(b)
    close_page(a)


def test_the_transfer_dialog_and_offer_in_english(browser, srv):
    demo = srv.demo
    jane = make_operator(srv, name="Jane")
    r = jane.call("PATCH", "/api/v1/me", json={"language": "en"})
    assert r.status_code == 200, r.text
    a = open_panel(browser, srv, demo["admin_email"], demo["admin_password"])
    j = open_panel(browser, srv, jane.operator["email"], "correct horse battery")
    expect(j.get_by_test_id("tab-mine")).to_contain_text("Mine")
    shop = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    shop.goto(srv.url + "/demo/")
    shop.get_by_test_id("widget-launcher").click()
    shop.get_by_test_id("widget-input").fill("Hello, is anyone there?")
    shop.get_by_test_id("widget-input").press("Enter")
    item = a.locator("[data-testid='conversation-item']", has_text="Hello, is anyone there?")
    expect(item).to_have_count(1)
    item.click()
    a.get_by_test_id("conversation-take").click()
    a.get_by_test_id("conversation-transfer").click()
    a.locator(f"[data-testid='transfer-target'][data-target='{jane.operator['id']}']").click()
    a.get_by_test_id("transfer-note").fill("Speaks English only")
    a.get_by_test_id("transfer-submit").click()
    offer = j.get_by_test_id("transfer-offer")
    expect(offer).to_contain_text("is passing you a chat")
    expect(offer.get_by_test_id("transfer-accept")).to_have_text("Accept")
    offer.get_by_test_id("transfer-accept").click()
    expect(j.get_by_test_id("dialog-state")).to_contain_text("Your chat")
    expect(shop.get_by_test_id("widget-operator-name")).to_have_text("Jane")
    shop.context.close()
    close_page(j)
    close_page(a)
