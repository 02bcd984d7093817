"""The quality coach's results (issue 13): a score per closed conversation and a row per criterion,
and each site's coach settings (criteria weights and limits). Written by ``actions.coach`` in the
background, never on the message path."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, UTCDateTime, utcnow


class ConversationQuality(Base):
    """The coach's score of one closed conversation. ``closed_at`` is the close it scored: a
    conversation reopened and closed again (a newer ``closed_at``) is scored again."""

    __tablename__ = "conversation_quality"
    __table_args__ = (Index("ix_conversation_quality_site_created", "site_id", "created_at"),)

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    # the operator who held the conversation when it was closed
    operator_id: Mapped[int | None] = mapped_column(
        ForeignKey("operators.id", ondelete="SET NULL"), nullable=True, index=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)   # 0–100; None: no criterion applied
    # bit i = CRITERIA[i]: which criteria applied and which passed — the per-period pass rates are
    # sums over these, without a join to quality_criteria (bench/reports.py)
    applied_mask: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    passed_mask: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)           # the conversation's start (periods)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QualityCriterion(Base):
    """One criterion of one scored conversation, with the messages that triggered it."""

    __tablename__ = "quality_criteria"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation_quality.conversation_id", ondelete="CASCADE"), primary_key=True)
    criterion: Mapped[str] = mapped_column(String(32), primary_key=True)
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)   # None: did not apply
    weight: Mapped[float] = mapped_column(Float)
    message_ids: Mapped[list] = mapped_column(JSON, default=list)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class SiteQualitySettings(Base):
    """A site's coach settings (``quality.DEFAULT_SETTINGS`` shape); a site without a row uses the defaults."""

    __tablename__ = "site_quality_settings"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
