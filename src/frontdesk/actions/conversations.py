"""Conversations: open one for a visitor, take, close, reopen, read, list, history."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk import events as ev
from frontdesk import serialize
from frontdesk.actions import ActionError, not_found
from frontdesk.actions.messages import PendingMessage, check_client_id, check_text
from frontdesk.events import Event
from frontdesk.models import Conversation, Message, Operator, Site, Visitor

HISTORY_PAGE_MAX = 200
# A resume gap larger than this is answered with `reset` (reload through REST)
# rather than pushed through the socket in one go.
REPLAY_MAX = 500


async def load_conversation(session: AsyncSession, conv: Conversation) -> dict:
    site = await session.get(Site, conv.site_id)
    visitor = await session.get(Visitor, conv.visitor_id)
    assignee = await session.get(Operator, conv.assignee_id) if conv.assignee_id else None
    last = (await session.execute(
        select(Message).where(Message.conversation_id == conv.id).order_by(Message.seq.desc()).limit(1)
    )).scalar_one_or_none()
    return serialize.conversation(conv, site=site, visitor_row=visitor, assignee=assignee, last_message=last)


async def conversation_events_for_new(rt, conversation_id: int) -> list[Event]:  # noqa: ANN001
    async with rt.sessions() as session:
        conv = await session.get(Conversation, conversation_id)
        full = await load_conversation(session, conv)
        assignee = await session.get(Operator, conv.assignee_id) if conv.assignee_id else None
    common = dict(conversation_id=conv.id, visitor_id=conv.visitor_id)
    return [
        Event(ev.CONVERSATION_CREATED, conv.site_id,
              {"conversation": full, "visitor_conversation": serialize.visitor_conversation(conv, assignee)},
              **common),
        Event(ev.CONVERSATION_OFFERED, conv.site_id, {"conversation": full, "repeat": 0}, **common),
    ]


async def open_conversation_id(rt, visitor: Visitor) -> int:  # noqa: ANN001
    """The visitor's open conversation, created (unannounced until its first message) when absent."""
    async with rt.sessions() as session:
        cid = await _find_open(session, visitor.id)
        if cid is not None:
            return cid
        conv = Conversation(site_id=visitor.site_id, visitor_id=visitor.id, created_at=rt.clock())
        session.add(conv)
        try:
            await session.commit()
            return conv.id
        except IntegrityError:  # another tab / node created it first
            await session.rollback()
            cid = await _find_open(session, visitor.id)
            assert cid is not None
            return cid


async def _find_open(session: AsyncSession, visitor_id: int) -> int | None:
    return (await session.execute(
        select(Conversation.id).where(Conversation.visitor_id == visitor_id, Conversation.status == "open")
    )).scalar_one_or_none()


async def send_visitor_message(rt, visitor: Visitor, client_id: object, text: object,  # noqa: ANN001
                               conversation_hint: int | None = None) -> dict:
    """Store a visitor message in the visitor's open conversation (created when there is none).

    ``conversation_hint`` is the open conversation the socket already knows: it
    saves a lookup per message; the writer still checks it is open.
    """
    client_id = check_client_id(client_id)
    text = check_text(text, rt.settings.max_message_chars)
    cid = conversation_hint or await open_conversation_id(rt, visitor)
    for _attempt in range(3):
        try:
            return await rt.writer.store(PendingMessage(
                conversation_id=cid, site_id=visitor.site_id, visitor_id=visitor.id, kind="visitor",
                sender=f"v{visitor.id}", text=text, client_id=client_id, require_open=True))
        except ActionError as exc:
            if exc.code != "conversation_closed":
                raise
            cid = await open_conversation_id(rt, visitor)  # closed meanwhile: start a new one
    raise ActionError("internal", "could not open a conversation; retry", 503)


async def check_operator_conversation(session: AsyncSession, operator: Operator, conversation_id: object) -> Conversation:
    """The conversation if this operator may act on it; ``not_found`` otherwise."""
    if isinstance(conversation_id, str) and conversation_id.isdigit():
        conversation_id = int(conversation_id)
    if not isinstance(conversation_id, int) or isinstance(conversation_id, bool) or conversation_id <= 0:
        raise not_found()
    conv = await session.get(Conversation, conversation_id)
    if conv is None:
        raise not_found()
    if not operator.is_admin:
        from frontdesk.actions.operators import operator_site_ids

        if conv.site_id not in await operator_site_ids(session, operator):
            raise not_found()
    return conv


async def send_operator_message(rt, operator: Operator, conversation_id: object, client_id: object,  # noqa: ANN001
                                text: object, kind: object = "operator") -> dict:
    client_id = check_client_id(client_id)
    text = check_text(text, rt.settings.max_message_chars)
    if kind not in ("operator", "note"):
        raise ActionError("invalid_frame", "kind must be operator or note")
    async with rt.sessions() as session:
        conv = await check_operator_conversation(session, operator, conversation_id)
        if conv.status != "open" and kind == "operator":
            # A stored retry of a message sent before the close is still answered.
            dup = (await session.execute(select(Message).where(
                Message.sender == f"o{operator.id}", Message.client_id == client_id))).scalar_one_or_none()
            if dup is None:
                raise ActionError("conversation_closed", "the conversation is closed; reopen it first", 409)
        needs_take = kind == "operator" and conv.assignee_id is None
    if needs_take:
        await take_conversation(rt, operator, conv.id)
    email_hook = None
    if kind == "operator" and conv.is_offline:  # issue 6: the reply is e-mailed too, queued atomically with it
        from frontdesk.actions.offline import reply_email_hook

        email_hook = reply_email_hook(rt, operator, conv.id)
    return await rt.writer.store(PendingMessage(
        conversation_id=conv.id, site_id=conv.site_id, visitor_id=conv.visitor_id, kind=kind,
        sender=f"o{operator.id}", text=text, client_id=client_id, author=operator, in_transaction=email_hook))


