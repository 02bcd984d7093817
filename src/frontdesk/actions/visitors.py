"""Visitors: identify by token (or create), page changes, typing."""
from __future__ import annotations

import secrets

from sqlalchemy import select, update

from frontdesk import events as ev
from frontdesk import serialize
from frontdesk.actions import ActionError
from frontdesk.actions.operators import token_hash
from frontdesk.events import Event
from frontdesk.models import Conversation, Operator, Site, Visitor


def _clip(value: object, n: int) -> str:
    return value[:n] if isinstance(value, str) else ""


async def identify_visitor(rt, site: Site, token: object, *, page: object = None, user_agent: str = "",  # noqa: ANN001
                           ip: str = "", lang: object = "") -> tuple[Visitor, str]:
    """The visitor holding ``token`` on ``site``, or a new visitor when token is None.

    A token that is not a visitor **of this site** is refused (``unauthorized``):
    the client must drop it and connect again without one.
    """
    page = page if isinstance(page, dict) else {}
    async with rt.sessions() as session:
        async with session.begin():
            if token is None:
                token = secrets.token_hex(32)  # 256 bits
                visitor = Visitor(site_id=site.id, token_hash=token_hash(token), first_seen_at=rt.clock())
                session.add(visitor)
            else:
                if not isinstance(token, str) or not 16 <= len(token) <= 128:
                    raise ActionError("unauthorized", "unknown visitor", 401)
                visitor = (await session.execute(select(Visitor).where(
                    Visitor.token_hash == token_hash(token), Visitor.site_id == site.id))).scalar_one_or_none()
                if visitor is None:
                    raise ActionError("unauthorized", "unknown visitor", 401)
            visitor.last_seen_at = rt.clock()
            visitor.user_agent = user_agent[:500]
            visitor.ip = ip[:64]
            if lang:
                visitor.language = _clip(lang, 16)
            if page.get("url"):
                visitor.page_url = _clip(page.get("url"), 2048)
                visitor.page_title = _clip(page.get("title"), 500)
                if page.get("referrer") and not visitor.referrer:
                    visitor.referrer = _clip(page.get("referrer"), 2048)
    return visitor, token


async def visitor_state(rt, visitor: Visitor) -> dict | None:  # noqa: ANN001
    """The visitor's open (announced) conversation as the visitor may see it."""
    async with rt.sessions() as session:
        conv = (await session.execute(select(Conversation).where(
            Conversation.visitor_id == visitor.id, Conversation.status == "open"))).scalar_one_or_none()
        if conv is None or conv.last_seq == 0:
            return None
        assignee = await session.get(Operator, conv.assignee_id) if conv.assignee_id else None
        return serialize.visitor_conversation(conv, assignee)


async def visitor_conversation_ids(rt, visitor: Visitor, wanted: list[int]) -> dict[int, int]:  # noqa: ANN001
    """Of ``wanted``, the conversations that belong to the visitor → their last_seq."""
    if not wanted:
        return {}
    async with rt.sessions() as session:
        rows = (await session.execute(select(Conversation.id, Conversation.last_seq).where(
            Conversation.id.in_(wanted), Conversation.visitor_id == visitor.id))).all()
    return dict(rows)


async def record_page(rt, visitor: Visitor, url: object, title: object) -> None:  # noqa: ANN001
    url, title = _clip(url, 2048), _clip(title, 500)
    if not url:
        raise ActionError("invalid_frame", "page needs url")
    async with rt.sessions() as session:
        async with session.begin():
            v = await session.get(Visitor, visitor.id)
            v.page_url, v.page_title, v.last_seen_at = url, title, rt.clock()
            conv = (await session.execute(select(Conversation).where(
                Conversation.visitor_id == visitor.id, Conversation.status == "open"))).scalar_one_or_none()
        if conv is not None and conv.last_seq > 0:
            from frontdesk.actions.conversations import load_conversation

            full = await load_conversation(session, conv)
            await rt.publish(Event(ev.CONVERSATION_UPDATED, visitor.site_id, {"conversation": full},
                                   conversation_id=conv.id, visitor_id=visitor.id))


async def visitor_typing(rt, visitor: Visitor, conversation_id: int | None, text: object) -> None:  # noqa: ANN001
    """Ephemeral: broker only, never stored."""
    if conversation_id is None:
        return
    text = text[: rt.settings.max_message_chars] if isinstance(text, str) else ""
    await rt.publish(Event(ev.VISITOR_TYPING, visitor.site_id, {"text": text},
                           conversation_id=conversation_id, visitor_id=visitor.id))


async def mark_read(rt, visitor: Visitor, conversation_id: int, seq: int) -> None:  # noqa: ANN001
    """The visitor has seen its conversation up to ``seq`` (never moves back, never past last_seq)."""
    async with rt.sessions() as session, session.begin():
        await session.execute(update(Conversation).where(
            Conversation.id == conversation_id, Conversation.visitor_id == visitor.id,
            Conversation.visitor_read_seq < seq, Conversation.last_seq >= seq).values(visitor_read_seq=seq))
