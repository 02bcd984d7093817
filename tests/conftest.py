"""Fixtures shared by the whole suite. See tests/support.py for the pieces."""
from __future__ import annotations

import os

import pytest

from tests.support import IN_CI, PostgresCluster, RedisServer, ServerProcess


def pytest_collection_modifyitems(items) -> None:  # noqa: ANN001
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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """The same test on both engines: '' = the default SQLite file, else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    return request.getfixturevalue("postgres").create_database()


@pytest.fixture
def server(tmp_path, database_url):
    """A running `frontdesk serve --demo` on SQLite and on PostgreSQL (parametrised)."""
    proc = ServerProcess(tmp_path / "data", database_url=database_url).start()
    yield proc
    proc.stop()


@pytest.fixture
def sqlite_server(tmp_path):
    """A running server on the default SQLite, for tests where the engine does not matter."""
    proc = ServerProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


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
