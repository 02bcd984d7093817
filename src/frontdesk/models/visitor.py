from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, UTCDateTime, utcnow


class Visitor(Base):
    """A per-site identity, held by a 256-bit random token in the widget (we store its SHA-256)."""

    __tablename__ = "visitors"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    page_url: Mapped[str] = mapped_column(String(2048), default="")
    page_title: Mapped[str] = mapped_column(String(500), default="")
    referrer: Mapped[str] = mapped_column(String(2048), default="")
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    visit_count: Mapped[int] = mapped_column(Integer, default=0)  # visits counted by actions/visits.py
    # custom key/values from window.frontdesk.setUser (actions/visits.check_user_fields): {key: text}
    fields: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
