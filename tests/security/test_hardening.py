"""Issue 16, low items: demo accounts after a start without --demo, file modes, sliding sessions,
forwarded addresses only from configured proxies."""
from __future__ import annotations

import os
import stat
import subprocess
import sys

import httpx

from tests.mail.conftest import ClockFile
from tests.support import ServerProcess


def _login(server: ServerProcess, who: str = "admin") -> httpx.Response:
    d = server.demo
    return httpx.post(f"{server.url}/api/v1/auth/login",
                      json={"email": d[f"{who}_email"], "password": d[f"{who}_password"]}, timeout=20)


def test_a_start_without_demo_deactivates_the_demo_accounts(tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    try:
        assert _login(server).status_code == 200
        session = httpx.Client(base_url=server.url, timeout=20)
        assert session.post("/api/v1/auth/login", json={"email": server.demo["operator_email"],
                                                        "password": server.demo["operator_password"]}).status_code == 200
        server.stop()
        server.demo_flag = False
        server.start()
        assert _login(server).status_code == 401
        assert _login(server, "operator").status_code == 401
        assert session.get("/api/v1/me").status_code == 401  # an open session ends with it
        assert "demo accounts admin@demo.frontdesk, anna@demo.frontdesk are deactivated" in server.log()
        server.stop()
        server.demo_flag = True
        server.start()
        assert _login(server).status_code == 200  # --demo turns them on again
    finally:
        server.stop()


def test_the_data_directory_and_database_are_private_under_umask_022(tmp_path):
    data = tmp_path / "fresh"
    old = os.umask(0o022)
    try:
        server = ServerProcess(data).start()
    finally:
        os.umask(old)
    try:
        assert _login(server).status_code == 200  # writes: the WAL exists
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        files = [p for p in data.iterdir() if p.is_file() and not p.name.startswith("server-")]
        names = {p.name for p in files}
        assert {"frontdesk.db", "secret_key", "demo.json"} <= names, names
        assert "frontdesk.db-wal" in names, names
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path.name, oct(path.stat().st_mode))
    finally:
        server.stop()
    # the other commands too
    env = {**os.environ, "PYTHONPATH": "src"}
    other = tmp_path / "cli"
    subprocess.run([sys.executable, "-c", "import os, sys; os.umask(0o022); from frontdesk.cli import main; "
                    "sys.exit(main(['migrate', '--data-dir', sys.argv[1]]))", str(other)], check=True, env=env)
    assert stat.S_IMODE((other / "frontdesk.db").stat().st_mode) == 0o600


def test_a_session_lasts_session_days_without_activity(tmp_path):
    clock = ClockFile(tmp_path / "clock")
    server = ServerProcess(tmp_path / "data", env={"FRONTDESK_TEST_CLOCK_FILE": str(clock.path),
                                                    "FRONTDESK_SESSION_DAYS": "2"}).start()
    try:
        used, idle = httpx.Client(base_url=server.url), httpx.Client(base_url=server.url)
        for client in (used, idle):
            d = server.demo
            r = client.post("/api/v1/auth/login", json={"email": d["admin_email"], "password": d["admin_password"]})
            assert r.status_code == 200
            assert "Max-Age=172800" in r.headers["set-cookie"]
        for _ in range(4):  # 4 × 1.5 days = 6 days of daily use: the session slides along
            clock.advance(1.5 * 86400)
            r = used.get("/api/v1/me")
            assert r.status_code == 200, r.text
            assert "Max-Age=172800" in r.headers.get("set-cookie", "")  # the cookie slides too
        assert idle.get("/api/v1/me").status_code == 401  # 6 days without activity: over
        clock.advance(2 * 86400 + 60)
        assert used.get("/api/v1/me").status_code == 401
    finally:
        server.stop()


