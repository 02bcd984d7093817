"""Quick phrases (issue 9): personal (``operator_id``) or shared on a site (``site_id``), how often
each operator used each, the operators' Alt+digit bindings, and the spell-check dictionaries."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.models.base import Base, UTCDateTime, utcnow


class Phrase(Base):
    __tablename__ = "phrases"
    __table_args__ = (
        # exactly one owner: an operator (personal) or a site (shared)
        CheckConstraint("(operator_id IS NULL) <> (site_id IS NULL)", name="one_owner"),
        Index("ix_phrases_operator_id", "operator_id"),
        Index("ix_phrases_site_id", "site_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), nullable=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), nullable=True)
    key: Mapped[str] = mapped_column(String(40), default="")  # "" or "/delivery"
    title: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    group: Mapped[str] = mapped_column("group_name", String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PhraseUsage(Base):
    """How many times an operator put a phrase into the composer (ranks suggestions)."""

    __tablename__ = "phrase_usage"

    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True)
    phrase_id: Mapped[int] = mapped_column(ForeignKey("phrases.id", ondelete="CASCADE"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class PhraseHotkey(Base):
    """Alt+``digit`` (1…9) inserts ``phrase_id`` for this operator."""

    __tablename__ = "phrase_hotkeys"
    __table_args__ = (CheckConstraint("digit BETWEEN 1 AND 9", name="digit"),)

    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True)
    digit: Mapped[int] = mapped_column(Integer, primary_key=True)
    phrase_id: Mapped[int] = mapped_column(ForeignKey("phrases.id", ondelete="CASCADE"))


class SpellWord(Base):
    """A word the spell checker accepts: an operator's own dictionary or a site's (brand names)."""

    __tablename__ = "spell_words"
    __table_args__ = (
        CheckConstraint("(operator_id IS NULL) <> (site_id IS NULL)", name="one_owner"),
        UniqueConstraint("operator_id", "site_id", "word", name="uq_spell_words_owner_word"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), nullable=True,
                                                    index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), nullable=True, index=True)
    word: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PhraseSettings(Base):
    """An operator's composer settings: ``spell_warn`` asks once before sending a message with
    underlined (unknown) words."""

    __tablename__ = "operator_phrase_settings"

    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True)
    spell_warn: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
