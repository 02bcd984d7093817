"""Bans (issue 17): a visitor, an address or a subnet that may not chat on a site."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, UTCDateTime, utcnow


class BanRow(Base):
    """One ban on one site. ``value`` is normalised by ``moderation.bans.check_ban_value``
    (``visitor``: the visitor id; ``ip``: canonical address; ``subnet``: CIDR, host bits cleared).
    Active while ``lifted_at`` is None and the clock is before ``expires_at`` (None = permanent).
    Author and lifter names are kept beside their ids: the bans page says who, even after the
    operator is removed."""

    __tablename__ = "bans"
    __table_args__ = (Index("ix_bans_site_created", "site_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(256))
    reason: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"), nullable=True)
    author_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"),
                                                     nullable=True)
    lifted_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # where it came from (the dialog or the visitors list), for the bans page
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("visitors.id", ondelete="SET NULL"), nullable=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"),
                                                        nullable=True)
