from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, UTCDateTime, utcnow


class Site(Base):
    """One widget installation. ``site_key`` is public (it is in the embed snippet)."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    allowed_origins: Mapped[list] = mapped_column(JSON, default=list)
    notify_emails: Mapped[list] = mapped_column(JSON, default=list)
    widget: Mapped[dict] = mapped_column(JSON, default=dict)
    # Working hours (validated by actions.hours.check_hours): None = 24×7, else
    # {"timezone": "Europe/Moscow", "days": {"mon": [["09:00", "18:00"]], …}}; a day not listed is closed.
    hours: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), nullable=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
