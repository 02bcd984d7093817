"""Team work: panel tabs per node (presence across nodes) and transfers between operators."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, UTCDateTime, utcnow


class OperatorPresence(Base):
    """How many panel tabs an operator has open on one node, refreshed by that node's heartbeat.
    A row whose ``expires_at`` passed belongs to a node that stopped (crashed): it counts for nothing."""

    __tablename__ = "operator_presence"

    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True)
    sockets: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TransferStatus(str, enum.Enum):
    pending = "pending"
    accepted = "accepted"
    expired = "expired"
    declined = "declined"    # the receiver said no
    cancelled = "cancelled"  # the sender took the offer back


class Transfer(Base):
    """An offer to hand a conversation to another operator, with a note only operators see."""

    __tablename__ = "transfers"
    __table_args__ = (Index("ix_transfers_status_expires", "status", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    from_operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"),
                                                         nullable=True)
    to_operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=TransferStatus.pending.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
