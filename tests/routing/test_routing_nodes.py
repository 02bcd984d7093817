"""Automatic routing on two nodes (PostgreSQL + Redis): both route from the same truth in the
database — an operator's limit holds across nodes, a visitor on node B waits in the queue and sees its
place, and when the operator closes a chat through node B, the next visitor is routed and the queue
moves for visitors on either node."""
from __future__ import annotations

import uuid

from tests.support import OperatorClient, ServerProcess, admin, visitor_ws


async def _frame(ws, type_: str, **match) -> dict:
    """The frame of this type and fields, already received (routing on either node may answer before
    the ``message.ack`` arrives) or the next one to come."""
    for frame in ws.seen:
        if frame.get("type") == type_ and all(frame.get(k) == v for k, v in match.items()):
            return frame
    return await ws.expect(type_, timeout=15, **match)


async def _write(server: ServerProcess, key: str, text: str):
    ws = await visitor_ws(server, key)
    await ws.send({"type": "message.send", "client_id": uuid.uuid4().hex[:12], "text": text})
    ack = await ws.expect("message.ack")
    return ws, ack["message"]["conversation_id"]


async def test_two_nodes_route_from_one_truth_and_the_queue_moves_on_both(tmp_path, postgres, redis_server):
    url = postgres.create_database()
    node_a = ServerProcess(tmp_path / "a", database_url=url, broker_url=redis_server.url).start()
    node_b = ServerProcess(tmp_path / "b", database_url=url, broker_url=redis_server.url).start()
    try:
        d = node_a.demo
        key = d["site_key"]
        boss = admin(node_a)
        site_id = next(s["id"] for s in boss.call("GET", "/api/v1/sites").json()["sites"] if s["site_key"] == key)
        anna_b = OperatorClient(node_b, d["operator_email"], d["operator_password"])
        anna_id = anna_b.operator["id"]
        assert boss.call("PUT", f"/api/v1/sites/{site_id}/routing", json={"mode": "auto"}).status_code == 200
        assert boss.call("PUT", f"/api/v1/operators/{anna_id}/chat-limit", json={"chat_limit": 1}).status_code == 200
        anna_b.set_status("online")  # on node B; node A's router reads it from the database

        v1, c1 = await _write(node_a, key, "Первый")
        assigned = await _frame(v1, "conversation.assigned", conversation_id=c1)
        assert assigned["operator"]["name"] == "Анна"
        v2, c2 = await _write(node_b, key, "Второй")
        assert await _frame(v2, "queue.position", conversation_id=c2, position=1)
        v3, c3 = await _write(node_a, key, "Третий")
        assert await _frame(v3, "queue.position", conversation_id=c3, position=2)

        # the limit holds on both nodes: still one chat for Анна after several routing passes
        held = [c for c in anna_b.call("GET", "/api/v1/conversations").json()["conversations"]
                if c["assignee"] and c["assignee"]["id"] == anna_id]
        assert [c["id"] for c in held] == [c1]

        assert anna_b.call("POST", f"/api/v1/conversations/{c1}/close").status_code == 200
        assert (await _frame(v2, "conversation.assigned", conversation_id=c2))["operator"]["id"] == anna_id
        assert await _frame(v3, "queue.position", conversation_id=c3, position=1)
        held = [c for c in anna_b.call("GET", "/api/v1/conversations").json()["conversations"]
                if c["assignee"] and c["assignee"]["id"] == anna_id]
        assert [c["id"] for c in held] == [c2]
        # a visitor who reconnects (to the other node) gets its place right after welcome
        await v3.close()
        again = await visitor_ws(node_b, key, token=v3.welcome["visitor_token"])
        assert await _frame(again, "queue.position", conversation_id=c3, position=1)
        for ws in (v1, v2, again):
            await ws.close()
        boss.close()
        anna_b.close()
    finally:
        node_a.stop()
        node_b.stop()
