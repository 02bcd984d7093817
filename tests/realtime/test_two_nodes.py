"""Two stateless nodes on one PostgreSQL + Redis: a visitor on one, the operator on the other."""
from tests.support import OperatorClient, ServerProcess, visitor_ws


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


async def _collect_messages(ws, wanted: set[str], timeout: float = 40) -> dict[str, int]:
    """client_id → how many message.created frames carried it, until every wanted one arrived."""
    import asyncio

    seen: dict[str, int] = {}
    deadline = asyncio.get_running_loop().time() + timeout
    while not wanted <= set(seen):
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, f"missing {wanted - set(seen)}"
        frame = await ws.recv(left)
        if frame.get("type") == "message.created":
            cid = frame["message"]["client_id"]
            seen[cid] = seen.get(cid, 0) + 1
    return seen


async def test_redis_down_for_seconds_then_back_every_message_arrives_once(tmp_path, postgres):
    """Redis stops mid-conversation and starts again: neither node restarts, every message sent
    meanwhile (stored, acked) reaches the other side exactly once (the hub catches up from the database)."""
    import asyncio

    from tests.support import RedisServer

    redis = RedisServer().start()
    url = postgres.create_database()
    node_a = ServerProcess(tmp_path / "a", database_url=url, broker_url=redis.url).start()
    node_b = ServerProcess(tmp_path / "b", database_url=url, broker_url=redis.url).start()
    try:
        d = node_a.demo
        op = OperatorClient(node_b, d["admin_email"], d["admin_password"])
        ows = await op.ws()
        v = await visitor_ws(node_a, d["site_key"])
        await v.send({"type": "message.send", "client_id": "before", "text": "до сбоя"})
        cid = (await v.expect("message.ack"))["message"]["conversation_id"]
        await _collect_messages(ows, {"before"})

        await asyncio.to_thread(redis.stop)
        for i in range(3):
            await v.send({"type": "message.send", "client_id": f"v-{i}", "text": f"посетитель {i}"})
            await v.expect("message.ack", client_id=f"v-{i}")
            await ows.send({"type": "message.send", "conversation_id": cid, "client_id": f"o-{i}",
                            "text": f"оператор {i}"})
            await ows.expect("message.ack", client_id=f"o-{i}")
        await asyncio.sleep(5)  # the outage lasts (this is the scenario, not a wait for a result)
        await asyncio.to_thread(redis.start)

        on_operator = await _collect_messages(ows, {"v-0", "v-1", "v-2"})
        on_visitor = await _collect_messages(v, {"o-0", "o-1", "o-2"})
        # and live delivery works again, through Redis
        await v.send({"type": "message.send", "client_id": "after", "text": "после сбоя"})
        on_operator.update({k: on_operator.get(k, 0) + n for k, n in (await _collect_messages(ows, {"after"})).items()})
        assert all(n == 1 for n in on_operator.values()), on_operator
        assert all(n == 1 for n in on_visitor.values()), on_visitor
        history = op.call("GET", f"/api/v1/conversations/{cid}/messages").json()["messages"]
        assert [m["seq"] for m in history] == list(range(1, 9))
        for ws in (v, ows):
            await ws.close()
    finally:
        node_a.stop()
        node_b.stop()
        redis.stop()


async def test_an_unanswered_chat_is_offered_again_exactly_once_per_period_with_two_nodes(tmp_path, postgres,
                                                                                         redis_server):
    from tests.mail.conftest import ClockFile

    clock = ClockFile(tmp_path / "clock")
    env = {"FRONTDESK_TEST_CLOCK_FILE": str(clock.path), "FRONTDESK_OFFER_REPEAT": "30"}
    url = postgres.create_database()
    node_a = ServerProcess(tmp_path / "a", database_url=url, broker_url=redis_server.url, env=env).start()
    node_b = ServerProcess(tmp_path / "b", database_url=url, broker_url=redis_server.url, env=env).start()
    try:
        d = node_a.demo
        op = OperatorClient(node_b, d["admin_email"], d["admin_password"])
        op.set_status("online")
        ows = await op.ws()
        v = await visitor_ws(node_a, d["site_key"])
        await v.send({"type": "message.send", "client_id": "q", "text": "Есть кто?"})
        await v.expect("message.ack")
        first = await ows.expect("conversation.offered")
        assert first["repeat"] == 0
        clock.advance(31)
        await ows.expect("conversation.offered", timeout=30, repeat=1)
        clock.advance(30)
        await ows.expect("conversation.offered", timeout=30, repeat=2)
        repeats = [f["repeat"] for f in ows.seen if f.get("type") == "conversation.offered"]
        assert repeats == [0, 1, 2], repeats  # both nodes run the repeater; each repeat is published once
        for ws in (v, ows):
            await ws.close()
    finally:
        node_a.stop()
        node_b.stop()


def test_two_nodes_started_at_the_same_moment_on_an_empty_database_both_come_up(tmp_path, postgres,
                                                                                redis_server):
    import threading

    url = postgres.create_database()
    nodes = [ServerProcess(tmp_path / n, database_url=url, broker_url=redis_server.url) for n in "ab"]
    errors: list[BaseException] = []

    def start(node: ServerProcess) -> None:
        try:
            node.start()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(n,)) for n in nodes]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        assert not errors, errors
        assert nodes[0].demo["site_key"] and nodes[1].demo["site_key"]
        assert nodes[0].demo["site_key"] == nodes[1].demo["site_key"]  # one demo site, not two
    finally:
        for n in nodes:
            n.stop()
