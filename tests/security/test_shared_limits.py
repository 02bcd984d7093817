"""Issue 16: with Redis configured, the limits hold across nodes — two nodes on one Redis give an
address (or an account) the same number of tries as one node (without sharing, each node would
allow its own count: twice as many): logins, the offline form, wrong current passwords, open
visitor sockets and new visitors per address."""
from __future__ import annotations

import asyncio
import concurrent.futures
import json

import httpx
import pytest
import websockets

from tests.support import OperatorClient, RedisServer, ServerProcess, visitor_ws, wait_until

ENV = {"FRONTDESK_OFFLINE_RATE_LIMIT": "4", "FRONTDESK_LOGIN_MAX_FAILURES": "3",
       "FRONTDESK_VISITOR_SOCKETS_PER_ADDRESS": "3", "FRONTDESK_NEW_VISITORS_PER_ADDRESS": "4"}


@pytest.fixture(scope="module")
def own_redis():
    """A Redis of this module's own: the session's Redis also counts other tests' visitors from 127.0.0.1."""
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def nodes(tmp_path_factory, own_redis):
    """Two `serve` processes (each with its own SQLite) on one Redis: the demo data has the same
    ids on both, so (address, site 1) or operator 2 is one key on Redis."""
    redis_server = own_redis
    base = tmp_path_factory.mktemp("shared-limits")
    started: list[ServerProcess] = []
    try:
        for i in range(2):
            started.append(ServerProcess(base / f"node{i}", broker_url=redis_server.url, env=ENV).start())
        yield started
    finally:
        for node in started:
            node.stop()


def test_limits_are_shared_by_nodes_on_one_redis(nodes):
    email = nodes[0].demo["admin_email"]  # the same demo e-mail on both nodes

    def login(i: int) -> int:
        return httpx.post(f"{nodes[i % 2].url}/api/v1/auth/login", timeout=30,
                          json={"email": email, "password": f"guess {i}"}).status_code

    def offline(i: int) -> int:
        node = nodes[i % 2]
        return httpx.post(f"{node.url}/api/v1/widget/offline", params={"site": node.demo["site_key"]}, timeout=30,
                          json={"name": "Гость", "email": f"g{i}@example.com", "message": f"вопрос {i}"}).status_code

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        logins = list(pool.map(login, range(12)))
        offline_codes = list(pool.map(offline, range(12)))
    assert logins.count(401) == 3 and logins.count(429) == 9, logins
    # both nodes' demo sites have id 1: the key (address, site 1) is one key on Redis
    assert offline_codes.count(201) == 4 and offline_codes.count(429) == 8, offline_codes
    # a success takes its attempt back on every node
    d = nodes[1].demo
    other = "some-other@demo.frontdesk"
    assert httpx.post(f"{nodes[0].url}/api/v1/auth/login", json={"email": other, "password": "x"}).status_code == 401
    assert httpx.post(f"{nodes[1].url}/api/v1/auth/login",
                      json={"email": d["operator_email"], "password": d["operator_password"]}).status_code == 200


def test_wrong_current_passwords_are_counted_across_nodes(nodes):
    ops = [OperatorClient(node, node.demo["operator_email"], node.demo["operator_password"]) for node in nodes]
    assert ops[0].operator["id"] == ops[1].operator["id"]  # one account key on Redis

    def change(i: int) -> httpx.Response:
        return ops[i % 2].call("POST", "/api/v1/me/password",
                               json={"current_password": f"guess {i}", "new_password": "another long passphrase"})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(change, range(8)))
    codes = [r.status_code for r in answers]
    # 3 wrong passwords per minute for the account, whichever node checks them
    assert codes.count(403) == 3 and codes.count(429) == 5, codes
    limited = next(r for r in answers if r.status_code == 429)
    assert 1 <= limited.json()["error"]["retry_after"] <= 60
    assert int(limited.headers["retry-after"]) == limited.json()["error"]["retry_after"]
    for op in ops:
        op.close()


async def _refused(node: ServerProcess, hello: dict | None = None) -> tuple[int | None, list[str]]:
    """Connect a visitor socket that the server closes: (close code, the frames it sent first)."""
    conn = await websockets.connect(f"{node.ws_url}/ws/visitor?site={node.demo['site_key']}")
    seen: list[str] = []
    if hello is not None:
        await conn.send(json.dumps(hello))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        for _ in range(5):
            seen.append(await asyncio.wait_for(conn.recv(), 10))
    return (closed.value.rcvd.code if closed.value.rcvd else None), seen


async def test_visitor_caps_per_address_hold_across_nodes(nodes, own_redis):
    """3 open visitor sockets and 4 new visitors per address in all: a node with one socket of
    its own still refuses the fourth, and a node that created one visitor refuses the fifth."""
    import redis

    store = redis.Redis.from_url(own_redis.url)
    leases = "frontdesk:limit:sockets:127.0.0.1"

    def held() -> int:
        return store.zcard(leases)

    first = await visitor_ws(nodes[0], nodes[0].demo["site_key"])   # new visitor 1, socket 1
    second = await visitor_ws(nodes[1], nodes[1].demo["site_key"])  # new visitor 2, socket 2
    again = await visitor_ws(nodes[0], nodes[0].demo["site_key"], token=first.welcome["visitor_token"])  # socket 3
    assert held() == 3
    # node 1 has one socket of its own: only the shared count says no
    code, frames = await _refused(nodes[1])
    assert code == 4429 and "rate_limited" in frames[0], (code, frames)
    await again.close()
    wait_until(lambda: held() == 2, what="the closed socket's lease to end")
    third = await visitor_ws(nodes[1], nodes[1].demo["site_key"], token=second.welcome["visitor_token"])
    assert held() == 3
    for ws in (first, second, third):
        await ws.close()
    wait_until(lambda: held() == 0, what="every lease to end")

    # new visitors: 2 so far (a returning visitor with its token is not counted)
    fresh = [await visitor_ws(nodes[0], nodes[0].demo["site_key"]), await visitor_ws(nodes[1], nodes[1].demo["site_key"])]
    code, frames = await _refused(nodes[0], {"type": "hello", "resume": {}})
    assert code == 4429 and "too many new visitors" in frames[0], (code, frames)
    returning = await visitor_ws(nodes[0], nodes[0].demo["site_key"], token=first.welcome["visitor_token"])
    for ws in (*fresh, returning):
        await ws.close()
    store.close()
