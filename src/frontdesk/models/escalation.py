"""Missed-chat escalation: the steps and delays of each site (``actions.escalation``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, UTCDateTime, utcnow


class SiteEscalation(Base):
    """A site's escalation settings: ``{"enabled": bool, "steps": {step: seconds | None}, "emails": [...]}``
    (validated by ``actions.escalation.check_settings``). A site without a row has escalation off."""

    __tablename__ = "site_escalation"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
