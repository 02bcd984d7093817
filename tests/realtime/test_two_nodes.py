"""Two stateless nodes on one PostgreSQL + Redis: a visitor on one, the operator on the other."""
from tests.support import ServerProcess, OperatorClient, visitor_ws


async def test_visitor_and_operator_on_different_nodes(tmp_path, postgres, redis_server):
    url = postgres.create_database()
    node_a = ServerProcess(tmp_path / "a", database_url=url, broker_url=redis_server.url).start()
    node_b = ServerProcess(tmp_path / "b", database_url=url, broker_url=redis_server.url).start()
    try:
        d = node_a.demo  # node_b found the same demo site in the shared database
        assert node_b.demo["site_key"] == d["site_key"]
        op = OperatorClient(node_b, d["admin_email"], d["admin_password"])
        ows = await op.ws()
        v = await visitor_ws(node_a, d["site_key"])
        await v.send({"type": "message.send", "client_id": "n1", "text": "Через два узла"})
        got = await ows.expect("message.created")
        cid = got["message"]["conversation_id"]
        assert got["message"]["text"] == "Через два узла"
        await ows.send({"type": "message.send", "conversation_id": cid, "client_id": "r1", "text": "Вижу!"})
        reply = await v.expect("message.created", timeout=10)
        while reply["message"]["kind"] != "operator":
            reply = await v.expect("message.created")
        assert reply["message"]["seq"] == 2
        # a second tab of the same visitor on the other node shares the one conversation
        v2 = await visitor_ws(node_b, d["site_key"], token=v.welcome["visitor_token"])
        assert v2.welcome["conversation"]["id"] == cid
        await v2.send({"type": "message.send", "client_id": "n2", "text": "из второй вкладки"})
        echoed = await v.expect("message.created")
        while echoed["message"]["client_id"] != "n2":
            echoed = await v.expect("message.created")
        assert echoed["message"]["seq"] == 3
        for ws in (v, v2, ows):
            await ws.close()
    finally:
        node_a.stop()
        node_b.stop()
