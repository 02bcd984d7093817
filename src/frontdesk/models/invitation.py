"""Proactive invitations (actions/invitations.py, docs/invitations.md): rules per site, what
happened to each invitation shown, and manual invitations an operator sends one visitor."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, UTCDateTime, utcnow


class InvitationRule(Base):
    """When to invite (``conditions``, all must hold), what to say (``action``), how often
    (``caps``). The shapes are checked by ``actions.invitations.check_rule``."""

    __tablename__ = "invitation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # the higher first when several match
    conditions: Mapped[dict] = mapped_column(JSON, default=dict)
    action: Mapped[dict] = mapped_column(JSON, default=dict)
    caps: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InvitationEvent(Base):
    """An invitation of a rule was shown / accepted (the visitor replied) / dismissed."""

    __tablename__ = "invitation_events"
    __table_args__ = (Index("ix_invitation_events_rule_kind", "rule_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("invitation_rules.id", ondelete="CASCADE"))
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"), nullable=True,
                                                   index=True)
    kind: Mapped[str] = mapped_column(String(16))  # shown | accepted | dismissed
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ManualInvitation(Base):
    """A personal invitation an operator sent one visitor from the visitors list."""

    __tablename__ = "manual_invitations"
    __table_args__ = (Index("ix_manual_invitations_visitor", "visitor_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