async def take_conversation(rt, operator: Operator, conversation_id: object) -> dict:  # noqa: ANN001
    async with rt.sessions() as session:
        async with session.begin():
            conv = await check_operator_conversation(session, operator, conversation_id)
            if conv.status != "open":
                raise ActionError("conversation_closed", "the conversation is closed", 409)
            changed = conv.assignee_id != operator.id
            conv.assignee_id = operator.id
        full = await load_conversation(session, conv)
    if changed:
        await rt.publish(Event(ev.CONVERSATION_ASSIGNED, conv.site_id,
                               {"operator": serialize.operator_public(operator)},
                               conversation_id=conv.id, visitor_id=conv.visitor_id, operator_id=operator.id))
    return full


async def close_conversation(rt, operator: Operator, conversation_id: object) -> dict:  # noqa: ANN001
    async with rt.sessions() as session:
        async with session.begin():
            conv = await check_operator_conversation(session, operator, conversation_id)
            changed = conv.status == "open"
            conv.status = "closed"
            conv.closed_at = conv.closed_at if not changed else rt.clock()
        full = await load_conversation(session, conv)
    if changed:
        await rt.publish(Event(ev.CONVERSATION_CLOSED, conv.site_id,
                               {"by": serialize.operator_public(operator), "closed_at": full["closed_at"]},
                               conversation_id=conv.id, visitor_id=conv.visitor_id, operator_id=operator.id))
    return full


async def reopen_conversation(rt, operator: Operator, conversation_id: object) -> dict:  # noqa: ANN001
    async with rt.sessions() as session:
        try:
            async with session.begin():
                conv = await check_operator_conversation(session, operator, conversation_id)
                changed = conv.status == "closed"
                conv.status = "open"
                conv.closed_at = None
        except IntegrityError:
            raise ActionError("conflict", "the visitor already has another open conversation", 409) from None
        full = await load_conversation(session, conv)
    if changed:
        await rt.publish(Event(ev.CONVERSATION_REOPENED, conv.site_id, {"conversation": full},
                               conversation_id=conv.id, visitor_id=conv.visitor_id, operator_id=operator.id))
    return full


async def messages_after(session: AsyncSession, conversation_id: int, after_seq: int, limit: int,
                         *, include_notes: bool) -> list[dict]:
    q = select(Message).where(Message.conversation_id == conversation_id, Message.seq > after_seq)
    if not include_notes:
        q = q.where(Message.kind != "note")
    rows = (await session.execute(q.order_by(Message.seq).limit(limit))).scalars().all()
    ids = {m.author_operator_id for m in rows if m.author_operator_id}
    authors = {}
    if ids:
        authors = {o.id: o for o in (await session.execute(select(Operator).where(Operator.id.in_(ids)))).scalars()}
    return [serialize.message(m, authors.get(m.author_operator_id)) for m in rows]


def check_page_args(after_seq: object, limit: object) -> tuple[int, int]:
    try:
        after = int(after_seq)
        lim = int(limit)
    except (TypeError, ValueError):
        raise ActionError("invalid_input", "after_seq and limit must be integers") from None
    if after < 0 or lim < 1:
        raise ActionError("invalid_input", "after_seq must be ≥ 0 and limit ≥ 1")
    return after, min(lim, HISTORY_PAGE_MAX)


async def list_open_for_operator(session: AsyncSession, operator: Operator, status: str = "open",
                                 limit: int = 200, before_id: int | None = None) -> list[dict]:
    from frontdesk.actions.operators import operator_site_ids

    q = select(Conversation).where(Conversation.status == status)
    if not operator.is_admin:
        q = q.where(Conversation.site_id.in_(await operator_site_ids(session, operator)))
    q = q.where(Conversation.last_seq > 0)  # not yet announced (no message) = not a conversation yet
    if before_id is not None:
        q = q.where(Conversation.id < before_id)
    q = q.order_by(Conversation.id.desc()).limit(limit)
    convs = (await session.execute(q)).scalars().all()
    return [await load_conversation(session, c) for c in convs]


async def count_open(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(Conversation)
                                  .where(Conversation.status == "open"))).scalar_one()


async def message_events(rt, conversation_id: int, after_seq: int, upto_seq: int) -> list[Event]:  # noqa: ANN001
    """``message.created`` events for seqs (after_seq, upto_seq], read from the database —
    how the hub fills a hole that pub/sub left (see realtime.hub._Sequencer)."""
    async with rt.sessions() as session:
        conv = await session.get(Conversation, conversation_id)
        if conv is None:
            return []
        msgs = await messages_after(session, conversation_id, after_seq, max(0, upto_seq - after_seq),
                                    include_notes=True)
    return [Event(ev.MESSAGE_CREATED, conv.site_id, {"message": m}, conversation_id=conversation_id,
                  visitor_id=conv.visitor_id) for m in msgs if m["seq"] <= upto_seq]
