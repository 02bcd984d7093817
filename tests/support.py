"""Test support: real servers in subprocesses, throwaway PostgreSQL/Redis, API and socket clients.

Nothing here is a mock: `ServerProcess` runs `frontdesk serve` on a free port
(so a test can SIGKILL it and start it again on the same data), `PostgresCluster`
runs its own `initdb` + `pg_ctl` cluster, `RedisServer` its own redis-server.
"""
from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import websockets

IN_CI = bool(os.environ.get("CI"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)


class _Forked:
    """The part of ``subprocess.Popen`` the tests use, for a server forked by tests/server_zygote.py
    (a child of that process, not of this one: its exit is seen in /proc, its status is not known)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                with open(f"/proc/{self.pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError, IndexError):
                state = "X"
            if state in ("Z", "X"):
                self.returncode = -1
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class _Zygote:
    """One tests/server_zygote.py per test run (started on first use), if forking works here;
    FRONTDESK_TEST_FORK=0 starts every server with ``python -m frontdesk.cli`` instead."""

    _lock = threading.Lock()
    _proc: subprocess.Popen | None = None
    _failed = False

    @classmethod
    def spawn(cls, argv: list[str], env: dict, log_path: Path) -> _Forked | None:
        if cls._failed or os.environ.get("FRONTDESK_TEST_FORK", "1") == "0" or not hasattr(os, "fork"):
            return None
        with cls._lock:
            try:
                if cls._proc is None or cls._proc.poll() is not None:
                    cls._proc = subprocess.Popen(
                        [sys.executable, str(Path(__file__).with_name("server_zygote.py"))],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                        env=_bytecode_env())
                    assert cls._proc.stdout is not None
                    if json.loads(cls._proc.stdout.readline() or "{}").get("ready") is not True:
                        raise RuntimeError("the server zygote did not start")
                    atexit.register(cls.close)
                umask = os.umask(0o077)
                os.umask(umask)
                assert cls._proc.stdin is not None and cls._proc.stdout is not None
                cls._proc.stdin.write(json.dumps({"argv": argv, "env": env, "log": str(log_path), "umask": umask,
                                                  "cwd": os.getcwd()}) + "\n")
                cls._proc.stdin.flush()
                return _Forked(json.loads(cls._proc.stdout.readline())["pid"])
            except Exception:  # noqa: BLE001 - then every server starts the ordinary way
                cls._failed = True
                return None


    @classmethod
    def close(cls) -> None:
        """End of the run: the zygote ends the servers still running and exits."""
        proc, cls._proc = cls._proc, None
        if proc is not None and proc.poll() is None:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _bytecode_env() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env



async def wait_for(predicate, timeout: float = 15.0, interval: float = 0.02, what: str = "condition"):
    """``wait_until`` for coroutines: polls ``predicate`` (plain or async) until it is truthy or the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)

