"""Fixtures shared by the whole suite. See tests/support.py for the pieces."""
from __future__ import annotations

import os
from datetime import UTC

import pytest

from tests.support import IN_CI, PostgresCluster, RedisServer, ServerProcess

# Every `frontdesk` subprocess (CLI tests, servers) would otherwise compile the whole package from
# source again when the environment says not to write byte-code (__pycache__ is git-ignored).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def pytest_collection_modifyitems(items) -> None:
    """Browser tests run last. Sync Playwright keeps its event loop running on the main
    thread for as long as the session-wide Chromium lives; async tests after it could
    not start theirs."""
    items.sort(key=lambda item: "/tests/e2e/" in str(item.path).replace("\\", "/"))


def _unavailable(what: str, exc: Exception) -> None:
    # A test that needs a service fails under CI; on a laptop without it, it skips.
    if IN_CI:
        pytest.fail(f"{what} is required in CI but could not be started: {exc}")
    pytest.skip(f"{what} unavailable: {exc}")


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL cluster (or FRONTDESK_TEST_PG_ADMIN_URL's server when set)."""
    try:
        cluster = PostgresCluster().start()
    except Exception as exc:  # noqa: BLE001
        _unavailable("PostgreSQL", exc)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def redis_server():
    try:
        server = RedisServer().start()
    except Exception as exc:  # noqa: BLE001
        _unavailable("Redis", exc)
    yield server
    server.stop()


# fixtures that run frontdesk on ``database_url`` (it migrates at start): their PostgreSQL database
# is a copy of one migrated once, not migrated again for every test
_MIGRATING = {"rt", "server", "mail_server"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """The same test on both engines: '' = the default SQLite file, else a fresh PostgreSQL database
    (empty — or already at head when the test runs frontdesk on it through ``rt``/``server``/
    ``mail_server``, which would migrate it first thing anyway)."""
    if request.param == "sqlite":
        return ""
    return request.getfixturevalue("postgres").create_database(migrated=bool(_MIGRATING & set(request.fixturenames)))


@pytest.fixture
def server(tmp_path, database_url):
    """A running `frontdesk serve --demo` on SQLite and on PostgreSQL (parametrised)."""
    proc = ServerProcess(tmp_path / "data", database_url=database_url).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_server(request, tmp_path_factory):
    """Like ``server`` (both engines, same test ids) but one per module and engine: for modules whose
    tests each work on visitors and objects of their own. A module opts in with
    ``@pytest.fixture(scope="module") def server(module_server): return module_server``."""
    url = "" if request.param == "sqlite" else request.getfixturevalue("postgres").create_database(migrated=True)
    proc = ServerProcess(tmp_path_factory.mktemp(request.param) / "data", database_url=url).start()
    yield proc
    proc.stop()


@pytest.fixture
def sqlite_server(tmp_path):
    """A running server on the default SQLite, for tests where the engine does not matter."""
    proc = ServerProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


class HandClock:
    """Moves only when told to: ``clock.now = …`` or ``clock.advance(seconds)``."""

    def __init__(self, now=None) -> None:
        from datetime import datetime

        self.now = now or datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self):
        return self.now

    def advance(self, seconds: float):
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)
        return self.now


async def make_runtime(settings, clock=None):
    """An in-process Runtime as the app builds it (database, memory broker, hub, writer), without HTTP."""
    from frontdesk import db, migrate
    from frontdesk.actions import conversations
    from frontdesk.actions.writer import MessageWriter
    from frontdesk.broker import broker_from_url
    from frontdesk.realtime.hub import Hub
    from frontdesk.runtime import Runtime

    engine = db.create_engine(settings.resolved_database_url())
    await migrate.upgrade(engine)
    broker = broker_from_url(settings.broker_url)
    await broker.connect()
    runtime = Runtime(settings=settings, engine=engine, sessions=db.session_factory(engine), broker=broker)
    if clock is not None:
        runtime.clock = clock
    hub = Hub()
    hub.clock = runtime.clock
    hub.observe = runtime.cache.observe
    runtime.dispatch_local = hub.dispatch
    runtime.operator_connected = hub.operator_connected

    async def fetch(cid, after, upto):
        return await conversations.message_events(runtime, cid, after, upto)

    hub.sequencer.fetch = fetch
    await hub.start(broker)
    runtime.writer = MessageWriter(runtime, settings.write_batch_max)
    runtime.writer.start()
    runtime.hub = hub  # tests look at the hub's sockets

    async def close() -> None:
        await runtime.writer.stop()
        await hub.stop()
        await broker.disconnect()
        await engine.dispose()

    return runtime, close


@pytest.fixture
async def rt(tmp_path, database_url):
    """An in-process Runtime on both engines whose clock is a ``HandClock``: action-level tests
    call e.g. ``check_no_reply(rt, later)`` instead of waiting."""
    from frontdesk.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, smtp_url="smtp://127.0.0.1:9",
                        mail_retry_base=5, mail_retry_max=900, mail_max_attempts=3)
    runtime, close = await make_runtime(settings, HandClock())
    yield runtime
    await close()


# --- browsers --------------------------------------------------------------------

CHROMIUM = os.environ.get("FRONTDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        _unavailable("Chromium", FileNotFoundError(CHROMIUM))
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
