"""Issue 16: with Redis configured, the login limiter and the offline-form limit hold across
nodes — two nodes on one Redis give an address the same number of tries as one node (without
sharing, each node would allow its own count: twice as many)."""
from __future__ import annotations

import concurrent.futures

import httpx

from tests.support import ServerProcess


def test_limits_are_shared_by_nodes_on_one_redis(tmp_path, redis_server):
    env = {"FRONTDESK_OFFLINE_RATE_LIMIT": "4", "FRONTDESK_LOGIN_MAX_FAILURES": "3"}
    nodes = [ServerProcess(tmp_path / f"node{i}", broker_url=redis_server.url, env=env).start() for i in range(2)]
    try:
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
    finally:
        for node in nodes:
            node.stop()
