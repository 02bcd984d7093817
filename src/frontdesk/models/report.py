"""The reports' stored per-conversation figures (issue 13, docs/reports.md § How it is computed):
how many visitor and operator messages a conversation had, and how many replies each operator
wrote in it, counted once when it closed — by the background pass that scores closed
conversations (``actions.coach``), never on the message path. ``last_seq`` is the conversation's
``last_seq`` the counts were taken at: a conversation that got a message since (reopened, a late
note) no longer matches and the reports count its messages live until the next pass."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, UTCDateTime, utcnow


class ConversationStats(Base):
    __tablename__ = "conversation_stats"
    __table_args__ = (Index("ix_conversation_stats_site_created", "site_id", "created_at"),)

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)     # the conversation's start (periods)
    last_seq: Mapped[int] = mapped_column(Integer)                 # the messages counted: seq ≤ this
    visitor_messages: Mapped[int] = mapped_column(Integer, default=0)
    operator_messages: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationOperatorStats(Base):
    """Replies one operator wrote in one conversation (of its ``conversation_stats`` row)."""

    __tablename__ = "conversation_operator_stats"
    __table_args__ = (Index("ix_conversation_operator_stats_site_created", "site_id", "created_at"),)

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation_stats.conversation_id", ondelete="CASCADE"), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    messages: Mapped[int] = mapped_column(Integer, default=0)
