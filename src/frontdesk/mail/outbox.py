"""Queueing e-mail: one ``outbox`` row, written in the caller's transaction.

Call ``queue_email`` inside the transaction that stores the cause (the offline
message, the operator's reply): both commit or neither does. The sender picks
the row up within ``FRONTDESK_MAIL_POLL_INTERVAL``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.mail.compose import SUBJECT_MAX, new_message_id, one_line
from frontdesk.models import OutboxEmail, OutboxStatus
from frontdesk.serialize import iso
from frontdesk.settings import Settings


def queue_email(session: AsyncSession, settings: Settings, *, now: datetime, site_id: int, kind: str,
                to_addr: str, subject: str, text: str, html: str, to_name: str = "",
                reply_to: str = "", reply_to_name: str = "", from_name: str = "",
                conversation_id: int | None = None, message_id: int | None = None) -> OutboxEmail:
    row = OutboxEmail(
        site_id=site_id, conversation_id=conversation_id, message_id=message_id, kind=kind,
        to_addr=to_addr, to_name=one_line(to_name), reply_to=reply_to, reply_to_name=one_line(reply_to_name),
        from_name=one_line(from_name), subject=one_line(subject, SUBJECT_MAX), text=text, html=html,
        header_message_id=new_message_id(settings), status=OutboxStatus.queued.value, attempts=0,
        next_attempt_at=now, created_at=now)
    session.add(row)
    return row


def outbox_state(row: OutboxEmail, smtp_configured: bool) -> str:
    """What the panel shows: queued | retrying | sending | sent | failed | waiting_for_configuration."""
    if row.status == OutboxStatus.queued.value:
        if not smtp_configured:
            return "waiting_for_configuration"
        return "retrying" if row.attempts else "queued"
    return row.status


def outbox_json(row: OutboxEmail, *, smtp_configured: bool, max_attempts: int) -> dict:
    """OUTBOX_EMAIL of docs/protocol.md (bodies are left out: they are the conversation's messages)."""
    return {
        "id": row.id, "site_id": row.site_id, "conversation_id": row.conversation_id,
        "message_id": row.message_id, "kind": row.kind, "to": row.to_addr, "subject": row.subject,
        "status": row.status, "state": outbox_state(row, smtp_configured),
        "attempts": row.attempts, "max_attempts": max_attempts,
        "next_attempt_at": iso(row.next_attempt_at) if row.status in ("queued", "sending") else None,
        "last_error": row.last_error, "created_at": iso(row.created_at), "sent_at": iso(row.sent_at),
    }
