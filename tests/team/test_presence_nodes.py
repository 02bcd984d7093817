"""Presence across nodes (PostgreSQL + Redis): the operator's online state is the union of its tabs on every node."""

from tests.support import OperatorClient, ServerProcess, make_operator, wait_for, wait_until


async def _wait_for_rows(postgres, url: str, n: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(host="127.0.0.1", port=postgres.port, user="postgres",
                                 database=url.rsplit("/", 1)[1])
    try:
        async def has_n() -> bool:
            return await conn.fetchval("SELECT count(*) FROM operator_presence") == n

        await wait_for(has_n, 15, interval=0.05, what=f"{n} operator_presence rows")
    finally:
        await conn.close()


def _status(op: OperatorClient) -> str:
    return op.http.get("/api/v1/me").json()["operator"]["status"]


async def test_a_tab_on_node_b_keeps_the_operator_online_when_its_tab_on_node_a_closes(tmp_path, postgres,
                                                                                         redis_server):
    env = {"FRONTDESK_OFFLINE_GRACE": "0.5"}
    url = postgres.create_database()
    node_a = ServerProcess(tmp_path / "a", database_url=url, broker_url=redis_server.url, env=env).start()
    node_b = ServerProcess(tmp_path / "b", database_url=url, broker_url=redis_server.url, env=env).start()
    try:
        d = node_a.demo
        on_a = OperatorClient(node_a, d["admin_email"], d["admin_password"])
        on_b = OperatorClient(node_b, d["admin_email"], d["admin_password"])
        control = make_operator(node_a, name="Контроль")  # a colleague whose only tab is on node A
        on_a.set_status("online")
        control.set_status("online")
        tab_a, tab_b, tab_control = await on_a.ws(), await on_b.ws(), await control.ws()
        watcher = await on_b.ws()  # sees every status change, from either node
        await tab_a.close()
        await tab_control.close()
        # node A's grace timers fire in the order they were armed: once the colleague is offline,
        # node A has also decided about the operator whose tab on node B is still open
        changed = await watcher.expect("operator.status_changed", timeout=15, operator_id=control.operator["id"])
        assert changed["status"] == "offline"
        assert _status(on_a) == "online"
        await watcher.send({"type": "ping"})
        await watcher.expect("pong")
        assert not [f for f in watcher.seen if f.get("type") == "operator.status_changed"
                    and f["operator_id"] == on_a.operator["id"]]
        # the last tab anywhere closes: offline after the grace period
        await tab_b.close()
        await watcher.close()
        wait_until(lambda: _status(on_a) == "offline", 15, what="offline after the last tab on any node")
    finally:
        node_a.stop()
        node_b.stop()


async def test_tabs_of_a_node_that_stopped_expire(tmp_path, postgres, redis_server):
    env = {"FRONTDESK_OFFLINE_GRACE": "0.5", "FRONTDESK_PRESENCE_TTL": "3"}
    url = postgres.create_database()
    node_a = ServerProcess(tmp_path / "a", database_url=url, broker_url=redis_server.url, env=env).start()
    node_b = ServerProcess(tmp_path / "b", database_url=url, broker_url=redis_server.url, env=env).start()
    try:
        d = node_a.demo
        on_a = OperatorClient(node_a, d["admin_email"], d["admin_password"])
        on_b = OperatorClient(node_b, d["admin_email"], d["admin_password"])
        on_a.set_status("online")
        tab_b = await on_b.ws()
        await _wait_for_rows(postgres, url, 1)  # node B wrote its tab down
        node_b.kill()  # crashes with the tab open: no grace timer will ever fire there
        wait_until(lambda: _status(on_a) == "offline", 20, what="node A drops node B's expired tabs")
        await _wait_for_rows(postgres, url, 0)
        del tab_b
    finally:
        node_a.stop()
        node_b.stop()
