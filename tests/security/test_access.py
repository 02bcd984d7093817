"""Rights follow the account at once: logout, demotion, site removal and deactivation close the
operator's open sockets; request bodies are capped before parsing; the offline-form limit holds
under parallel requests."""
from __future__ import annotations

import asyncio
import concurrent.futures
import uuid

import httpx
import pytest
import websockets

from tests.support import OperatorClient, ServerProcess, admin, make_operator


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One server for the tests below that each work on an operator of their own (the limiter
    tests keep a server each: they exhaust an address's or an account's tries)."""
    proc = ServerProcess(tmp_path_factory.mktemp("access") / "data").start()
    yield proc
    proc.stop()


async def _closed_with(ws) -> int | None:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        for _ in range(100):
            await asyncio.wait_for(ws.recv(), 15)
    return closed.value.rcvd.code if closed.value.rcvd else None


@pytest.mark.parametrize("change", ["logout", "demote", "sites", "deactivate", "password"])
async def test_a_change_of_rights_closes_the_operators_open_sockets(shared_server, change):
    server = shared_server
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


def test_request_bodies_over_the_cap_are_refused_before_parsing(shared_server):
    server = shared_server
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


async def test_wrong_current_passwords_are_throttled_per_account_and_per_address(tmp_path, request):
    """``POST /me/password`` with a wrong current password: N per minute per account, 4·N per minute
    per address (FRONTDESK_LOGIN_MAX_FAILURES = N = 2 here: fewer argon2 checks), counted before the
    hash is checked (parallel guesses cannot all pass); the 429 says how long to wait; a right
    password does not count."""
    server = ServerProcess(tmp_path / "data", env={"FRONTDESK_LOGIN_MAX_FAILURES": "2"}).start()
    request.addfinalizer(server.stop)
    password = "correct horse battery"
    boss = admin(server)
    ops = []
    for i in range(5):
        email = f"pw{i}-{uuid.uuid4().hex[:6]}@example.com"
        r = boss.call("POST", "/api/v1/operators", json={"email": email, "name": f"Оператор {i}", "password": password})
        assert r.status_code == 201, r.text
        ops.append(OperatorClient(server, email, password))
    boss.close()

    async def change(op, current: str, new: str = "another long passphrase") -> httpx.Response:
        async with httpx.AsyncClient(base_url=server.url, timeout=120, cookies=dict(op.http.cookies)) as client:
            return await client.post("/api/v1/me/password", json={"current_password": current, "new_password": new},
                                     headers={"x-csrf-token": op.csrf, "origin": server.url})

    # one account, 8 parallel guesses: 2 are checked, 6 refused before any hash runs
    first = await asyncio.gather(*(change(ops[0], f"guess {i}") for i in range(8)))
    codes = [r.status_code for r in first]
    assert codes.count(403) == 2 and codes.count(429) == 6, codes
    limited = next(r for r in first if r.status_code == 429)
    error = limited.json()["error"]
    assert error["code"] == "rate_limited" and 1 <= error["retry_after"] <= 60, error
    assert limited.headers["retry-after"] == str(error["retry_after"])
    # even the right password waits now: the account is limited
    assert (await change(ops[0], password)).status_code == 429

    # a right password takes its attempt back: 1 wrong + 1 right leave room for a 2nd wrong one
    assert (await change(ops[1], "wrong")).status_code == 403
    ok = await change(ops[1], password, "brand new passphrase")
    assert ok.status_code == 200, ok.text
    assert (await change(ops[1], "wrong again")).status_code == 403
    assert (await change(ops[1], "and again")).status_code == 429

    # per address: ops 0 and 1 used 4 of the address's 8; ops 2 and 3 use the other 4 …
    for op in ops[2:4]:
        assert [(await change(op, f"w{i}")).status_code for i in range(2)] == [403] * 2
    # … and a fifth account from the same address is refused at its first guess
    refused = await change(ops[4], "first guess")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    for op in ops:
        op.close()
