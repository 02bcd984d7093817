"""Conversations: open one for a visitor, send, take, close, reopen, read, list, history, resume."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk import events as ev
from frontdesk import serialize
from frontdesk.actions import queries
from frontdesk.actions.emails import reply_email_hook, visitor_language
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef, VisitorRef
from frontdesk.actions.sites import profanity_mode
from frontdesk.actions.validate import check_client_id, check_id, check_page_args, check_text, preview_text
from frontdesk.actions.writer import PendingMessage
from frontdesk.models import Conversation, Message, Site, Visitor

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

PendingFactory = Callable[[int], PendingMessage]

# A resume gap larger than this is answered with `reset` (reload through REST)
# rather than pushed through the socket in one go.
REPLAY_MAX = 500


# --- visitors ----------------------------------------------------------------------

async def check_new_conversation_caps(rt: Runtime, session: AsyncSession, visitor: VisitorRef) -> None:
    """Spam: at most ``FRONTDESK_NEW_CONVERSATIONS_PER_VISITOR`` new conversations per visitor and
    ``FRONTDESK_NEW_CONVERSATIONS_PER_ADDRESS`` per address (the visitors' stored address) on a site
    in the last hour, by ``rt.clock`` and the database (so every node counts the same)."""
    settings = rt.settings
    if not settings.new_conversations_per_visitor and not settings.new_conversations_per_address:
        return
    since = rt.clock() - timedelta(hours=1)
    recent = Conversation.created_at > since
    if settings.new_conversations_per_visitor:
        n = (await session.execute(select(func.count()).select_from(Conversation).where(
            Conversation.visitor_id == visitor.id, recent))).scalar_one()
        if n >= settings.new_conversations_per_visitor:
            raise ActionError("rate_limited", "too many new conversations from this visitor; try again later", 429)
    if settings.new_conversations_per_address:
        ip = (await session.execute(select(Visitor.ip).where(Visitor.id == visitor.id))).scalar_one_or_none()
        if ip:
            n = (await session.execute(select(func.count()).select_from(Conversation).join(
                Visitor, Visitor.id == Conversation.visitor_id).where(
                Conversation.site_id == visitor.site_id, Visitor.ip == ip, recent))).scalar_one()
            if n >= settings.new_conversations_per_address:
                raise ActionError("rate_limited", "too many new conversations from this address; try again later",
                                  429)


async def open_conversation_id(rt: Runtime, visitor: VisitorRef) -> int:
    """The visitor's open conversation, created (unannounced until its first message) when absent —
    within the spam caps (``check_new_conversation_caps``)."""
    async with rt.sessions() as session:
        conv = await queries.find_open(session, visitor.id)
        if conv is not None:
            return conv.id
        await check_new_conversation_caps(rt, session, visitor)
        conv = Conversation(site_id=visitor.site_id, visitor_id=visitor.id, created_at=rt.clock())
        session.add(conv)
        try:
            await session.commit()
            return conv.id
        except IntegrityError:  # another tab / node created it first
            await session.rollback()
            found = await queries.find_open(session, visitor.id)
            assert found is not None
            return found.id


async def store_in_open_conversation(rt: Runtime, visitor: VisitorRef, make: PendingFactory,
                                     conversation_hint: int | None = None) -> dict:
    """Store a visitor's message in its open conversation; when that was closed meanwhile, in a new one."""
    cid = conversation_hint or await open_conversation_id(rt, visitor)
    for _attempt in range(3):
        try:
            return await rt.writer.store(make(cid))
        except ActionError as exc:
            if exc.code != "conversation_closed":
                raise
            cid = await open_conversation_id(rt, visitor)  # closed meanwhile: start a new one
    raise ActionError("internal", "could not open a conversation; retry", 503)


async def send_visitor_message(rt: Runtime, visitor: VisitorRef, client_id: object, text: object,
                               conversation_hint: int | None = None, profanity: str = "off") -> dict:
    """Store a visitor message in the visitor's open conversation (created when there is none).

    ``conversation_hint`` is the open conversation the socket already knows: it
    saves a lookup per message; the writer still checks it is open.
    """
    client_id = check_client_id(client_id)
    text = check_text(text, rt.settings.max_message_chars)
    return await store_in_open_conversation(rt, visitor, lambda cid: PendingMessage(
        conversation_id=cid, site_id=visitor.site_id, visitor_id=visitor.id, kind="visitor",
        sender=f"v{visitor.id}", text=text, client_id=client_id, require_open=True, profanity=profanity),
        conversation_hint)


async def visitor_typing(rt: Runtime, visitor: VisitorRef, conversation_id: int | None, text: str) -> None:
    """Ephemeral: broker only, never stored."""
    if conversation_id is None:
        return
    await rt.publish(ev.Event(ev.VISITOR_TYPING, visitor.site_id,
                              {"text": preview_text(text, rt.settings.max_message_chars)},
                              conversation_id=conversation_id, visitor_id=visitor.id))


async def visitor_read(rt: Runtime, visitor: VisitorRef, conversation_id: int, seq: int) -> None:
    """The visitor has seen its conversation up to ``seq`` (never moves back, never past last_seq);
    another visitor's conversation is ``not_found``, as everywhere."""
    async with rt.sessions() as session, session.begin():
        done = await session.execute(update(Conversation).where(
            Conversation.id == conversation_id, Conversation.visitor_id == visitor.id,
            Conversation.visitor_read_seq < seq, Conversation.last_seq >= seq).values(visitor_read_seq=seq))
        if done.rowcount == 0 and await session.scalar(  # type: ignore[attr-defined]
                select(Conversation.visitor_id).where(Conversation.id == conversation_id)) != visitor.id:
            raise not_found()


async def visitor_open_conversation(rt: Runtime, visitor: VisitorRef) -> dict | None:
    """The visitor's open (announced) conversation as the visitor may see it."""
    async with rt.sessions() as session:
        conv = await queries.find_open(session, visitor.id)
        if conv is None or conv.last_seq == 0:
            return None
        assignee = (await queries.authors(session, [conv.assignee_id])).get(conv.assignee_id or 0)
        return serialize.visitor_conversation(conv, assignee)


async def visitor_messages(rt: Runtime, visitor: VisitorRef, conversation_id: object, after_seq: object,
                           limit: object) -> dict:
    """A page of the visitor's own conversation (notes never); any other id is ``not_found``."""
    cid = check_id(conversation_id)
    after, lim = check_page_args(after_seq, limit)
    async with rt.sessions() as session:
        conv = await session.get(Conversation, cid)
        if conv is None or conv.visitor_id != visitor.id:
            raise not_found()
        msgs = await queries.messages_after(session, cid, after, lim, include_notes=False)
    return {"messages": msgs, "last_seq": conv.last_seq, "has_more": len(msgs) == lim}


async def end_by_visitor(rt: Runtime, visitor: VisitorRef, conversation_id: object) -> dict:
    """The visitor ends its own conversation from the widget ("end chat"): it is closed as an
    operator would close it, and everyone gets ``conversation.closed`` with ``by`` null and
    ``by_visitor`` true. Ending one already closed changes nothing; another visitor's id → ``not_found``."""
    cid = check_id(conversation_id)
    async with rt.sessions() as session:
        async with session.begin():
            conv = await session.get(Conversation, cid)
            if conv is None or conv.visitor_id != visitor.id or conv.last_seq == 0:
                raise not_found()
            changed = conv.status == "open"
            if changed:
                conv.status = "closed"
                conv.closed_at = rt.clock()
        closed_at = serialize.iso(conv.closed_at)
    if changed:
        await rt.publish(queries.conversation_event(
            ev.CONVERSATION_CLOSED, conv, {"by": None, "by_visitor": True, "closed_at": closed_at}))
    return {"conversation_id": cid, "status": "closed", "closed_at": closed_at}


# --- operators ---------------------------------------------------------------------

async def send_operator_message(rt: Runtime, operator: OperatorRef, conversation_id: object, client_id: object,
                                text: object, kind: object = "operator") -> dict:
    """An operator's reply or internal note. A reply in a conversation nobody holds takes it;
    a reply in an offline conversation is e-mailed to the visitor in the same transaction."""
    client_id = check_client_id(client_id)
    text = check_text(text, rt.settings.max_message_chars)
    if kind not in ("operator", "note"):
        raise ActionError("invalid_frame", "kind must be operator or note")
    async with rt.sessions() as session:
        conv = await queries.operator_conversation(session, operator, conversation_id)
        if conv.status != "open" and kind == "operator":
            # A stored retry of a message sent before the close is still answered.
            dup = (await session.execute(select(Message.id).where(
                Message.sender == f"o{operator.id}", Message.client_id == client_id))).first()
            if dup is None:
                raise ActionError("conversation_closed", "the conversation is closed; reopen it first", 409)
        needs_take = kind == "operator" and conv.assignee_id is None and conv.status == "open"
    if needs_take:
        await take_conversation(rt, operator, conv.id)
    hook = reply_email_hook(rt, operator, conv.id) if kind == "operator" and conv.is_offline else None
    return await rt.writer.store(PendingMessage(
        conversation_id=conv.id, site_id=conv.site_id, visitor_id=conv.visitor_id, kind=kind,
        sender=f"o{operator.id}", text=text, client_id=client_id, author=operator, in_transaction=hook))


# The system line the visitor (and every operator) sees when a conversation changes hands.
HANDOVER_TEXT = {
    "ru": {"transfer": "Диалог передан оператору {name}.", "take": "Диалог продолжит оператор {name}."},
    "en": {"transfer": "Your conversation was passed to {name}.", "take": "{name} is taking over the conversation."},
}


async def handover_line(rt: Runtime, conv: Conversation, kind: str, name: str, client_id: str) -> dict:
    """Store the system line of a hand-over (``kind``: transfer | take) in the visitor's language."""
    async with rt.sessions() as session:
        visitor = await session.get(Visitor, conv.visitor_id)
        site = await session.get(Site, conv.site_id)
    lang = visitor_language(visitor.language if visitor else None, site) if site else "ru"
    return await rt.writer.store(PendingMessage(
        conversation_id=conv.id, site_id=conv.site_id, visitor_id=conv.visitor_id, kind="system", sender="system",
        text=HANDOVER_TEXT[lang][kind].format(name=name), client_id=client_id))


async def take_conversation(rt: Runtime, operator: OperatorRef, conversation_id: object,
                            force: bool = False) -> dict:
    """Take a conversation. One that another operator holds is taken only with ``force`` (the panel
    asks for a confirmation first) and leaves a system line for the visitor and the operators."""
    async with rt.sessions() as session:
        async with session.begin():
            conv = await queries.operator_conversation(session, operator, conversation_id)
            if conv.status != "open":
                raise ActionError("conversation_closed", "the conversation is closed", 409)
            held_by = conv.assignee_id if conv.assignee_id != operator.id else None
            if held_by is not None and not force:
                raise ActionError("held_by_other", "another operator holds this conversation; "
                                                   "take it with force after a confirmation", 409)
            changed = conv.assignee_id != operator.id
            conv.assignee_id = operator.id
            if changed:
                conv.assigned_at = rt.clock()  # the automatic holding line counts from the take
        full = await queries.load_conversation(session, conv)
    if changed:
        await rt.publish(queries.conversation_event(
            ev.CONVERSATION_ASSIGNED, conv, {"operator": serialize.operator_public(operator)}, operator.id))
    if held_by is not None:
        await handover_line(rt, conv, "take", operator.name, f"take:{conv.id}:{conv.last_seq}:{operator.id}")
    return full


async def close_conversation(rt: Runtime, operator: OperatorRef, conversation_id: object) -> dict:
    async with rt.sessions() as session:
        async with session.begin():
            conv = await queries.operator_conversation(session, operator, conversation_id)
            changed = conv.status == "open"
            conv.status = "closed"
            conv.closed_at = conv.closed_at if not changed else rt.clock()
        full = await queries.load_conversation(session, conv)
    if changed:
        await rt.publish(queries.conversation_event(
            ev.CONVERSATION_CLOSED, conv, {"by": serialize.operator_public(operator), "closed_at": full["closed_at"]},
            operator.id))
    return full


async def reopen_conversation(rt: Runtime, operator: OperatorRef, conversation_id: object) -> dict:
    async with rt.sessions() as session:
        try:
            async with session.begin():
                conv = await queries.operator_conversation(session, operator, conversation_id)
                changed = conv.status == "closed"
                conv.status = "open"
                conv.closed_at = None
        except IntegrityError:
            raise ActionError("conflict", "the visitor already has another open conversation", 409) from None
        full = await queries.load_conversation(session, conv)
    if changed:
        await rt.publish(queries.conversation_event(ev.CONVERSATION_REOPENED, conv, {"conversation": full},
                                                    operator.id))
    return full


async def operator_typing(rt: Runtime, operator: OperatorRef, conversation_id: object, is_typing: bool) -> None:
    """Ephemeral: the visitor sees "Анна печатает…"; never stored."""
    async with rt.sessions() as session:
        conv = await queries.operator_conversation(session, operator, conversation_id)
    await rt.publish(queries.conversation_event(
        ev.OPERATOR_TYPING, conv, {"is_typing": bool(is_typing), "operator": serialize.operator_public(operator)},
        operator.id))


async def operator_read(rt: Runtime, operator: OperatorRef, conversation_id: object, seq: int) -> None:
    """Operators have seen the conversation up to ``seq`` (never moves back, never past last_seq)."""
    async with rt.sessions() as session, session.begin():
        conv = await queries.operator_conversation(session, operator, conversation_id)
        conv.operator_read_seq = max(conv.operator_read_seq, min(seq, conv.last_seq))


async def list_for_operator(rt: Runtime, operator: OperatorRef, status: str = "open", limit: int = 200,
                            before_id: int | None = None) -> list[dict]:
    """Conversations of the operator's sites, newest first (only announced ones: with a message)."""
    async with rt.sessions() as session:
        q = select(Conversation).where(Conversation.status == status, Conversation.last_seq > 0)
        if not operator.is_admin:
            q = q.where(Conversation.site_id.in_(await queries.operator_site_ids(session, operator)))
        if before_id is not None:
            q = q.where(Conversation.id < before_id)
        convs = list((await session.execute(q.order_by(Conversation.id.desc()).limit(limit))).scalars().all())
        return await queries.load_conversations(session, convs)


async def get_for_operator(rt: Runtime, operator: OperatorRef, conversation_id: object) -> dict:
    async with rt.sessions() as session:
        conv = await queries.operator_conversation(session, operator, conversation_id)
        return await queries.load_conversation(session, conv)


async def operator_messages(rt: Runtime, operator: OperatorRef, conversation_id: object, after_seq: object,
                            limit: object) -> dict:
    """A page of history (notes included): ``{"messages", "last_seq", "has_more"}``."""
    after, lim = check_page_args(after_seq, limit)
    async with rt.sessions() as session:
        conv = await queries.operator_conversation(session, operator, conversation_id)
        msgs = await queries.messages_after(session, conv.id, after, lim, include_notes=True)
        shown = await _operator_views(session, conv.site_id, msgs)  # flagged / masked (docs/moderation.md)
    return {"messages": shown, "last_seq": conv.last_seq, "has_more": len(msgs) == lim}


# --- resume (both sockets) -----------------------------------------------------------

@dataclass
class Replay:
    """What one resume entry gets: the missing messages, or a ``reset``, or ``not_found``."""

    conversation_id: int
    last_seq: int = 0
    messages: list[dict] = field(default_factory=list)
    reset: str | None = None  # "unknown_seq" | "gap_too_large"
    found: bool = True

    @classmethod
    def of(cls, conversation_id: int, last_seq: int, after: int) -> Replay:
        """The entry for a client holding ``after`` of a conversation at ``last_seq``: a ``reset``
        when ``after`` is unknown or too far behind; else its messages are to be read when
        ``after < last_seq`` (``wants_messages``)."""
        item = cls(conversation_id, last_seq=last_seq)
        if after > last_seq:
            item.reset = "unknown_seq"
        elif last_seq - after > REPLAY_MAX:
            item.reset = "gap_too_large"
        return item

    def wants_messages(self, after: int) -> bool:
        return self.reset is None and after < self.last_seq


async def resume(rt: Runtime, who: OperatorRef | VisitorRef, wanted: dict[int, int],
                 include_current: int | None = None) -> list[Replay]:
    """Per conversation id → the last seq the client holds: what it misses, from the database.
    ``include_current`` (visitors): the open conversation, replayed from the start when the client
    did not name it (a fresh tab)."""
    if include_current is not None and include_current not in wanted:
        wanted = {**wanted, include_current: 0}
    out: list[Replay] = []
    if not wanted:
        return out
    is_operator = isinstance(who, OperatorRef)
    operator = who if isinstance(who, OperatorRef) else None
    async with rt.sessions() as session:
        for cid, after in wanted.items():
            conv = await session.get(Conversation, cid)
            if conv is None:
                out.append(Replay(cid, found=False))
                continue
            if operator is not None:
                try:
                    await queries.operator_conversation(session, operator, cid)
                except ActionError:
                    out.append(Replay(cid, found=False))
                    continue
            elif conv.visitor_id != who.id:
                out.append(Replay(cid, found=False))
                continue
            item = Replay.of(cid, conv.last_seq, after)
            if item.wants_messages(after):
                item.messages = await queries.messages_after(session, cid, after, REPLAY_MAX,
                                                             include_notes=is_operator)
                if is_operator:  # flagged / masked for operators (the site's profanity setting)
                    item.messages = await _operator_views(session, conv.site_id, item.messages)
            out.append(item)
    return out


async def sync(rt: Runtime, who: OperatorRef | VisitorRef, conversation_id: int, after_seq: int,
               limit: int) -> dict:
    """A ``sync`` frame: one page (≤ 200) after ``after_seq``, with ``has_more``."""
    if isinstance(who, OperatorRef):
        return await operator_messages(rt, who, conversation_id, after_seq, limit)
    return await visitor_messages(rt, who, conversation_id, after_seq, limit)


async def message_events(rt: Runtime, conversation_id: int, after_seq: int, upto_seq: int) -> list[ev.Event]:
    """``message.created`` events for seqs (after_seq, upto_seq], read from the database —
    how the hub fills a hole that pub/sub left (see realtime.hub._Sequencer)."""
    async with rt.sessions() as session:
        conv = await session.get(Conversation, conversation_id)
        if conv is None:
            return []
        msgs = await queries.messages_after(session, conversation_id, after_seq, max(0, upto_seq - after_seq),
                                            include_notes=True)
        views = await _operator_views(session, conv.site_id, msgs)
    return [queries.conversation_event(ev.MESSAGE_CREATED, conv, _message_payload(m, v)) for m, v in zip(msgs, views)
            if m["seq"] <= upto_seq]


async def events_since(rt: Runtime, since: object, limit: int = 5000) -> list[ev.Event] | None:
    """Every ``message.created`` since ``since`` (a datetime), in seq order per conversation —
    how a node catches up after its broker connection was down. None when there are more than
    ``limit`` (the caller then asks its clients to resume instead)."""
    async with rt.sessions() as session:
        rows = (await session.execute(select(Message).where(Message.created_at >= since)
                                      .order_by(Message.conversation_id, Message.seq).limit(limit + 1))).scalars().all()
        if len(rows) > limit:
            return None
        convs = {c.id: c for c in (await session.execute(select(Conversation).where(
            Conversation.id.in_({m.conversation_id for m in rows})))).scalars()} if rows else {}
        by_id = await queries.authors(session, (m.author_operator_id for m in rows))
        modes = {site.id: profanity_mode(site.widget) for site in (await session.execute(select(Site).where(
            Site.id.in_({c.site_id for c in convs.values()})))).scalars()} if rows else {}
    out = []
    for m in rows:
        conv = convs[m.conversation_id]
        message = serialize.message(m, by_id.get(m.author_operator_id or 0))
        view = serialize.operator_view(message, modes.get(conv.site_id, "off"))
        out.append(queries.conversation_event(ev.MESSAGE_CREATED, conv, _message_payload(message, view)))
    return out


def _message_payload(message: dict, operator_view: dict) -> dict:
    """A ``message.created`` payload: the operators' copy beside the visitor's when they differ."""
    return {"message": message} if operator_view is message else {"message": message, "operator_message": operator_view}


async def _operator_views(session: AsyncSession, site_id: int, messages: list[dict]) -> list[dict]:
    """``messages`` as the site's operators see them (profanity setting, docs/moderation.md)."""
    site = await session.get(Site, site_id)
    mode = profanity_mode(site.widget if site else None)
    return messages if mode == "off" else [serialize.operator_view(m, mode) for m in messages]