class ServerProcess:
    """`frontdesk serve --demo` in a subprocess, on its own port and data dir (forked from a process
    that has imported frontdesk already, tests/server_zygote.py: the same code, a second less per start)."""

    def __init__(self, data_dir: Path, database_url: str = "", broker_url: str = "memory://",
                 port: int | None = None, env: dict | None = None, demo: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.demo_flag = demo
        self.database_url = database_url
        self.broker_url = broker_url
        self.port = port or free_port()
        self.extra_env = env or {}
        self.proc: subprocess.Popen | _Forked | None = None
        self.log_path = self.data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def demo(self) -> dict:
        return json.loads((self.data_dir / "demo.json").read_text())

    def start(self) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "FRONTDESK_BROKER_URL": self.broker_url, "FRONTDESK_LOG_LEVEL": "warning",
               # no holding messages unless a test asks: a slow CI run must not add system messages
               # to conversations whose exact contents a test checks
               "FRONTDESK_NO_REPLY_SECONDS": "0",
               # nobody online until a test says so (a real first `serve --demo` starts its accounts online)
               "FRONTDESK_DEMO_ONLINE": "0",
               # the spell checker costs ~4 s of CPU to load: only the tests of it turn it on
               "FRONTDESK_SPELLCHECK": "0",
               # a browser test fills the offline form in well under a person's minimum fill time:
               # only the spam tests (tests/bans/test_spam.py) turn it on
               "FRONTDESK_OFFLINE_MIN_FILL_SECONDS": "0",
               # every test's visitor comes from 127.0.0.1: a shared server would reach the per-address cap
               # of new conversations; the caps are tested in process (tests/bans/test_spam.py)
               "FRONTDESK_NEW_CONVERSATIONS_PER_ADDRESS": "0",
               **self.extra_env}
        # compiled modules are cached (__pycache__ is git-ignored): without it every start compiles
        # the whole package again
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if self.database_url:
            env["FRONTDESK_DATABASE_URL"] = self.database_url
        announced = self.log().count("frontdesk is running at")
        argv = ["serve", *(["--demo"] if self.demo_flag else []), "--data-dir", str(self.data_dir),
                "--port", str(self.port)]
        # a test that points PYTHONPATH elsewhere wants that code: a process of its own then. Servers
        # on Redis too: a forked node did not always reconnect to a Redis restarted under it
        # (tests/realtime/test_two_nodes.py, after other forked servers had run; cause not found yet)
        forked = "PYTHONPATH" not in self.extra_env and self.broker_url.startswith("memory")
        self.proc = _Zygote.spawn(argv, env, self.log_path) if forked else None  # type: ignore[assignment]
        if self.proc is None:
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen([sys.executable, "-m", "frontdesk.cli", *argv], env=env, stdout=log,
                                         stderr=subprocess.STDOUT)
            log.close()

        def announced_now() -> bool:
            # the console announcement comes after uvicorn listens and /healthz answers; reading the
            # log is cheap, while an HTTP poll costs ~25 ms of CPU (a new client each time) and a
            # start under load polled it hundreds of times
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            return self.log().count("frontdesk is running at") > announced

        wait_until(announced_now, 90, what="the server's announcement")
        with httpx.Client(timeout=5) as http:
            assert http.get(self.url + "/healthz").status_code == 200, self.log()[-3000:]
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self, *, kill: bool = True) -> ServerProcess:
        self.kill() if kill else self.stop()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class PostgresCluster:
    """A throwaway PostgreSQL: initdb into a temp dir, pg_ctl start on a free port."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fd-pg-"))
        self.port = free_port()
        self._user = None

    @staticmethod
    def _bin(name: str) -> str | None:
        found = shutil.which(name)
        if found:
            return found
        for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
            if (d / name).exists():
                return str(d / name)
        return None

    def start(self) -> PostgresCluster:
        initdb, pg_ctl = self._bin("initdb"), self._bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl) not found")
        prefix: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            prefix = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres")
        data = self.dir / "data"
        subprocess.run(prefix + [initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                                 "--no-sync"], check=True, capture_output=True)
        opts = f"-p {self.port} -k {self.dir} -h 127.0.0.1 -F -c fsync=off -c full_page_writes=off"
        subprocess.run(prefix + [pg_ctl, "-D", str(data), "-o", opts, "-l", str(self.dir / "log"), "-w",
                                 "start"], check=True, capture_output=True)
        self._prefix, self._pg_ctl, self._data = prefix, pg_ctl, data
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    _template_lock = threading.Lock()

    def create_database(self, migrated: bool = False) -> str:
        """A new empty database; ``migrated``: a copy of one migrated to head once per cluster
        (``CREATE DATABASE … TEMPLATE``: a file copy instead of running every migration again)."""
        name = "fd_" + uuid.uuid4().hex[:12]
        template = self._migrated_template() if migrated else None

        async def create() -> None:
            import asyncpg

            conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres", database="postgres")
            try:
                await conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
            finally:
                await conn.close()

        # in a thread of its own: callable from sync and async tests alike
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, create()).result()
        return self.url(name)

    def _migrated_template(self) -> str:
        with self._template_lock:
            if getattr(self, "_template", None) is None:
                url = self.create_database()

                async def migrate() -> None:
                    from frontdesk import db, migrate

                    engine = db.create_engine(url)
                    try:
                        await migrate.upgrade(engine)
                    finally:
                        await engine.dispose()

                with concurrent.futures.ThreadPoolExecutor(1) as pool:
                    pool.submit(asyncio.run, migrate()).result()
                self._template = url.rsplit("/", 1)[1]
            return self._template

    def stop(self) -> None:
        subprocess.run(self._prefix + [self._pg_ctl, "-D", str(self._data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        exe = shutil.which("redis-server")
        if not exe:
            raise RuntimeError("redis-server not found")
        self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                return False

        wait_until(up, 10, what="redis-server")
        return self

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)


# --- clients -------------------------------------------------------------------

class OperatorClient:
    """An operator logged in over real HTTP; ``.ws()`` opens the operator socket with its cookie."""

    def __init__(self, server: ServerProcess, email: str, password: str) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=15)
        r = self.http.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        self.operator = r.json()["operator"]
        self.csrf = r.json()["csrf_token"]

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())

    def call(self, method: str, path: str, **kw) -> httpx.Response:
        headers = {"x-csrf-token": self.csrf, "origin": self.server.url, **kw.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kw)

    def set_status(self, status: str) -> None:
        r = self.call("PUT", "/api/v1/me/status", json={"status": status})
        assert r.status_code == 200, r.text

    async def ws(self, resume: dict | None = None) -> Frames:
        conn = await websockets.connect(self.server.ws_url + "/ws/operator", max_size=2**22,
                                        additional_headers={"Cookie": self.cookie_header, "Origin": self.server.url})
        frames = Frames(conn)
        await frames.send({"type": "hello", "resume": resume or {}})
        frames.welcome = await frames.expect("welcome")
        return frames

    def close(self) -> None:
        self.http.close()


def admin(server: ServerProcess) -> OperatorClient:
    d = server.demo
    return OperatorClient(server, d["admin_email"], d["admin_password"])


def make_site(server: ServerProcess, name: str = "Shop", **fields) -> dict:
    a = admin(server)
    try:
        r = a.call("POST", "/api/v1/sites", json={"name": name, **fields})
        assert r.status_code == 201, r.text
        return r.json()["site"]
    finally:
        a.close()


def make_operator(server: ServerProcess, email: str | None = None, name: str = "Олег", admin_role: bool = False,
                  password: str = "correct horse battery") -> OperatorClient:
    email = email or f"op-{uuid.uuid4().hex[:8]}@example.com"
    a = admin(server)
    try:
        r = a.call("POST", "/api/v1/operators", json={"email": email, "name": name, "password": password,
                                                      "admin": admin_role})
        assert r.status_code == 201, r.text
    finally:
        a.close()
    return OperatorClient(server, email, password)


class Frames:
    """A WebSocket that speaks JSON frames, with waits that have deadlines."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.welcome: dict | None = None
        self.seen: list[dict] = []

    async def send(self, frame: dict | str) -> None:
        await self.conn.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout: float = 10) -> dict:
        frame = json.loads(await asyncio.wait_for(self.conn.recv(), timeout))
        self.seen.append(frame)
        return frame

    async def expect(self, type_: str, timeout: float = 10, **match) -> dict:
        """Next frame of this type (and matching fields); other frames are kept in ``seen``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"no {type_} frame matching {match}; seen {self.seen[-5:]}")
            frame = await self.recv(left)
            if frame.get("type") == type_ and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def close(self) -> None:
        await self.conn.close()


async def visitor_ws(server: ServerProcess, site_key: str, token: str | None = None,
                     resume: dict | None = None, origin: str | None = None) -> Frames:
    headers = {"Origin": origin} if origin else {}
    conn = await websockets.connect(f"{server.ws_url}/ws/visitor?site={site_key}", max_size=2**22,
                                    additional_headers=headers)
    frames = Frames(conn)
    await frames.send({"type": "hello", "visitor_token": token, "resume": resume or {},
                       "page": {"url": "https://shop.example/", "title": "Магазин"}})
    frames.welcome = await frames.expect("welcome")
    return frames
