"""Fixtures for offline mode and e-mail: a real SMTP server (aiosmtpd) started by the test,
a `frontdesk serve` subprocess pointed at it, and an in-process Runtime with a hand-moved clock."""
from __future__ import annotations

import email
import email.policy
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.support import ServerProcess, free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content().replace("\r\n", "\n")

    def html(self) -> str:
        return self.message.get_body(("html",)).get_content().replace("\r\n", "\n")


class _Collector:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce@"):  # a mailbox that does not exist: a permanent refusal
            return "550 5.1.1 <%s>: no such user" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    """A real SMTP server on 127.0.0.1:port that keeps every message it accepts
    (and refuses recipients named ``bounce@…`` with 550)."""

    port: int = field(default_factory=free_port)
    controller: Controller | None = None
    collector: _Collector = field(default_factory=_Collector)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        with self.collector.lock:
            return list(self.collector.received)

    def start(self) -> SmtpSink:
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} e-mails, got {len(self.received)}")
            time.sleep(0.05)
        return self.received


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def mail_env(smtp_url: str, clock_file: Path | None = None, **extra: str) -> dict:
    """Server settings for these tests: fast polling and retries (the backoff is a setting)."""
    env = {
        "FRONTDESK_SMTP_URL": smtp_url,
        "FRONTDESK_MAIL_POLL_INTERVAL": "0.1",
        "FRONTDESK_MAIL_RETRY_BASE": "0.5",
        "FRONTDESK_MAIL_RETRY_MAX": "1",
        "FRONTDESK_SMTP_TIMEOUT": "2",  # the lease of a claimed row is 3 × this + 10 s
        "FRONTDESK_OFFLINE_TICK": "0.1",
        "FRONTDESK_OFFLINE_RATE_LIMIT": "1000",
        "FRONTDESK_MAIL_FROM": "Поддержка <support@shop.example>",
        "FRONTDESK_MAIL_REPLY_TO": "Служба поддержки <help@shop.example>",
    }
    if clock_file is not None:
        env["FRONTDESK_TEST_CLOCK_FILE"] = str(clock_file)
        env["FRONTDESK_NO_REPLY_SECONDS"] = "60"  # tests with a clock move it past this on purpose
    env.update(extra)
    return env


@pytest.fixture
def mail_server(tmp_path, database_url, smtp):
    """`frontdesk serve --demo` with e-mail to the test's SMTP server, on SQLite and PostgreSQL."""
    proc = ServerProcess(tmp_path / "data", database_url=database_url, env=mail_env(smtp.url)).start()
    yield proc
    proc.stop()


class HandClock:
    """Moves only when told to: ``clock.now = …`` or ``clock.advance(seconds)``."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class ClockFile:
    """Drives a server's FRONTDESK_TEST_CLOCK_FILE: ``set(instant)`` makes the server's clock read
    ``instant`` now (and run on from there)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write(0.0)

    def _write(self, offset: float) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(f"{offset:.6f}")
        os.replace(tmp, self.path)  # atomic: the server never reads a half-written file

    def set(self, instant: datetime) -> None:
        self._write((instant - datetime.now(UTC)).total_seconds())

    def advance(self, seconds: float) -> None:
        self._write(float(self.path.read_text()) + seconds)
