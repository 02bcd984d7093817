"""The e-mail outbox: every outgoing e-mail is a row first, sent later by ``frontdesk.mail.sender``.

A row is written in the same transaction as the message that causes it, so a
stored offline message always has its notification queued (and a rolled-back
message queues nothing). The sender claims due rows atomically, so two nodes
never send the same row at once.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, UTCDateTime, utcnow


class OutboxStatus(str, enum.Enum):
    queued = "queued"    # waiting for its next attempt (next_attempt_at)
    sending = "sending"  # claimed by a sender until next_attempt_at (the lease); a crash lets it expire
    sent = "sent"        # the SMTP server accepted it
    failed = "failed"    # permanent refusal, or FRONTDESK_MAIL_MAX_ATTEMPTS used up


class OutboxKind(str, enum.Enum):
    offline_notify = "offline_notify"  # an offline-form message, to a site's notification address
    operator_reply = "operator_reply"  # an operator's reply in an offline conversation, to the visitor
    escalation = "escalation"  # a chat nobody answered, to a site's supervisor addresses
    transcript = "transcript"          # a conversation's transcript, to the visitor (an operator sent it)
    visitor_transcript = "visitor_transcript"  # the same, asked for by the visitor in the widget


class OutboxEmail(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # the sender's "what is due" query
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        # the per-site hourly cap of the visitors' own transcripts (actions/transcripts.py)
        Index("ix_outbox_site_kind_created", "site_id", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True, index=True)
    message_id: Mapped[int | None] = mapped_column(  # the chat message that caused this e-mail
        ForeignKey("messages.id", ondelete="SET NULL"), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    to_addr: Mapped[str] = mapped_column(String(320))
    to_name: Mapped[str] = mapped_column(String(200), default="")
    reply_to: Mapped[str] = mapped_column(String(320), default="")
    reply_to_name: Mapped[str] = mapped_column(String(200), default="")
    from_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    # Message-ID header, fixed when the row is queued: a resend after a crash
    # carries the same id, so receivers can recognise the duplicate.
    header_message_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.queued.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
