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
