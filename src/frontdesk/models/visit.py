from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, UTCDateTime, utcnow


class Visit(Base):
    """One visit of a visitor to a site: page views with less than 30 minutes between them
    (actions/visits.py). Source, device and location are decided once, when the visit starts."""

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_visitor_started", "visitor_id", "started_at"),
        Index("ix_visits_site_last_seen", "site_id", "last_seen_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer, default=1)  # 1 = the visitor's first visit
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    landing_url: Mapped[str] = mapped_column(String(2048), default="")
    referrer: Mapped[str] = mapped_column(String(2048), default="")
    # context.sources.Source.to_dict() + "label": {"ru", "en"}
    source: Mapped[dict] = mapped_column(JSON, default=dict)
    # context.useragent.UserAgentInfo.to_dict() + "label"; context.geoip.Location.to_dict() + "label"
    device: Mapped[dict] = mapped_column(JSON, default=dict)
    location: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="")  # as FRONTDESK_STORE_IP allows


class PageView(Base):
    __tablename__ = "page_views"
    __table_args__ = (Index("ix_page_views_visit", "visit_id", "viewed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048), default="")
    title: Mapped[str] = mapped_column(String(500), default="")
    referrer: Mapped[str] = mapped_column(String(2048), default="")
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OperatorCardFields(Base):
    """Which visitor fields an operator sees beside the dialog, in which order (its own choice)."""

    __tablename__ = "operator_card_fields"

    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True)
    order: Mapped[list] = mapped_column(JSON, default=list)   # field names, first on top
    hidden: Mapped[list] = mapped_column(JSON, default=list)  # field names not shown
