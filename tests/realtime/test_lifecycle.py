"""Take, close, reopen; a visitor writing after a close starts a new conversation."""
from tests.support import admin, make_operator, visitor_ws


async def test_take_close_and_a_new_conversation_after_close(server):
    op, other = admin(server), make_operator(server, name="Вера")
    ows = await op.ws()
    v = await visitor_ws(server, server.demo["site_key"])
    await v.send({"type": "message.send", "client_id": "1", "text": "Первый вопрос"})
    first = (await v.expect("message.ack"))["message"]["conversation_id"]

    await ows.send({"type": "conversation.take", "conversation_id": first, "ref": "t"})
    res = await ows.expect("action.result", ref="t")
    assert res["ok"] and res["conversation"]["assignee"]["id"] == op.operator["id"]
    assert (await v.expect("conversation.assigned"))["operator"]["name"] == "Администратор"
    assert (await ows.expect("conversation.assigned"))["operator"]["name"] == "Администратор"

    # the other operator can take it over, after a confirmation (force); both see it
    r = other.call("POST", f"/api/v1/conversations/{first}/take")
    assert r.status_code == 409 and r.json()["error"]["code"] == "held_by_other"
    r = other.call("POST", f"/api/v1/conversations/{first}/take", json={"force": True})
    assert r.json()["conversation"]["assignee"]["name"] == "Вера"
    assert (await ows.expect("conversation.assigned"))["operator"]["name"] == "Вера"

    r = op.call("POST", f"/api/v1/conversations/{first}/close")
    assert r.status_code == 200 and r.json()["conversation"]["status"] == "closed"
    assert (await v.expect("conversation.closed"))["conversation_id"] == first
    await ows.expect("conversation.closed", conversation_id=first)

    # replies to a closed conversation are refused; notes are fine
    r = op.call("POST", f"/api/v1/conversations/{first}/messages", json={"client_id": "late", "text": "ещё"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "conversation_closed"
    r = op.call("POST", f"/api/v1/conversations/{first}/messages",
                json={"client_id": "note", "text": "итог: перезвонить", "kind": "note"})
    assert r.status_code == 200

    # the visitor writes again on the same socket: a new conversation, seq starts at 1
    await v.send({"type": "message.send", "client_id": "2", "text": "Ещё вопрос"})
    ack = await v.expect("message.ack", client_id="2")
    second = ack["message"]["conversation_id"]
    assert second != first and ack["message"]["seq"] == 1
    created = await ows.expect("conversation.created")
    assert created["conversation"]["id"] == second and created["conversation"]["assignee"] is None

    # reopening the first while the second is open would give the visitor two: refused
    r = op.call("POST", f"/api/v1/conversations/{first}/reopen")
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    op.call("POST", f"/api/v1/conversations/{second}/close")
    r = op.call("POST", f"/api/v1/conversations/{first}/reopen")
    assert r.status_code == 200 and r.json()["conversation"]["status"] == "open"

    closed = op.call("GET", "/api/v1/conversations", params={"status": "closed"}).json()["conversations"]
    assert [c["id"] for c in closed] == [second]
    history = op.call("GET", f"/api/v1/conversations/{first}/messages").json()["messages"]
    # the take-over left a system line for the visitor
    assert [(m["seq"], m["kind"]) for m in history] == [(1, "visitor"), (2, "system"), (3, "note")]
    assert history[1]["text"] == "Диалог продолжит оператор Вера."
    for ws in (ows, v):
        await ws.close()


async def test_operator_typing_and_visitor_typing_preview(sqlite_server):
    op = admin(sqlite_server)
    ows = await op.ws()
    v = await visitor_ws(sqlite_server, sqlite_server.demo["site_key"])
    await v.send({"type": "message.send", "client_id": "1", "text": "Привет"})
    cid = (await v.expect("message.ack"))["message"]["conversation_id"]
    await v.send({"type": "typing", "text": "А можно доставку <b>завтра</b>"})
    preview = await ows.expect("visitor.typing")
    assert preview == {"type": "visitor.typing", "conversation_id": cid, "text": "А можно доставку <b>завтра</b>"}
    await ows.send({"type": "typing", "conversation_id": cid, "is_typing": True})
    typing = await v.expect("operator.typing")
    assert typing["is_typing"] is True and typing["operator"] == {"name": "Администратор"}
    # the visitor moved to another page: operators hear about it
    await v.send({"type": "page", "url": "https://shop.example/cart", "title": "Корзина"})
    upd = await ows.expect("conversation.updated")
    assert upd["conversation"]["visitor"]["page_title"] == "Корзина"
    for ws in (ows, v):
        await ws.close()


async def test_read_marks_are_stored_and_shown_to_operators(sqlite_server):
    op = admin(sqlite_server)
    v = await visitor_ws(sqlite_server, sqlite_server.demo["site_key"])
    await v.send({"type": "message.send", "client_id": "1", "text": "Привет"})
    cid = (await v.expect("message.ack"))["message"]["conversation_id"]
    op.call("POST", f"/api/v1/conversations/{cid}/messages", json={"client_id": "a", "text": "Ответ"})
    ows = await op.ws()
    await v.send({"type": "read", "conversation_id": cid, "seq": 2})
    await v.send({"type": "read", "conversation_id": cid, "seq": 1})  # never moves back
    await v.send({"type": "read", "conversation_id": cid, "seq": 99})  # never past what exists
    await v.send({"type": "read", "conversation_id": cid, "seq": "x"})
    assert (await v.expect("error"))["code"] == "invalid_frame"
    await ows.send({"type": "read", "conversation_id": cid, "seq": 2})
    await ows.send({"type": "ping"})
    await ows.expect("pong")
    conv = op.call("GET", f"/api/v1/conversations/{cid}").json()["conversation"]
    assert (conv["visitor_read_seq"], conv["operator_read_seq"]) == (2, 2)
    for ws in (v, ows):
        await ws.close()


async def test_welcome_tells_a_returning_visitor_what_contacts_it_left(sqlite_server):
    v = await visitor_ws(sqlite_server, sqlite_server.demo["site_key"])
    assert v.welcome["visitor"] == {"name": None, "email": None, "phone": None}
    await v.send({"type": "message.send", "client_id": "1", "text": "Перезвоните мне"})
    await v.expect("message.ack")
    await v.send({"type": "contacts", "phone": "+7 912 345-67-89", "name": "Иван", "ref": "k"})
    await v.expect("contacts.saved", ref="k")
    await v.close()
    # another device with the same visitor token (or a cleared cache with a kept cookie)
    again = await visitor_ws(sqlite_server, sqlite_server.demo["site_key"], token=v.welcome["visitor_token"])
    assert again.welcome["visitor"] == {"name": "Иван", "email": None, "phone": "+7 912 345-67-89"}
    assert again.welcome["conversation"]["is_offline"] is False
    await again.close()
