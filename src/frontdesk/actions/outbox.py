"""The e-mail outbox as operators see it: list and retry (sending is mail/sender.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update

from frontdesk.actions import queries
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef
from frontdesk.actions.validate import check_id
from frontdesk.mail.outbox import outbox_json
from frontdesk.mail.smtp import parse_smtp_url
from frontdesk.models import OutboxEmail, OutboxStatus
from frontdesk.settings import Settings

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime


def smtp_state(settings: Settings) -> dict:
    try:
        cfg = parse_smtp_url(settings.smtp_url)
    except ValueError as exc:
        return {"smtp_configured": False, "smtp_problem": str(exc)}
    if cfg is None:
        return {"smtp_configured": False,
                "smtp_problem": "FRONTDESK_SMTP_URL is not set: e-mail waits in the outbox until it is"}
    return {"smtp_configured": True, "smtp_problem": None}


async def list_outbox(rt: Runtime, operator: OperatorRef, *, conversation_id: int | None, status: str | None,
                      limit: int, before_id: int | None) -> dict:
    """E-mails of the operator's sites, newest first."""
    smtp = smtp_state(rt.settings)
    q = select(OutboxEmail)
    async with rt.sessions() as session:
        if not operator.is_admin:
            q = q.where(OutboxEmail.site_id.in_(await queries.operator_site_ids(session, operator)))
        if conversation_id is not None:
            q = q.where(OutboxEmail.conversation_id == conversation_id)
        if status is not None:
            q = q.where(OutboxEmail.status == status)
        if before_id is not None:
            q = q.where(OutboxEmail.id < before_id)
        rows = (await session.execute(q.order_by(OutboxEmail.id.desc()).limit(limit))).scalars().all()
    emails = [outbox_json(r, smtp_configured=smtp["smtp_configured"], max_attempts=rt.settings.mail_max_attempts)
              for r in rows]
    return {**smtp, "emails": emails, "has_more": len(rows) == limit}


async def retry_email(rt: Runtime, operator: OperatorRef, email_id: object) -> dict:
    """Send a ``failed`` e-mail again (attempts start over)."""
    eid = check_id(email_id, "e-mail")
    async with rt.sessions() as session:
        async with session.begin():
            row = await session.get(OutboxEmail, eid)
            if row is None or row.site_id not in await queries.operator_site_ids(session, operator):
                raise not_found("e-mail")
            result = await session.execute(
                update(OutboxEmail).where(OutboxEmail.id == eid, OutboxEmail.status == OutboxStatus.failed.value)
                .values(status=OutboxStatus.queued.value, attempts=0, next_attempt_at=rt.clock())
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE result
                raise ActionError("conflict", "only a failed e-mail can be retried", 409)
        await session.refresh(row)
    smtp = smtp_state(rt.settings)
    return {"email": outbox_json(row, smtp_configured=smtp["smtp_configured"],
                                 max_attempts=rt.settings.mail_max_attempts)}
