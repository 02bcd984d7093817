"""REST basics: one error shape, cookies, login limits, CSRF and Origin, health."""
import asyncio

import httpx
import pytest

from tests.support import ServerProcess, admin, wait_until


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One server for the tests that do not exhaust a limit (test_login_is_rate_limited has its own)."""
    proc = ServerProcess(tmp_path_factory.mktemp("api") / "data").start()
    yield proc
    proc.stop()


def test_errors_are_json_with_code_and_message(shared_server):
    with httpx.Client(base_url=shared_server.url) as http:
        for method, path, kw, status, code in [
            ("GET", "/api/v1/nope", {}, 404, "not_found"),
            ("GET", "/api/v1/conversations", {}, 401, "unauthorized"),
            ("POST", "/api/v1/auth/login", {"content": b"not json", "headers": {"content-type": "application/json"}},
             422, "invalid_input"),
            ("POST", "/api/v1/auth/login", {"json": {"email": "x"}}, 422, "invalid_input"),
            ("POST", "/api/v1/auth/login", {"json": {"email": "a@b.example", "password": "wrong"}}, 401,
             "invalid_credentials"),
            ("GET", "/api/v1/widget/config", {"params": {"site": "missing"}}, 404, "not_found"),
            ("DELETE", "/healthz", {}, 405, "method_not_allowed"),
        ]:
            r = http.request(method, path, **kw)
            assert r.status_code == status, (path, r.text)
            body = r.json()
            assert body["error"]["code"] == code and isinstance(body["error"]["message"], str), body
            assert "Traceback" not in r.text


def test_login_sets_httponly_samesite_cookie_and_logout_ends_the_session(shared_server):
    d = shared_server.demo
    with httpx.Client(base_url=shared_server.url) as http:
        r = http.post("/api/v1/auth/login", json={"email": d["operator_email"].upper(), "password": d["operator_password"]})
        assert r.status_code == 200
        cookies = r.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("fd_session="))
        assert "HttpOnly" in session and "SameSite=lax" in session.replace("Lax", "lax")
        token = session.split(";")[0].split("=", 1)[1]
        assert len(token) >= 32  # ≥ 128 bits of randomness (32 bytes urlsafe)
        csrf = r.json()["csrf_token"]
        assert http.get("/api/v1/me").json()["operator"]["email"] == d["operator_email"]
        assert http.post("/api/v1/auth/logout", headers={"x-csrf-token": csrf}).status_code == 200
        http.cookies.set("fd_session", token)
        assert http.get("/api/v1/me").status_code == 401


def test_login_is_rate_limited(sqlite_server):
    d = sqlite_server.demo
    with httpx.Client(base_url=sqlite_server.url) as http:
        codes = [http.post("/api/v1/auth/login", json={"email": d["operator_email"], "password": "wrong-pass"}).status_code
                 for _ in range(6)]
        assert codes[:5] == [401] * 5 and codes[5] == 429
        # even the right password is refused while limited
        r = http.post("/api/v1/auth/login", json={"email": d["operator_email"], "password": d["operator_password"]})
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"


def test_writes_need_csrf_token_and_same_origin(shared_server):
    op = admin(shared_server)
    r = op.http.put("/api/v1/me/status", json={"status": "away"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    r = op.http.put("/api/v1/me/status", json={"status": "away"}, headers={"x-csrf-token": "forged"})
    assert r.status_code == 403
    r = op.http.put("/api/v1/me/status", json={"status": "away"},
                    headers={"x-csrf-token": op.csrf, "origin": "https://evil.example"})
    assert r.status_code == 403
    r = op.call("PUT", "/api/v1/me/status", json={"status": "away"})
    assert r.status_code == 200 and op.http.get("/api/v1/me").json()["operator"]["status"] == "away"
    r = op.call("PUT", "/api/v1/me/status", json={"status": "sleeping"})
    assert r.status_code == 422


async def test_operator_socket_checks_origin_and_session(shared_server):
    import websockets

    op = admin(shared_server)
    for headers in ({"Cookie": op.cookie_header, "Origin": "https://evil.example"},
                    {"Cookie": op.cookie_header},
                    {"Origin": shared_server.url},
                    {"Cookie": "fd_session=stolen-or-made-up", "Origin": shared_server.url}):
        conn = await websockets.connect(shared_server.ws_url + "/ws/operator", additional_headers=headers)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await conn.send('{"type":"hello"}')
            for _ in range(3):
                await asyncio.wait_for(conn.recv(), 10)
        assert closed.value.rcvd.code in (4401, 4403), headers
        expected = 4401 if headers.get("Origin") == shared_server.url else 4403
        assert closed.value.rcvd.code == expected, headers


def test_openapi_document_is_served(shared_server):
    r = httpx.get(shared_server.url + "/api/openapi.json")
    paths = r.json()["paths"]
    assert "/api/v1/conversations/{conversation_id}/messages" in paths
    assert "/api/v1/widget/config" in paths


def test_healthz_answers_503_when_the_database_is_gone(tmp_path, postgres):
    import asyncpg

    url = postgres.create_database()
    server = ServerProcess(tmp_path / "data", database_url=url).start()
    try:
        assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
        dbname = url.rsplit("/", 1)[1]

        async def drop():
            conn = await asyncpg.connect(host="127.0.0.1", port=postgres.port, user="postgres", database="postgres")
            await conn.execute(f'DROP DATABASE "{dbname}" WITH (FORCE)')
            await conn.close()

        asyncio.run(drop())
        r = wait_until(lambda: (lambda r: r if r.status_code == 503 else None)(httpx.get(server.url + "/healthz", timeout=10)),
                       30, what="503")
        assert r.json()["status"] != "ok"
    finally:
        server.stop()


def test_the_widget_history_read_leaves_the_visitors_recorded_user_agent_and_address_alone(shared_server):
    from tests.support import visitor_ws

    key = shared_server.demo["site_key"]

    async def chat() -> tuple[str, int, int]:
        ws = await visitor_ws(shared_server, key)
        await ws.send({"type": "message.send", "client_id": "ua-1", "text": "Здравствуйте"})
        ack = await ws.expect("message.ack")
        await ws.close()
        return ws.welcome["visitor_token"], ws.welcome["visitor_id"], ack["message"]["conversation_id"]

    token, _visitor_id, cid = asyncio.run(chat())
    boss = admin(shared_server)
    before = boss.call("GET", f"/api/v1/conversations/{cid}").json()["conversation"]["visitor"]
    assert before["user_agent"]  # what the socket's hello recorded
    r = httpx.get(f"{shared_server.url}/api/v1/widget/conversations/{cid}/messages",
                  params={"site": key}, headers={"Authorization": f"Bearer {token}", "User-Agent": "Other/1.0"})
    assert r.status_code == 200 and [m["text"] for m in r.json()["messages"]] == ["Здравствуйте"]
    after = boss.call("GET", f"/api/v1/conversations/{cid}").json()["conversation"]["visitor"]
    assert after["user_agent"] == before["user_agent"] != "Other/1.0"
    assert after["last_seen_at"] == before["last_seen_at"]
