"""The automatic holding line ("Одну минуточку, уточняю…", issue 9) with two nodes on one PostgreSQL and
Redis, on the controllable clock (FRONTDESK_TEST_CLOCK_FILE): both nodes run the check every 0.2 s, the
visitor gets the line once per waiting stretch — never twice."""
from __future__ import annotations

from tests.support import OperatorClient, ServerProcess, visitor_ws


async def _next_operator_message(ws, timeout: float = 30) -> dict:
    while True:
        frame = await ws.expect("message.created", timeout=timeout)
        if frame["message"]["kind"] == "operator":
            return frame["message"]


async def test_the_automatic_holding_line_is_sent_once_with_two_nodes(tmp_path, postgres, redis_server):
    from tests.mail.conftest import ClockFile

    clock = ClockFile(tmp_path / "clock")
    env = {"FRONTDESK_TEST_CLOCK_FILE": str(clock.path), "FRONTDESK_OFFLINE_TICK": "0.2",
           "FRONTDESK_NO_REPLY_SECONDS": "0"}
    url = postgres.create_database()
    node_a = ServerProcess(tmp_path / "a", database_url=url, broker_url=redis_server.url, env=env).start()
    node_b = ServerProcess(tmp_path / "b", database_url=url, broker_url=redis_server.url, env=env).start()
    try:
        d = node_a.demo
        op = OperatorClient(node_b, d["admin_email"], d["admin_password"])
        op.set_status("online")
        site_id = op.call("GET", "/api/v1/sites").json()["sites"][0]["id"]
        r = op.call("PATCH", f"/api/v1/sites/{site_id}",
                    json={"widget": {"auto_hold_seconds": 30, "texts": {"ru": {"auto_hold": "Секунду, смотрю склад…"}}}})
        assert r.status_code == 200, r.text
        v = await visitor_ws(node_a, d["site_key"])
        await v.send({"type": "message.send", "client_id": "q1", "text": "Есть в наличии?"})
        cid = (await v.expect("message.ack"))["message"]["conversation_id"]
        assert op.call("POST", f"/api/v1/conversations/{cid}/take").status_code == 200
        clock.advance(31)
        line = await _next_operator_message(v)
        assert line["text"] == "Секунду, смотрю склад…" and line["author"]["type"] == "operator"
        # a second stretch: the visitor asks again after an operator reply
        assert op.call("POST", f"/api/v1/conversations/{cid}/messages",
                       json={"client_id": "a1", "text": "Уточняю наличие"}).status_code in (200, 201)
        await _next_operator_message(v)
        await v.send({"type": "message.send", "client_id": "q2", "text": "А цвет серый есть?"})
        await v.expect("message.ack")
        clock.advance(31)
        await _next_operator_message(v)  # by now both nodes have checked the first stretch many times
        msgs = op.call("GET", f"/api/v1/conversations/{cid}/messages").json()["messages"]
        lines = [m for m in msgs if (m["client_id"] or "").startswith("autohold:")]
        assert len(lines) == 2, [(m["seq"], m["kind"], m["text"]) for m in msgs]
        conv = op.call("GET", f"/api/v1/conversations/{cid}").json()["conversation"]
        assert conv["last_message"]["text"] == "А цвет серый есть?"  # the question stays the preview
        await v.close()
    finally:
        node_a.stop()
        node_b.stop()
