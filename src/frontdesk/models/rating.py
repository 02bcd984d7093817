from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, UTCDateTime, utcnow


class ConversationRating(Base):
    """The visitor's rating of a closed conversation: one per conversation (a second one replaces it).

    ``value`` is on a 1..5 scale whatever the widget showed: stars 1..5, thumbs down = 1, up = 5
    (``scale`` records which), so averages compare across sites."""

    __tablename__ = "conversation_ratings"
    __table_args__ = (Index("ix_conversation_ratings_site_created", "site_id", "created_at"),)

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    # the operator who held the conversation when it was rated
    operator_id: Mapped[int | None] = mapped_column(
        ForeignKey("operators.id", ondelete="SET NULL"), nullable=True, index=True)
    value: Mapped[int] = mapped_column(Integer)
    scale: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
