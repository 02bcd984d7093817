"""Bans over real HTTP and sockets: a banned address cannot start a conversation with a fresh token,
its open socket is closed with ``banned`` (4430), its offline form and contacts are refused, and a
lift restores access at once — on one node and across two nodes (PostgreSQL + Redis)."""
from __future__ import annotations

import json

import httpx
import pytest
import websockets

from tests.support import OperatorClient, ServerProcess, admin, visitor_ws, wait_until


async def refused(server: ServerProcess, site_key: str, token: str | None = None) -> dict:
    """Open a visitor socket that must be refused as banned: the error frame, then close 4430."""
    conn = await websockets.connect(f"{server.ws_url}/ws/visitor?site={site_key}")
    try:
        frames = []
        try:  # an address ban is refused before the hello: sending may already fail
            await conn.send(json.dumps({"type": "hello", "visitor_token": token, "resume": {}}))
        except websockets.ConnectionClosed:
            pass
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                frames.append(json.loads(await conn.recv()))
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4430, closed.value
        errors = [f for f in frames if f.get("type") == "error"]
        assert errors and errors[-1]["code"] == "banned", frames
        assert not [f for f in frames if f.get("type") == "welcome"]
        return errors[-1]
    finally:
        await conn.close()


async def closed_as_banned(frames) -> None:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await frames.recv(10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4430
    assert any(f.get("type") == "error" and f.get("code") == "banned" for f in frames.seen), frames.seen


def ban(op: OperatorClient, **body) -> dict:
    r = op.call("POST", "/api/v1/bans", json={"expiry": "1d", **body})
    assert r.status_code == 201, r.text
    return r.json()["ban"]


async def test_an_ip_ban_refuses_fresh_tokens_forms_and_live_sockets_until_lifted(sqlite_server):
    server = sqlite_server
    key = server.demo["site_key"]
    op = admin(server)
    try:
        site_id = op.call("GET", "/api/v1/sites").json()["sites"][0]["id"]
        visitor = await visitor_ws(server, key)
        token = visitor.welcome["visitor_token"]
        await visitor.send({"type": "message.send", "client_id": "m1", "text": "Привет"})
        cid = (await visitor.expect("message.ack"))["message"]["conversation_id"]
        b = ban(op, kind="ip", conversation_id=cid, reason="спам")
        assert b["value"] == "127.0.0.1" and b["site_id"] == site_id and b["author"]["name"]
        await closed_as_banned(visitor)  # the open socket is closed at once
        # the conversation was closed with a line only operators see
        msgs = op.call("GET", f"/api/v1/conversations/{cid}/messages").json()["messages"]
        assert msgs[-1]["kind"] == "note" and "спам" in msgs[-1]["text"]
        assert op.call("GET", f"/api/v1/conversations/{cid}").json()["conversation"]["status"] == "closed"
        # a fresh token (empty storage) from the same address, and the old token: refused
        await refused(server, key)
        await refused(server, key, token)
        # the offline form and contacts: a clear 403 banned
        r = httpx.post(f"{server.url}/api/v1/widget/offline?site={key}",
                       json={"name": "Спамер", "email": "s@example.com", "message": "купи"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "banned"
        r = httpx.post(f"{server.url}/api/v1/widget/contacts?site={key}", json={"email": "s@example.com"},
                       headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "banned"
        # the bans page lists it; lifting restores access at once
        listed = op.call("GET", "/api/v1/bans", params={"q": "спам"}).json()["bans"]
        assert [x["id"] for x in listed] == [b["id"]] and listed[0]["active"]
        r = op.call("POST", f"/api/v1/bans/{b['id']}/lift")
        assert r.status_code == 200 and r.json()["ban"]["lifted_by"]["name"]
        again = await visitor_ws(server, key)
        await again.send({"type": "message.send", "client_id": "m2", "text": "Снова здесь"})
        await again.expect("message.ack")
        await again.close()
        assert op.call("GET", "/api/v1/bans").json()["bans"] == []
        assert op.call("GET", "/api/v1/bans", params={"status": "ended"}).json()["bans"][0]["id"] == b["id"]
    finally:
        op.close()


async def test_a_visitor_ban_covers_that_visitor_only(sqlite_server):
    server = sqlite_server
    key = server.demo["site_key"]
    op = admin(server)
    try:
        banned = await visitor_ws(server, key)
        other = await visitor_ws(server, key)
        b = ban(op, kind="visitor", visitor_id=banned.welcome["visitor_id"], expiry="permanent")
        assert b["value"] == str(banned.welcome["visitor_id"]) and b["expires_at"] is None
        await closed_as_banned(banned)
        await refused(server, key, banned.welcome["visitor_token"])
        await other.send({"type": "message.send", "client_id": "m1", "text": "Я не спамер"})
        await other.expect("message.ack")  # same address, another visitor: still served
        await other.close()
    finally:
        op.close()


@pytest.mark.timeout(180)
async def test_a_ban_and_its_lifting_take_effect_on_every_node(tmp_path, postgres, redis_server):
    url = postgres.create_database()
    node_a = ServerProcess(tmp_path / "a", database_url=url, broker_url=redis_server.url).start()
    node_b = ServerProcess(tmp_path / "b", database_url=url, broker_url=redis_server.url).start()
    op = admin(node_a)
    try:
        key = node_a.demo["site_key"]
        on_b = await visitor_ws(node_b, key)  # a visitor connected to node B
        b = ban(op, kind="subnet", value="127.0.0.0/8", reason="flood")
        await closed_as_banned(on_b)  # node B closed it: the event came through Redis
        await refused(node_b, key)
        await refused(node_a, key)
        op.call("POST", f"/api/v1/bans/{b['id']}/lift")
        # lifted: node B serves a fresh visitor at once (no reload period waited for)
        fresh = await visitor_ws(node_b, key)
        await fresh.send({"type": "message.send", "client_id": "m1", "text": "Здравствуйте"})
        await fresh.expect("message.ack")
        await fresh.close()
        wait_until(lambda: op.call("GET", "/api/v1/bans").json()["bans"] == [], 5, what="no active bans")
    finally:
        op.close()
        node_a.stop()
        node_b.stop()
