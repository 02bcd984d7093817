"""The outbox sender: claims due rows, sends them over SMTP, retries with backoff.

Life of a row: ``queued`` → (claimed) ``sending`` → ``sent``; on a temporary
failure back to ``queued`` with ``next_attempt_at`` = now + backoff; on a
permanent refusal (5xx) or after ``FRONTDESK_MAIL_MAX_ATTEMPTS`` → ``failed``.

Exactly once, as far as SMTP allows:

* **Claiming is atomic.** ``UPDATE outbox SET status='sending', attempts=attempts+1,
  next_attempt_at=now+lease WHERE id=? AND status IN ('queued','sending') AND
  next_attempt_at <= now`` — of two nodes (or two loops) only one changes the
  row; ``next_attempt_at`` doubles as the lease of a ``sending`` row.
* **A crash never loses mail.** A row claimed by a process that dies stays
  ``sending`` until its lease runs out, then any sender claims it again.
* **The one duplicate window** is between the SMTP server's ``250 OK`` for the
  data and our commit of ``sent``: a crash exactly there sends the row again
  after the lease. We keep it small (``sent`` is committed right after each
  message, not per batch) and harmless (the ``Message-ID`` header is fixed when
  the row is queued, so a resend carries the same id and mail systems that
  de-duplicate by Message-ID show one message).
"""
from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta

import aiosmtplib
from sqlalchemy import select, update

from frontdesk.mail.compose import render
from frontdesk.mail.smtp import SmtpConfig, parse_smtp_url
from frontdesk.models import OutboxEmail, OutboxStatus

log = logging.getLogger(__name__)

CLAIM_BATCH = 20  # rows sent over one connection per round (each claimed just before it is sent)
_ACTIVE = (OutboxStatus.queued.value, OutboxStatus.sending.value)
# Authentication/authorisation refusals are an operator's configuration to fix,
# not a property of the message: keep retrying until attempts run out.
_AUTH_CODES = {530, 534, 535, 538}


def retry_delay(settings, attempts: int) -> float:  # noqa: ANN001
    """Seconds before the next attempt after ``attempts`` failed ones: base·2ⁿ⁻¹, capped, ±20% jitter
    (so many rows that failed together do not all come back in the same second)."""
    delay = settings.mail_retry_base * 2 ** max(0, attempts - 1)
    delay = min(delay, settings.mail_retry_max)
    return min(settings.mail_retry_max, delay * random.uniform(0.8, 1.2))


def lease_seconds(settings) -> float:  # noqa: ANN001
    """How long a claimed row is ours. Rows are claimed one at a time on an open connection,
    so the lease covers MAIL, RCPT and DATA of one message, each up to the timeout, plus slack."""
    return 3 * settings.smtp_timeout + 10


