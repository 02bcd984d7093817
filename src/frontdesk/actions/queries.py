"""Shared reads, used by several actions. Functions that take a ``session`` run inside
the caller's transaction (they are building blocks, not public actions); the few that
take ``rt`` open their own read-only session."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk import events as ev
from frontdesk import serialize
from frontdesk.actions.errors import not_found
from frontdesk.actions.identity import OperatorRef
from frontdesk.actions.validate import check_id
from frontdesk.events import Event
from frontdesk.models import (
    Conversation,
    ConversationQuality,
    ConversationRating,
    DepartmentMember,
    Message,
    Operator,
    Site,
    SiteMember,
    SiteRouting,
    Visitor,
)

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime


async def authors(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, Operator]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    ops = (await session.execute(select(Operator).where(Operator.id.in_(wanted)))).scalars().all()
    return {o.id: o for o in ops}


def _holding() -> ColumnElement[bool]:
    """SQL: the message is the automatic holding message (``serialize.is_holding``)."""
    return or_(and_(Message.kind == "system",
                    or_(*(Message.client_id.startswith(p, autoescape=True) for p in serialize.HOLDING_PREFIXES))),
               and_(Message.kind == "operator",
                    Message.client_id.startswith(serialize.AUTO_HOLD_PREFIX, autoescape=True)))


async def load_conversation(session: AsyncSession, conv: Conversation) -> dict:
    """The CONVERSATION shape of docs/protocol.md."""
    site = await session.get(Site, conv.site_id)
    visitor = await session.get(Visitor, conv.visitor_id)
    assignee = await session.get(Operator, conv.assignee_id) if conv.assignee_id else None
    last = (await session.execute(
        select(Message).where(Message.conversation_id == conv.id, ~_holding())
        .order_by(Message.seq.desc()).limit(1))).scalar_one_or_none()
    rating = await session.get(ConversationRating, conv.id) if conv.status == "closed" else None
    quality = await session.get(ConversationQuality, conv.id) if conv.status == "closed" else None
    assert site is not None and visitor is not None
    return serialize.conversation(conv, site=site, visitor_row=visitor, assignee=assignee, last_message=last,
                                  rating_row=rating, quality_score=_score(conv, quality))


async def load_conversations(session: AsyncSession, convs: list[Conversation]) -> list[dict]:
    """Many CONVERSATIONs in a constant number of queries (the operator's welcome)."""
    if not convs:
        return []
    ids = [c.id for c in convs]
    sites = {s.id: s for s in (await session.execute(
        select(Site).where(Site.id.in_({c.site_id for c in convs})))).scalars()}
    visitors = {v.id: v for v in (await session.execute(
        select(Visitor).where(Visitor.id.in_({c.visitor_id for c in convs})))).scalars()}
    assignees = await authors(session, (c.assignee_id for c in convs))
    pairs = [(c.id, c.last_seq) for c in convs if c.last_seq > 0]
    last: dict[int, Message] = {}
    if pairs:
        rows = (await session.execute(select(Message).where(
            Message.conversation_id.in_(ids), Message.seq.in_({s for _, s in pairs})))).scalars()
        wanted = set(pairs)
        last = {m.conversation_id: m for m in rows if (m.conversation_id, m.seq) in wanted}
        # the holding message is never the preview: take the message before it (rare, one query)
        held = [cid for cid, m in last.items() if serialize.is_holding(m.kind, m.client_id)]
        if held:
            for cid in held:
                del last[cid]
            before = (select(Message.conversation_id, func.max(Message.seq).label("seq"))
                      .where(Message.conversation_id.in_(held), ~_holding())
                      .group_by(Message.conversation_id).subquery())
            for m in (await session.execute(select(Message).join(before, and_(
                    Message.conversation_id == before.c.conversation_id, Message.seq == before.c.seq)))).scalars():
                last[m.conversation_id] = m
    closed = [c.id for c in convs if c.status == "closed"]
    ratings: dict[int, ConversationRating] = {}
    qualities: dict[int, ConversationQuality] = {}
    if closed:
        found = await session.execute(select(ConversationRating).where(ConversationRating.conversation_id.in_(closed)))
        ratings = {r.conversation_id: r for r in found.scalars()}
        scored = await session.execute(
            select(ConversationQuality).where(ConversationQuality.conversation_id.in_(closed)))
        qualities = {q.conversation_id: q for q in scored.scalars()}
    return [serialize.conversation(c, site=sites[c.site_id], visitor_row=visitors[c.visitor_id],
                                   assignee=assignees.get(c.assignee_id or 0), last_message=last.get(c.id),
                                   rating_row=ratings.get(c.id), quality_score=_score(c, qualities.get(c.id)))
            for c in convs]


def _score(conv: Conversation, quality: ConversationQuality | None) -> int | None:
    """The coach's score of this close (a reopened and closed again conversation waits for a new one)."""
    return quality.score if quality is not None and quality.closed_at == conv.closed_at else None


async def messages_after(session: AsyncSession, conversation_id: int, after_seq: int, limit: int,
                         *, include_notes: bool) -> list[dict]:
    q = select(Message).where(Message.conversation_id == conversation_id, Message.seq > after_seq)
    if not include_notes:
        q = q.where(Message.kind != "note")
    rows = (await session.execute(q.order_by(Message.seq).limit(limit))).scalars().all()
    by_id = await authors(session, (m.author_operator_id for m in rows))
    return [serialize.message(m, by_id.get(m.author_operator_id or 0)) for m in rows]


async def find_open(session: AsyncSession, visitor_id: int) -> Conversation | None:
    return (await session.execute(select(Conversation).where(
        Conversation.visitor_id == visitor_id, Conversation.status == "open"))).scalar_one_or_none()


async def operator_site_ids(session: AsyncSession, op: Operator | OperatorRef) -> set[int]:
    if op.is_admin:
        return set((await session.execute(select(Site.id))).scalars())
    return set((await session.execute(
        select(SiteMember.site_id).where(SiteMember.operator_id == op.id))).scalars())


async def operator_conversation(session: AsyncSession, operator: Operator | OperatorRef,
                                conversation_id: object) -> Conversation:
    """The conversation if this operator may act on it; ``not_found`` otherwise (also for a malformed id)."""
    cid = check_id(conversation_id)
    conv = await session.get(Conversation, cid)
    if conv is None:
        raise not_found()
    if not operator.is_admin:
        member = (await session.execute(select(SiteMember.site_id).where(
            SiteMember.operator_id == operator.id, SiteMember.site_id == conv.site_id))).first()
        if member is None:
            raise not_found()
    return conv


async def sites_online(session: AsyncSession, site_ids: set[int]) -> dict[int, bool]:
    """Per site: is any active operator working on it online?"""
    online = (await session.execute(select(Operator).where(
        Operator.status == "online", Operator.is_active.is_(True)))).scalars().all()
    result = {sid: False for sid in site_ids}
    if not online:
        return result
    if any(o.is_admin for o in online):
        return {sid: True for sid in site_ids}
    members = (await session.execute(select(SiteMember.site_id).where(
        SiteMember.operator_id.in_([o.id for o in online]), SiteMember.site_id.in_(site_ids)))).scalars()
    for sid in members:
        result[sid] = True
    return result


async def site_by_key(session: AsyncSession, site_key: object) -> Site | None:
    if not isinstance(site_key, str) or not 1 <= len(site_key) <= 64 or not site_key.isascii():
        return None
    return (await session.execute(select(Site).where(Site.site_key == site_key))).scalar_one_or_none()


def conversation_event(name: str, conv: Conversation, payload: dict, operator_id: int | None = None) -> Event:
    return Event(name, conv.site_id, payload, conversation_id=conv.id, visitor_id=conv.visitor_id,
                 operator_id=operator_id)


async def offer_to(session: AsyncSession, conv: Conversation) -> list[int] | None:
    """Who a ``conversation.offered`` of ``conv`` is for: the online members of its department when
    it carries one with a member online, else None — every online operator of the site."""
    if conv.department_id is None:
        return None
    members = select(DepartmentMember.operator_id).where(DepartmentMember.department_id == conv.department_id)
    online = list((await session.execute(select(Operator.id).where(
        Operator.id.in_(members), Operator.is_active.is_(True), Operator.status == "online")
        .order_by(Operator.id))).scalars())
    return online or None


async def offer_event(session: AsyncSession, conv: Conversation, full: dict, repeat: int = 0) -> Event:
    """``conversation.offered``: the chat waits for someone to take it (docs/protocol.md § Events)."""
    return conversation_event(ev.CONVERSATION_OFFERED, conv, {
        "conversation": full, "repeat": repeat, "offer_to": await offer_to(session, conv)})


async def auto_routed(session: AsyncSession, site_id: int) -> bool:
    return (await session.execute(select(SiteRouting.mode).where(SiteRouting.site_id == site_id))
            ).scalar_one_or_none() == "auto"


async def new_conversation_events(rt: Runtime, conversation_id: int) -> list[Event]:
    """``conversation.created`` + the first ``conversation.offered`` of a conversation whose first
    message was just stored. A site with automatic routing offers nothing: the router assigns the
    chat to one operator (or it waits in the queue, re-offered after ``offer_repeat``)."""
    async with rt.sessions() as session:
        conv = await session.get(Conversation, conversation_id)
        assert conv is not None
        full = await load_conversation(session, conv)
        assignee = await session.get(Operator, conv.assignee_id) if conv.assignee_id else None
        out = [conversation_event(ev.CONVERSATION_CREATED, conv, {
            "conversation": full, "visitor_conversation": serialize.visitor_conversation(conv, assignee)})]
        if not await auto_routed(session, conv.site_id):
            out.append(await offer_event(session, conv, full))
    return out


async def updated_event(session: AsyncSession, conv: Conversation) -> Event:
    return conversation_event(ev.CONVERSATION_UPDATED, conv, {"conversation": await load_conversation(session, conv)})