def test_forwarded_addresses_only_from_configured_proxies(tmp_path):
    """The login limiter counts per client address: a forged X-Forwarded-For must not give an
    attacker a fresh address per guess — unless the peer is a configured proxy."""
    def guesses(server: ServerProcess) -> list[int]:
        email = server.demo["admin_email"]
        return [httpx.post(f"{server.url}/api/v1/auth/login", json={"email": email, "password": f"guess {i}"},
                           headers={"X-Forwarded-For": f"203.0.113.{i}"}, timeout=20).status_code for i in range(8)]

    server = ServerProcess(tmp_path / "a").start()
    try:
        codes = guesses(server)
        assert codes.count(401) == 5 and codes.count(429) == 3, codes  # one address: the header was ignored
    finally:
        server.stop()
    server = ServerProcess(tmp_path / "b", env={"FRONTDESK_TRUSTED_PROXIES": "127.0.0.1"}).start()
    try:
        assert guesses(server) == [401] * 8  # eight clients behind our proxy
    finally:
        server.stop()


def test_caps_per_address_config_cache_and_photo_streaming(tmp_path):
    import asyncio

    import websockets

    from tests.support import admin, visitor_ws

    server = ServerProcess(tmp_path / "data", env={"FRONTDESK_VISITOR_SOCKETS_PER_ADDRESS": "3",
                                                    "FRONTDESK_NEW_VISITORS_PER_ADDRESS": "5",
                                                    "FRONTDESK_WIDGET_CONFIG_PER_MINUTE": "4"}).start()
    try:
        key = server.demo["site_key"]

        async def sockets() -> None:
            open_ = [await visitor_ws(server, key) for _ in range(3)]
            conn = await websockets.connect(f"{server.ws_url}/ws/visitor?site={key}")
            with __import__("pytest").raises(websockets.ConnectionClosed) as closed:
                for _ in range(5):
                    await asyncio.wait_for(conn.recv(), 10)
            assert closed.value.rcvd.code == 4429
            token = open_[0].welcome["visitor_token"]
            # a held invitation wait counts as one of the address's sockets: refused at once while 3 are open
            async with httpx.AsyncClient() as client:
                held = await client.post(f"{server.url}/api/v1/widget/invitations/wait", params={"site": key},
                                         json={"token": token}, timeout=20)
            assert held.status_code == 429 and held.json()["error"]["code"] == "rate_limited"
            for ws in open_:
                await ws.close()
            more = [await visitor_ws(server, key) for _ in range(2)]  # 5 new visitors this hour
            conn = await websockets.connect(f"{server.ws_url}/ws/visitor?site={key}")
            await conn.send('{"type": "hello", "resume": {}}')
            with __import__("pytest").raises(websockets.ConnectionClosed) as closed:
                for _ in range(5):
                    await asyncio.wait_for(conn.recv(), 10)
            assert closed.value.rcvd.code == 4429  # a sixth new visitor is refused …
            again = await visitor_ws(server, key, token=token)  # … a returning one is not
            for ws in [*more, again]:
                await ws.close()

        asyncio.run(sockets())
        codes, cache = [], set()
        for _ in range(6):
            r = httpx.get(f"{server.url}/api/v1/widget/config", params={"site": key})
            codes.append(r.status_code)
            cache.add(r.headers.get("cache-control"))
        assert codes == [200] * 4 + [429] * 2, codes
        assert "public, max-age=30" in cache

        boss = admin(server)

        def chunks():  # no Content-Length: the size is counted while the body streams in
            yield b"--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.png\"\r\n\r\n"
            for _ in range(200):
                yield b"\x89PNG" * 2048
        r = boss.call("POST", "/api/v1/me/photo", content=chunks(),
                      headers={"content-type": "multipart/form-data; boundary=b"})
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large", r.text
        boss.close()
    finally:
        server.stop()


def test_create_site_without_origins_says_so(tmp_path):
    env = {**os.environ, "PYTHONPATH": "src"}
    run = subprocess.run([sys.executable, "-m", "frontdesk.cli", "create-site", "--data-dir", str(tmp_path), "--name", "Shop"],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert "WARNING: no --origin given" in run.stderr
    run = subprocess.run([sys.executable, "-m", "frontdesk.cli", "create-site", "--data-dir", str(tmp_path), "--name", "Shop 2",
                          "--origin", "https://shop.example"], capture_output=True, text=True, env=env)
    assert run.returncode == 0 and "WARNING" not in run.stderr