def is_permanent(exc: BaseException) -> bool:
    """5xx from the server about this message = retrying cannot help."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return bool(codes) and all(c >= 500 and c not in _AUTH_CODES for c in codes)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code >= 500 and exc.code not in _AUTH_CODES
    return False


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"[:1000]


async def claim_due(rt, now, limit: int = CLAIM_BATCH) -> list[OutboxEmail]:  # noqa: ANN001
    """Atomically take up to ``limit`` due rows (queued, or sending with an expired lease)."""
    lease_until = now + timedelta(seconds=lease_seconds(rt.settings))
    async with rt.sessions() as session:
        async with session.begin():
            ids = (await session.execute(
                select(OutboxEmail.id)
                .where(OutboxEmail.status.in_(_ACTIVE), OutboxEmail.next_attempt_at <= now)
                .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id).limit(limit))).scalars().all()
            won: list[int] = []
            for row_id in sorted(ids):  # one lock order on every node: no deadlock between claimers
                result = await session.execute(
                    update(OutboxEmail)
                    .where(OutboxEmail.id == row_id, OutboxEmail.status.in_(_ACTIVE),
                           OutboxEmail.next_attempt_at <= now)
                    .values(status=OutboxStatus.sending.value, attempts=OutboxEmail.attempts + 1,
                            next_attempt_at=lease_until)
                    .execution_options(synchronize_session=False))
                if result.rowcount == 1:
                    won.append(row_id)
            if not won:
                return []
            rows = (await session.execute(
                select(OutboxEmail).where(OutboxEmail.id.in_(won))
                .order_by(OutboxEmail.id).execution_options(populate_existing=True))).scalars().all()
    return list(rows)


async def _anything_due(rt, now) -> bool:  # noqa: ANN001
    async with rt.sessions() as session:
        return (await session.execute(
            select(OutboxEmail.id).where(OutboxEmail.status.in_(_ACTIVE), OutboxEmail.next_attempt_at <= now)
            .limit(1))).first() is not None


async def mark_sent(rt, row: OutboxEmail) -> None:  # noqa: ANN001
    async with rt.sessions() as session, session.begin():
        await session.execute(
            update(OutboxEmail).where(OutboxEmail.id == row.id, OutboxEmail.status == OutboxStatus.sending.value)
            .values(status=OutboxStatus.sent.value, sent_at=rt.clock(), last_error=None))


async def mark_failed(rt, row: OutboxEmail, error: str, *, permanent: bool) -> str:  # noqa: ANN001
    """Back to ``queued`` with a backoff, or ``failed`` for good. Returns the new status."""
    now = rt.clock()
    give_up = permanent or row.attempts >= rt.settings.mail_max_attempts
    values: dict = {"last_error": error[:1000]}
    if give_up:
        values["status"] = OutboxStatus.failed.value
    else:
        values["status"] = OutboxStatus.queued.value
        values["next_attempt_at"] = now + timedelta(seconds=retry_delay(rt.settings, row.attempts))
    async with rt.sessions() as session, session.begin():
        await session.execute(
            update(OutboxEmail).where(OutboxEmail.id == row.id, OutboxEmail.status == OutboxStatus.sending.value)
            .values(**values))
    return values["status"]


class OutboxSender:
    """One per process; safe to run on every node at once (claims are atomic)."""

    def __init__(self, rt) -> None:  # noqa: ANN001
        self.rt = rt
        self.config: SmtpConfig | None = None
        self.config_error: str | None = None
        try:
            self.config = parse_smtp_url(rt.settings.smtp_url)
        except ValueError as exc:
            self.config_error = str(exc)
            log.error("e-mail is off: %s", exc)
        self._task: asyncio.Task | None = None

    @property
    def enabled(self) -> bool:
        return self.config is not None

    def start(self) -> None:
        if self.enabled:  # without SMTP rows simply stay queued ("waiting_for_configuration")
            self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            try:
                handled = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox round failed")
                handled = 0
            if handled < CLAIM_BATCH:
                await asyncio.sleep(self.rt.settings.mail_poll_interval)

    async def run_once(self) -> int:
        """Try every due row once (up to CLAIM_BATCH). Returns how many rows were tried."""
        if self.config is None or not await _anything_due(self.rt, self.rt.clock()):
            return 0
        cfg = self.config
        client = aiosmtplib.SMTP(
            hostname=cfg.host, port=cfg.port, username=cfg.username, password=cfg.password,
            use_tls=cfg.implicit_tls, start_tls=cfg.starttls, timeout=self.rt.settings.smtp_timeout)
        try:
            await client.connect()  # connects, EHLO, STARTTLS when due, AUTH when a user is given
        except Exception as exc:  # noqa: BLE001 - any connect problem is temporary from our side
            log.warning("SMTP %s unreachable: %s", cfg.display, exc)
            rows = await claim_due(self.rt, self.rt.clock())  # each due row records the failed attempt
            for row in rows:
                await mark_failed(self.rt, row, _describe(exc), permanent=is_permanent(exc))
            return len(rows)
        tried = 0
        try:
            while tried < CLAIM_BATCH:
                claimed = await claim_due(self.rt, self.rt.clock(), limit=1)  # the lease starts now
                if not claimed:
                    break
                row = claimed[0]
                tried += 1
                if not await self._send_one(client, row):
                    break
        finally:
            try:
                await client.quit()
            except Exception:  # noqa: BLE001
                client.close()
        return tried

    async def _send_one(self, client: aiosmtplib.SMTP, row: OutboxEmail) -> bool:
        """Send one claimed row on an open connection. False when the connection is gone."""
        try:
            # checked headers, serialized once and verified; these bytes are what is sent
            out = render(row, self.rt.settings)
        except Exception as exc:  # noqa: BLE001 - a row that cannot be composed must not stop the sender
            await mark_failed(self.rt, row, f"cannot compose: {exc}", permanent=True)
            log.warning("e-mail %d not sent: cannot compose: %s", row.id, exc)
            return True
        try:
            await client.sendmail(out.sender, out.recipients, out.data)
        except Exception as exc:  # noqa: BLE001
            status = await mark_failed(self.rt, row, _describe(exc), permanent=is_permanent(exc))
            log.warning("e-mail %d to %s not sent (%s): %s", row.id, out.recipients[0], status, exc)
            return client.is_connected
        await mark_sent(self.rt, row)  # at once, per message: the duplicate window is one message wide
        return True
