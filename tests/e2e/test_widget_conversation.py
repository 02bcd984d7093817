"""A visitor talks to an operator through the widget on the demo shop, across pages and tabs."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from websockets.sync.client import connect

from tests.e2e.conftest import WidgetPage, history, operator_reply

pytestmark = pytest.mark.e2e


_COUNT_BEEPS = """
  window.__beeps = 0;
  const create = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () { window.__beeps++; return create.call(this); };
"""


def test_visitor_and_operator_talk_and_the_dialog_follows_the_visitor(widget_page: WidgetPage, widget_operator):
    widget_page.page.add_init_script(_COUNT_BEEPS)
    w = widget_page.goto("/demo/")
    expect(w.launcher).to_be_visible()
    expect(w.window).to_be_hidden()
    w.open()
    # nobody has answered yet: the site's own title and greeting, in Russian
    expect(w.page.get_by_test_id("widget-title")).to_have_text("Онлайн-консультант")
    expect(w.page.get_by_test_id("widget-greeting")).to_have_text("Здравствуйте! Чем можем помочь?")
    expect(w.input).to_have_attribute("placeholder", "Напишите сообщение…")

    w.send("Здравствуйте! Плед «Облако» есть в сером цвете?")
    first = w.messages("visitor").first
    expect(first).to_have_attribute("data-state", "delivered")
    expect(first).to_have_attribute("data-seq", "1")
    expect(first.locator(".st")).to_have_text("доставлено")
    expect(w.input).to_have_value("")
    cid = w.conversation_id()

    # the operator sees it, with the page the visitor is on
    conv = widget_operator.call("GET", f"/api/v1/conversations/{cid}").json()["conversation"]
    assert conv["visitor"]["page_url"].endswith("/demo/")
    assert [m["text"] for m in history(widget_operator, cid)] == ["Здравствуйте! Плед «Облако» есть в сером цвете?"]

    operator_reply(widget_operator, cid, "Добрый день! Да, серый есть.")
    reply = w.messages("operator")
    expect(reply).to_have_count(1)
    expect(reply).to_have_attribute("data-seq", "2")
    expect(reply.locator(".bub")).to_have_text("Добрый день! Да, серый есть.")
    expect(reply.locator(".who")).to_have_text("Администратор")
    # one short sound for the operator's message (the click on the launcher unlocked audio);
    # none for the visitor's own
    w.page.wait_for_function("window.__beeps === 1")
    expect(w.page.get_by_test_id("widget-operator-name")).to_have_text("Администратор")
    expect(w.page.get_by_test_id("widget-operator-photo")).to_be_visible()

    # a real navigation by a link: the window stays open, the dialog and the unsent draft are there
    w.input.fill("Черновик, ещё не отправлен")
    w.page.get_by_role("link", name="Каталог", exact=True).click()
    w.page.wait_for_url(re.compile(r"/demo/catalog\.html$"))
    expect(w.window).to_be_visible()
    expect(w.messages()).to_have_count(2)
    expect(w.input).to_have_value("Черновик, ещё не отправлен")
    w.send("А доставка в Казань?")
    after = w.wait_delivered(2)
    assert w.page.evaluate("window.__beeps") == 0  # a new page: no operator message, no sound
    assert [(m["author"], m["seq"], m["text"]) for m in after] == [
        ("visitor", 1, "Здравствуйте! Плед «Облако» есть в сером цвете?"),
        ("operator", 2, "Добрый день! Да, серый есть."),
        ("visitor", 3, "А доставка в Казань?"),
    ]
    assert {m["cid"] for m in after} == {cid}  # the same conversation, not a new one
    conv = widget_operator.call("GET", f"/api/v1/conversations/{cid}").json()["conversation"]
    assert conv["visitor"]["page_url"].endswith("/demo/catalog.html")

    # a later visit in a new tab: the widget loads the dialog by itself; replies while the
    # window is closed show as an unread badge on the launcher
    w.page.close()
    later = WidgetPage(widget_page.page.context.new_page(), w.server).goto("/demo/contacts.html")
    expect(later.window).to_be_hidden()
    expect(later.messages()).to_have_count(3)  # rendered in the closed window already
    operator_reply(widget_operator, cid, "Доставка в Казань — 2–3 дня.")
    expect(later.launcher.locator(".bd")).to_have_text("1")
    expect(later.launcher).to_have_attribute("aria-label", re.compile("непрочитанных: 1"))
    later.open()
    expect(later.messages("operator")).to_have_count(2)
    expect(later.launcher.locator(".bd")).to_be_hidden()
    assert [m["seq"] for m in later.read()] == [1, 2, 3, 4]
    assert later.errors == [] and w.errors == []


def test_typing_goes_both_ways(widget_page: WidgetPage, widget_operator):
    w = widget_page.goto("/demo/product.html").open()
    w.send("Первый вопрос")
    w.wait_delivered(1)
    cid = w.conversation_id()
    server = w.server
    with connect(server.ws_url + "/ws/operator", additional_headers={
            "Cookie": widget_operator.cookie_header, "Origin": server.url}, open_timeout=10) as ops:
        ops.send(json.dumps({"type": "hello", "resume": {}}))

        def next_frame(kind: str, **match):
            while True:
                frame = json.loads(ops.recv(timeout=10))
                if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                    return frame

        next_frame("welcome")
        # the visitor's draft reaches the operator before it is sent ("peek")
        w.input.press_sequentially("Сколько стоит доставка", delay=15)
        next_frame("visitor.typing", conversation_id=cid, text="Сколько стоит доставка")
        w.input.fill("")
        next_frame("visitor.typing", conversation_id=cid, text="")

        # and the operator's typing shows in the widget, then goes away
        typing = w.page.get_by_test_id("widget-typing")
        expect(typing).to_be_hidden()
        ops.send(json.dumps({"type": "typing", "conversation_id": cid, "is_typing": True}))
        expect(typing).to_be_visible()
        expect(typing).to_contain_text("Администратор печатает…")
        ops.send(json.dumps({"type": "typing", "conversation_id": cid, "is_typing": False}))
        expect(typing).to_be_hidden()
    assert w.errors == []


def test_two_tabs_show_the_same_conversation_live(widget_context, widget_server, widget_operator):
    a = WidgetPage(widget_context.new_page(), widget_server).goto("/demo/")
    b = WidgetPage(widget_context.new_page(), widget_server).goto("/demo/catalog.html")
    expect(b.launcher).to_be_visible()
    a.open()
    a.send("Пишу из первой вкладки")
    a.wait_delivered(1)
    # tab B had no conversation when it loaded; it follows the new one without a reload
    expect(b.messages("visitor")).to_have_count(1)
    b.open()
    b.send("А это из второй")
    expect(a.messages("visitor")).to_have_count(2)
    cid = a.conversation_id()
    operator_reply(widget_operator, cid, "Вижу обе, отвечаю")
    for tab in (a, b):
        expect(tab.messages("operator")).to_have_count(1)
    a.wait_delivered(2)
    b.wait_delivered(2)
    want = [("visitor", 1, "Пишу из первой вкладки"), ("visitor", 2, "А это из второй"),
            ("operator", 3, "Вижу обе, отвечаю")]
    for tab in (a, b):
        assert [(m["author"], m["seq"], m["text"]) for m in tab.read()] == want
    assert [m["seq"] for m in history(widget_operator, cid)] == [1, 2, 3]
    assert a.errors == [] and b.errors == []


def test_a_closed_dialog_stays_readable_and_the_next_message_opens_a_new_one(widget_page: WidgetPage, widget_operator):
    w = widget_page.goto("/demo/cart.html").open()
    w.send("Как оформить возврат?")
    w.wait_delivered(1)
    first = w.conversation_id()
    operator_reply(widget_operator, first, "В личном кабинете, раздел «Заказы».")
    expect(w.messages("operator")).to_have_count(1)
    r = widget_operator.call("POST", f"/api/v1/conversations/{first}/close")
    assert r.status_code == 200, r.text
    notice = w.page.locator(".notice")
    expect(notice).to_have_text("Диалог завершён. Напишите, если остались вопросы.")
    expect(w.page.get_by_test_id("widget-title")).to_be_visible()  # nobody is assigned any more
    assert w.storage("active") is None

    w.send("Ещё вопрос")
    w.wait_delivered(2)
    shown = w.read()
    second = shown[-1]["cid"]
    assert second != first
    assert [(m["cid"], m["seq"], m["author"]) for m in shown] == [
        (first, 1, "visitor"), (first, 2, "operator"), (second, 1, "visitor")]
    # the notice sits between the two dialogs
    order = w.page.evaluate("""() => [...document.getElementById('frontdesk-widget').shadowRoot
        .querySelectorAll('.list > .msg')]
        .map(e => e.classList.contains('notice') ? 'notice' : e.dataset.rate ? 'rating'
                  : e.dataset.conversationId || 'greeting')""")
    # the rating form of the closed dialog follows its notice (docs/protocol.md § Ratings)
    assert order == ["greeting", str(first), str(first), "notice", "rating", str(second)]
    assert w.errors == []
    # conversation.created (which marks it active) may come a moment after the ack
    w.page.wait_for_function("([k, v]) => localStorage.getItem(k) === v",
                             arg=[f"frontdesk:{w.server.demo['site_key']}:active", str(second)])

    w.page.reload()  # and after a reload the closed dialog is still shown above the new one
    expect(w.messages()).to_have_count(3)
    expect(notice).to_have_count(1)
    assert [(m["cid"], m["seq"]) for m in w.read()] == [(first, 1), (first, 2), (second, 1)]
    assert w.errors == []
