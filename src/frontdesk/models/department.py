"""Departments of a site, their members, the site's routing settings and each operator's chat limit."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, UTCDateTime, utcnow

# an operator without an ``operator_routing`` row takes at most this many chats from automatic routing
DEFAULT_CHAT_LIMIT = 5


class Department(Base):
    """A group of a site's operators ("Продажи", "Поддержка"); a conversation may carry one."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DepartmentMember(Base):
    __tablename__ = "department_members"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)


class SiteRouting(Base):
    """How a site's new conversations find an operator. No row = manual, no department choice."""

    __tablename__ = "site_routing"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), default="manual")  # manual | auto
    choose_department: Mapped[bool] = mapped_column(Boolean, default=False)


class OperatorRouting(Base):
    """An operator's limit of active chats for automatic routing and when it last got one (fairness)."""

    __tablename__ = "operator_routing"

    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True)
    chat_limit: Mapped[int] = mapped_column(Integer, default=DEFAULT_CHAT_LIMIT)
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
