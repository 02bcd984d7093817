"""Nothing the visitor writes or receives is lost or doubled: crashes, reloads, stale state, dead links."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from frontdesk.web.pages import widget_chat_source
from tests.e2e.conftest import STATIC, CustomerSite, WidgetPage, history, operator_reply, read_json
from tests.support import ServerProcess, admin, wait_until

pytestmark = pytest.mark.e2e


def _scripts_survive_our_crash(ctx) -> None:
    """While our server is down a returning visitor's browser still has the two scripts
    (HTTP cache / CDN): serve them from the files the server would send."""
    ctx.route(re.compile(r"/widget\.js$"), lambda route: route.fulfill(
        path=STATIC / "widget" / "loader.js", content_type="text/javascript; charset=utf-8"))
    chat = widget_chat_source()  # the three parts joined, as the server sends them
    ctx.route(re.compile(r"/static/widget/chat\.js(\?.*)?$"), lambda route: route.fulfill(
        body=chat, content_type="text/javascript; charset=utf-8"))


def test_server_crash_and_restart_lose_and_double_nothing(browser, tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    someone = admin(server)
    someone.set_status("online")  # someone to talk to: while nobody is, the widget offers the offline form
    someone.close()
    ctx = browser.new_context(locale="ru-RU")
    shop = CustomerSite(server).__enter__()  # the customer's pages stay up when our server dies
    try:
        _scripts_survive_our_crash(ctx)
        w = WidgetPage(ctx.new_page(), server).goto(shop.url + "/")
        w.open()
        w.send("Сообщение 1")
        w.send("Сообщение 2")
        w.wait_delivered(2)
        cid = w.conversation_id()

        w.send("Сообщение 3")  # on the wire while the server dies: stored or not, it must end up once
        server.kill()
        banner = w.page.get_by_test_id("widget-connection")
        expect(banner).to_have_text("Нет соединения, переподключаемся…")
        w.send("Сообщение 4")
        expect(w.messages("visitor", state="sending").last).to_contain_text("Сообщение 4")
        expect(w.messages("visitor", state="sending").last.locator(".st")).to_have_text("отправляется…")

        # the visitor moves on while our server is still down: the unsent messages survive
        w.page.goto(shop.url + "/cart")
        expect(w.window).to_be_visible()
        expect(w.messages("visitor").filter(has_text="Сообщение 4")).to_have_attribute("data-state", "sending")
        # the cached part of the dialog shows at once, before any socket is up
        expect(w.messages("visitor", state="delivered").filter(has_text="Сообщение 2")).to_have_count(1)
        w.send("Сообщение 5")

        server.start()
        after = w.wait_delivered(5, timeout=30_000)
        expect(banner).to_be_hidden()
        texts = [f"Сообщение {i}" for i in range(1, 6)]
        assert [m["text"] for m in after] == texts
        assert [m["seq"] for m in after] == [1, 2, 3, 4, 5]
        op = admin(server)
        stored = history(op, cid)
        assert [m["seq"] for m in stored] == [1, 2, 3, 4, 5]
        assert [m["text"] for m in stored] == texts

        # the operator answers after the restart: the resumed socket delivers it live
        operator_reply(op, cid, "Ответ после перезапуска")
        expect(w.messages("operator")).to_have_count(1)
        w.send("Сообщение 6")
        final = w.wait_delivered(6)
        assert [m["seq"] for m in final] == [1, 2, 3, 4, 5, 6, 7]
        assert [m["text"] for m in final][-2:] == ["Ответ после перезапуска", "Сообщение 6"]
        assert [m["seq"] for m in history(op, cid)] == [1, 2, 3, 4, 5, 6, 7]
        assert w.storage("outbox") is None  # nothing left to send
        assert w.errors == []
        op.close()
    finally:
        ctx.close()
        shop.__exit__()
        server.stop()


def test_a_stale_visitor_token_is_dropped_and_replaced(widget_context, widget_server, widget_operator):
    site = widget_server.demo["site_key"]
    stale = "f" * 64
    widget_context.add_init_script(
        "if (!sessionStorage.getItem('seeded')) { sessionStorage.setItem('seeded', '1');"
        f" localStorage.setItem('frontdesk:{site}:token', '{stale}'); }}")
    w = WidgetPage(widget_context.new_page(), widget_server).goto("/demo/").open()
    w.send("Со старым токеном")
    w.wait_delivered(1)
    token = w.storage("token")
    assert token != stale and re.fullmatch(r"[0-9a-f]{64}", token)
    assert w.errors == []


def test_without_local_storage_the_cookie_keeps_the_visitor(widget_context, widget_server, widget_operator):
    widget_context.add_init_script(
        "Object.defineProperty(window, 'localStorage', {configurable: true,"
        " get() { throw new DOMException('blocked', 'SecurityError'); }});")
    w = WidgetPage(widget_context.new_page(), widget_server).goto("/demo/").open()
    w.send("Куки вместо localStorage")
    w.wait_delivered(1)
    cid = w.conversation_id()
    site = widget_server.demo["site_key"]
    cookies = {c["name"]: c["value"] for c in widget_context.cookies()}
    assert re.fullmatch(r"[0-9a-f]{64}", cookies[f"fd_{site}_token"])

    w.page.reload()
    expect(w.messages("visitor")).to_have_count(1)  # the same visitor: the server replays the dialog
    w.send("И после перезагрузки")
    after = w.wait_delivered(2)
    assert [(m["cid"], m["seq"]) for m in after] == [(cid, 1), (cid, 2)]
    assert w.errors == []


def test_a_resume_point_the_server_never_issued_reloads_the_dialog(widget_context, widget_server, widget_operator):
    w = WidgetPage(widget_context.new_page(), widget_server).goto("/demo/").open()
    w.send("Первое")
    w.send("Второе")
    w.wait_delivered(2)
    cid = w.conversation_id()
    operator_reply(widget_operator, cid, "Ответ")
    expect(w.messages("operator")).to_have_count(1)
    w.page.close()  # pagehide writes the cache

    # corrupt the cache the way a restored backup would: a seq and a message the server never had
    page = widget_context.new_page()
    page.goto(widget_server.url + "/demo/shop.css")  # same origin, no widget
    key = f"frontdesk:{widget_server.demo['site_key']}:cache"
    cache = read_json(page.evaluate("k => localStorage.getItem(k)", key))
    assert cache["convs"][str(cid)]["cursor"] == 3
    cache["convs"][str(cid)]["cursor"] = 999
    cache["msgs"].append({**cache["msgs"][-1], "seq": 998, "id": 10**9, "text": "ПОДДЕЛКА", "client_id": "x"})
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [key, json.dumps(cache)])

    w = WidgetPage(page, widget_server).goto("/demo/")
    # the server answers the impossible resume with `reset`; the widget reloads through sync
    expect(w.messages().filter(has_text="ПОДДЕЛКА")).to_have_count(0)
    expect(w.messages()).to_have_count(3)
    assert [(m["seq"], m["text"]) for m in w.read()] == [(1, "Первое"), (2, "Второе"), (3, "Ответ")]
    assert w.errors == []


def test_heartbeat_is_answered_and_a_silent_link_is_replaced(widget_context, widget_server, widget_operator):
    page = widget_context.new_page()
    page.clock.install()
    links: list[dict] = []

    def proxy(ws) -> None:
        upstream = ws.connect_to_server()
        link = {"page": ws, "to_server": [], "mute": False}
        links.append(link)

        def from_page(message: str) -> None:
            link["to_server"].append(json.loads(message))
            upstream.send(message)

        def from_server(message: str) -> None:
            if not link["mute"]:
                ws.send(message)

        ws.on_message(from_page)
        upstream.on_message(from_server)

    page.route_web_socket(re.compile(r"/ws/visitor"), proxy)
    w = WidgetPage(page, widget_server).goto("/demo/").open()
    w.send("До обрыва")
    w.wait_delivered(1)

    first = links[0]
    first["page"].send(json.dumps({"type": "ping", "t": 1}))
    wait_until(lambda: page.wait_for_timeout(20) or {"type": "pong"} in first["to_server"], 10, what="pong")

    # the link goes silent (a dead NAT entry, a sleeping laptop): no frame reaches the widget,
    # not even the operator's answer
    first["mute"] = True
    cid = w.conversation_id()
    operator_reply(widget_operator, cid, "Ответ в пустоту")
    page.clock.fast_forward("00:40")
    page.wait_for_timeout(300)
    assert len(links) == 1, "reconnected before 50 s of silence"
    expect(w.messages("operator")).to_have_count(0)
    page.clock.fast_forward("00:11")
    wait_until(lambda: page.wait_for_timeout(20) or (len(links) == 2 and links[1]["to_server"]), 15,
               what="a new socket")
    hello = links[1]["to_server"][0]
    assert hello["type"] == "hello" and hello["visitor_token"] == w.storage("token")
    assert hello["resume"] == {str(cid): 1}
    # the resumed socket replays what the dead one swallowed, once
    expect(w.messages("operator")).to_have_count(1)
    w.send("После обрыва")
    after = w.wait_delivered(2)
    assert [(m["seq"], m["text"]) for m in after] == [(1, "До обрыва"), (2, "Ответ в пустоту"), (3, "После обрыва")]
    assert w.errors == []
