"""Rights follow the account at once: logout, demotion, site removal and deactivation close the
operator's open sockets; request bodies are capped before parsing; the offline-form limit holds
under parallel requests."""
from __future__ import annotations

import asyncio
import concurrent.futures

import httpx
import pytest
import websockets

from tests.support import admin, make_operator


async def _closed_with(ws) -> int | None:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        for _ in range(100):
            await asyncio.wait_for(ws.recv(), 15)
    return closed.value.rcvd.code if closed.value.rcvd else None


@pytest.mark.parametrize("change", ["logout", "demote", "sites", "deactivate", "password"])
async def test_a_change_of_rights_closes_the_operators_open_sockets(sqlite_server, change):
    server = sqlite_server
    boss = admin(server)
    op = make_operator(server, admin_role=change == "demote")
    me = op.call("GET", "/api/v1/me").json()
    ws = await op.ws()
    if change == "logout":
        assert op.call("POST", "/api/v1/auth/logout").status_code == 200
    elif change == "demote":
        assert boss.call("PATCH", f"/api/v1/operators/{me['operator']['id']}", json={"role": "operator"}).status_code == 200
    elif change == "sites":
        assert boss.call("PUT", f"/api/v1/operators/{me['operator']['id']}/sites", json={"site_ids": []}).status_code == 200
    elif change == "deactivate":
        assert boss.call("PATCH", f"/api/v1/operators/{me['operator']['id']}", json={"is_active": False}).status_code == 200
    else:
        assert boss.call("POST", f"/api/v1/operators/{me['operator']['id']}/password",
                         json={"password": "another long password"}).status_code == 200
    assert await _closed_with(ws.conn) == 4401
    if change == "sites":  # it reconnects with the narrowed rights: no conversation of the old site
        ws2 = await op.ws()
        assert ws2.welcome["conversations"] == []
        await ws2.close()
    boss.close()
    op.close()


def test_request_bodies_over_the_cap_are_refused_before_parsing(sqlite_server):
    server = sqlite_server
    key = server.demo["site_key"]
    big = b'{"name": "x", "email": "a@example.com", "message": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    r = httpx.post(f"{server.url}/api/v1/widget/offline", params={"site": key}, content=big,
                   headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"

    def chunks():
        for _ in range(40):
            yield b"x" * 65536

    r = httpx.post(f"{server.url}/api/v1/widget/offline", params={"site": key}, content=chunks(),
                   headers={"content-type": "application/json"})
    assert r.status_code == 413
    wide = '{"name":"x","email":"a@example.com","message":"hi",' + ",".join(f'"k{i}":1' for i in range(20000)) + "}"
    r = httpx.post(f"{server.url}/api/v1/widget/offline", params={"site": key}, content=wide,
                   headers={"content-type": "application/json"})
    assert r.status_code == 413  # a JSON form is capped at 64 KiB
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_the_offline_form_limit_holds_under_parallel_requests(tmp_path):
    from tests.support import ServerProcess

    server = ServerProcess(tmp_path / "data", env={"FRONTDESK_OFFLINE_RATE_LIMIT": "5"}).start()
    try:
        key = server.demo["site_key"]

        def post(i: int) -> int:
            return httpx.post(f"{server.url}/api/v1/widget/offline", params={"site": key}, timeout=30,
                              json={"name": "Спамер", "email": f"s{i}@example.com", "message": f"спам {i}"}).status_code

        with concurrent.futures.ThreadPoolExecutor(30) as pool:
            codes = list(pool.map(post, range(30)))
        assert codes.count(201) == 5 and codes.count(429) == 25, codes
    finally:
        server.stop()


async def test_logins_are_capped_per_account_from_many_addresses(sqlite_server):
    """5 failures per minute per address+e-mail, and 20 per e-mail from any address."""
    server = sqlite_server
    email = server.demo["admin_email"]
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        codes = await asyncio.gather(*(client.post("/api/v1/auth/login", json={"email": email, "password": f"x{i}"})
                                       for i in range(30)))
    statuses = [r.status_code for r in codes]
    # the check is atomic: parallel guesses cannot all pass it while the hashes run
    assert statuses.count(401) == 5 and statuses.count(429) == 25, statuses
