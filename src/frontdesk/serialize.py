"""Database rows → the JSON shapes of docs/protocol.md (MESSAGE, CONVERSATION, …)."""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from frontdesk.models import Conversation, ConversationRating, Message, Site, Visitor

_last_iso: tuple[datetime | None, str | None] = (None, None)


def iso(dt: datetime | None) -> str | None:
    global _last_iso
    if dt is None:
        return None
    last, text = _last_iso
    if dt is last:  # every message of a batch carries the batch's one timestamp: one strftime per batch
        return text
    text = dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    _last_iso = (dt, text)
    return text


class OperatorLike(Protocol):
    """An ``Operator`` row or an ``actions.identity.OperatorRef``."""

    id: int
    name: str
    email: str
    role: str
    status: str
    language: str
    is_active: bool
    photo_type: str | None
    photo_version: int


class MessageLike(Protocol):
    id: int
    conversation_id: int
    seq: int
    kind: str
    text: str
    client_id: str | None
    created_at: datetime


# client_id prefixes of the no-reply holding message (actions/no_reply.py)
HOLDING_PREFIXES = ("ask_contacts:", "hold:")
# client_id prefix of the automatic holding line sent on the assignee's behalf (kind "operator")
AUTO_HOLD_PREFIX = "autohold:"


def is_holding(kind: str, client_id: str | None) -> bool:
    """Is this an automatic holding message (the no-reply one, or the "Одну минуточку…" line)? It is
    never a conversation's preview (``last_message``):
    the operator keeps seeing the visitor's question in the list and in alerts."""
    if client_id is None:
        return False
    if kind == "operator":
        return client_id.startswith(AUTO_HOLD_PREFIX)
    return kind == "system" and client_id.startswith(HOLDING_PREFIXES)


def photo_url(op: OperatorLike) -> str | None:
    if not op.photo_type:
        return None
    return f"/api/v1/operators/{op.id}/photo?v={op.photo_version}"


def operator_public(op: OperatorLike | None) -> dict | None:
    if op is None:
        return None
    return _public(op)


def _public(op: OperatorLike) -> dict:
    return {"id": op.id, "name": op.name, "photo_url": photo_url(op)}


def operator_private(op: OperatorLike) -> dict:
    return {**_public(op), "email": op.email, "role": op.role, "status": op.status,
            "language": op.language, "is_active": op.is_active}


def message(m: Message | MessageLike, author: OperatorLike | None = None) -> dict:
    if m.kind in ("operator", "note") and author is not None:
        who = {"type": "operator", **_public(author)}
    elif m.kind == "visitor":
        who = {"type": "visitor"}
    else:
        who = {"type": m.kind if m.kind == "system" else "operator"}
    return {"id": m.id, "conversation_id": m.conversation_id, "seq": m.seq, "kind": m.kind,
            "text": m.text, "client_id": m.client_id, "created_at": iso(m.created_at), "author": who}


def operator_view(message: dict, mode: str) -> dict:
    """A visitor message as operators see it under the site's profanity setting (off | flag | mask;
    docs/moderation.md): ``flagged`` true when it has profanity, and in ``mask`` mode its text
    masked. The stored text and the visitor's copy never change. Anything else: the same dict."""
    if mode == "off" or mode not in ("flag", "mask") or message.get("kind") != "visitor":
        return message
    from frontdesk.moderation.profanity import default_filter  # built once, on first use

    shown, flagged = default_filter().apply(message["text"], mode)
    if not flagged:
        return message
    return {**message, "text": shown, "flagged": True}


def _preview(text: str, kind: str, site: Site) -> str:
    mode = (site.widget or {}).get("profanity") if kind == "visitor" else None
    if mode == "mask":
        from frontdesk.moderation.profanity import default_filter

        return default_filter().apply(text, "mask")[0]
    return text


def display_name(v: Visitor) -> str | None:
    """How the panel names a visitor: the name it gave, else its e-mail; None = "Посетитель #N"."""
    return (v.name or "").strip() or (v.email or "").strip() or None


def visitor(v: Visitor) -> dict:
    return {"id": v.id, "name": v.name, "email": v.email, "phone": v.phone, "display_name": display_name(v),
            "fields": dict(v.fields or {}),
            "page_url": v.page_url, "page_title": v.page_title, "referrer": v.referrer,
            "user_agent": v.user_agent, "language": v.language,
            "first_seen_at": iso(v.first_seen_at), "last_seen_at": iso(v.last_seen_at)}


def rating(r: ConversationRating | None) -> dict | None:
    """RATING: the visitor's rating of a conversation (value on 1..5 whatever the scale)."""
    if r is None:
        return None
    return {"value": r.value, "scale": r.scale, "comment": r.comment, "operator_id": r.operator_id,
            "created_at": iso(r.created_at), "updated_at": iso(r.updated_at)}


def conversation(c: Conversation, *, site: Site, visitor_row: Visitor, assignee: OperatorLike | None,
                 last_message: Message | None, rating_row: ConversationRating | None = None,
                 quality_score: int | None = None) -> dict:
    return {
        "id": c.id, "site_id": c.site_id, "site_name": site.name, "status": c.status,
        "assignee": operator_public(assignee), "last_seq": c.last_seq,
        "is_offline": c.is_offline,
        "created_at": iso(c.created_at), "last_message_at": iso(c.last_message_at),
        "closed_at": iso(c.closed_at), "first_reply_at": iso(c.first_reply_at),
        "operator_read_seq": c.operator_read_seq, "visitor_read_seq": c.visitor_read_seq,
        "last_message": None if last_message is None else
        {"seq": last_message.seq, "kind": last_message.kind,
         "text": _preview(last_message.text, last_message.kind, site)[:200],
         "author_id": last_message.author_operator_id},
        "visitor": visitor(visitor_row),
        "rating": rating(rating_row),
        "origin": c.origin or "incoming",
        "invitation": None if c.origin != "proactive" else
        {"rule_id": c.invitation_rule_id, "name": c.invitation_name or ""},
        "quality_score": quality_score,   # the coach's 0–100 of a closed conversation, once scored
        "department_id": c.department_id,
    }


def visitor_conversation(c: Conversation, assignee: OperatorLike | None) -> dict:
    """What a visitor may know of its own conversation."""
    return {"id": c.id, "status": c.status, "last_seq": c.last_seq, "is_offline": c.is_offline,
            "operator": operator_public(assignee), "created_at": iso(c.created_at)}
