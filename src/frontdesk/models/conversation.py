from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, UTCDateTime, utcnow


class ConversationStatus(str, enum.Enum):
    open = "open"
    closed = "closed"


class MessageKind(str, enum.Enum):
    visitor = "visitor"
    operator = "operator"
    system = "system"
    note = "note"  # internal: operators only


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_site_status", "site_id", "status"),
        Index("ix_conversations_visitor_status", "visitor_id", "status"),
        Index("ix_conversations_site_created", "site_id", "created_at"),  # the reports
        Index("ix_conversations_status_closed", "status", "closed_at"),  # the quality coach's scan
        # At most one open conversation per visitor, even with two tabs on two nodes.
        Index("uq_conversations_visitor_open", "visitor_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
        # the background loops read only what is due (actions/background.py, no_reply.py, escalation.py):
        # the waiting conversations by their next offer repeat, the open ones by their last message
        # (whole indexes, not partial: SQLite's planner without statistics would prefer the status index)
        Index("ix_conversations_waiting_offer", "status", "assignee_id", "next_offer_at"),
        Index("ix_conversations_open_last_message", "status", "last_message_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=ConversationStatus.open.value)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("operators.id", ondelete="SET NULL"), nullable=True, index=True)
    # The last seq handed out; the next message gets last_seq + 1 inside the
    # same transaction that inserts it (row lock on PostgreSQL, the single
    # writer on SQLite), so seq is gap-free and never issued twice.
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    is_offline: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    visitor_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    operator_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    # how many times the unanswered conversation was offered again (actions/background.py)
    offer_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # when the next repeat is due (created_at + (offer_count + 1) × offer_repeat), kept by the repeat loop;
    # NULL until the loop first sees the conversation waiting
    next_offer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # missed-chat escalation (actions/escalation.py): the last step done, claimed with one conditional
    # UPDATE like offer_count; missed_at = when the last configured step fired (for the reports)
    escalation_step: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # when the current assignee took it; the automatic holding line ("Одну минуточку…") counts from here
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the seq of the visitor message whose wait already got the automatic holding line (claimed once
    # across nodes by a conditional UPDATE, like offer_count; actions/no_reply.py)
    auto_hold_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # "incoming" (the visitor wrote first) or "proactive" (started from an invitation,
    # actions/invitations.py): the rule (None for a manual invitation) and its name at the time
    origin: Mapped[str] = mapped_column(String(16), default="incoming", server_default="incoming")
    # (no foreign key: SQLite cannot add one to an existing table without copying it; deleting a
    # rule sets this to NULL in actions.invitations.delete_rule)
    invitation_rule_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    invitation_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # the department the visitor chose or the conversation was transferred to (actions/departments.py)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), nullable=True, index=True)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        # client_id is unique per sender ("v<visitor id>" / "o<operator id>"):
        # a retried send finds the stored row instead of inserting a second.
        UniqueConstraint("sender", "client_id", name="uq_messages_sender_client_id"),
        # the reports count a period's messages per kind and author from the index alone
        Index("ix_messages_conversation_kind", "conversation_id", "kind", "author_operator_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(24))
    author_operator_id: Mapped[int | None] = mapped_column(
        ForeignKey("operators.id", ondelete="SET NULL"), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
