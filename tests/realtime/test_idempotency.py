"""A retried send with the same client_id yields exactly one message."""
import asyncio

import pytest

from tests.support import admin, visitor_ws


@pytest.fixture(scope="module")
def server(module_server):
    """One server per engine for this module: each test has a visitor and client ids of its own."""
    return module_server


async def test_retried_visitor_send_is_stored_once(server):
    v = await visitor_ws(server, server.demo["site_key"])
    frame = {"type": "message.send", "client_id": "retry-me", "text": "Один раз"}
    # a burst of the same send (as after a reconnect), plus a second socket of the same visitor
    v2 = await visitor_ws(server, server.demo["site_key"], token=v.welcome["visitor_token"])
    for _ in range(3):
        await v.send(frame)
    await v2.send(frame)
    acks = [await v.expect("message.ack", client_id="retry-me") for _ in range(3)]
    acks.append(await v2.expect("message.ack", client_id="retry-me"))
    assert len({(a["message"]["id"], a["message"]["seq"]) for a in acks}) == 1
    cid = acks[0]["message"]["conversation_id"]

    await v.send({"type": "message.send", "client_id": "next", "text": "Второе"})
    assert (await v.expect("message.ack", client_id="next"))["message"]["seq"] == 2

    op = admin(server)
    msgs = op.call("GET", f"/api/v1/conversations/{cid}/messages").json()["messages"]
    assert [(m["seq"], m["text"]) for m in msgs] == [(1, "Один раз"), (2, "Второе")]
    await v.close()
    await v2.close()

    # the same client_id after a reconnect still answers with the stored message
    v3 = await visitor_ws(server, server.demo["site_key"], token=v.welcome["visitor_token"], resume={str(cid): 2})
    await v3.send(frame)
    ack = await v3.expect("message.ack", client_id="retry-me")
    assert ack["message"]["seq"] == 1
    await v3.close()


async def test_retried_operator_send_is_stored_once_over_socket_and_rest(server):
    v = await visitor_ws(server, server.demo["site_key"])
    await v.send({"type": "message.send", "client_id": "q", "text": "Вопрос"})
    cid = (await v.expect("message.ack"))["message"]["conversation_id"]
    op = admin(server)
    ows = await op.ws()
    frame = {"type": "message.send", "conversation_id": cid, "client_id": "answer-1", "text": "Ответ"}
    await asyncio.gather(ows.send(frame), ows.send(frame))
    a1 = await ows.expect("message.ack", client_id="answer-1")
    a2 = await ows.expect("message.ack", client_id="answer-1")
    r = op.call("POST", f"/api/v1/conversations/{cid}/messages", json={"client_id": "answer-1", "text": "Ответ"})
    assert r.status_code == 200
    assert a1["message"]["id"] == a2["message"]["id"] == r.json()["message"]["id"]
    msgs = op.call("GET", f"/api/v1/conversations/{cid}/messages").json()["messages"]
    assert [m["text"] for m in msgs] == ["Вопрос", "Ответ"]
    await ows.close()
    await v.close()


async def test_client_id_is_validated(sqlite_server):
    v = await visitor_ws(sqlite_server, sqlite_server.demo["site_key"])
    for bad in ["", "x" * 65, "has space", None, 5, "ключ"]:
        await v.send({"type": "message.send", "client_id": bad, "text": "hi"})
        err = await v.expect("error")
        assert err["code"] == "invalid_frame"
    await v.close()
