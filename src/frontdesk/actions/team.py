"""Team work: presence across nodes, transfer of a conversation to another operator, who is viewing.

* **Presence across nodes.** Every node writes how many panel tabs each operator has open on it
  (``operator_presence``, one row per node and operator) with an expiry its heartbeat renews every
  third of ``FRONTDESK_PRESENCE_TTL``. An operator's online state is the union over nodes: the grace
  timer of a node sets an operator offline only when no node has a live row for it, and the rows of a
  node that stopped expire (the next sweep on any node sets its operators offline). The expiry is
  real time, not ``rt.clock``: a test that moves the business clock must not make live nodes look dead.
* **Transfer.** An operator offers a conversation to a colleague with a note only operators see;
  the receiver accepts (the conversation becomes theirs, the visitor gets a system line and the new
  name and photo), or after ``FRONTDESK_TRANSFER_TIMEOUT`` the conversation goes back to the waiting
  queue and is offered to every online operator. Each end is claimed with one conditional UPDATE, so
  with any number of nodes exactly one node acts.
* **Viewing.** Which operators have a conversation open: ephemeral frames, never stored.
"""
from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update

from frontdesk import events as ev
from frontdesk import serialize
from frontdesk.actions import conversations, operators, queries
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef
from frontdesk.actions.validate import check_id, check_note, check_text
from frontdesk.actions.writer import PendingMessage
from frontdesk.models import Conversation, Operator, OperatorPresence, SiteMember, Transfer, TransferStatus

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime


def _real_now() -> datetime:
    return datetime.now(UTC)


# --- presence across nodes ------------------------------------------------------------------

async def record_tabs(rt: Runtime, node_id: str, counts: dict[int, int]) -> None:
    """Replace this node's rows with ``counts`` (operator id → open tabs), expiring after the TTL."""
    expires = _real_now() + timedelta(seconds=rt.settings.presence_ttl)
    async with rt.sessions() as session, session.begin():
        await session.execute(delete(OperatorPresence).where(OperatorPresence.node_id == node_id))
        session.add_all([OperatorPresence(node_id=node_id, operator_id=op_id, sockets=n, expires_at=expires)
                         for op_id, n in sorted(counts.items()) if n > 0])


async def forget_node(rt: Runtime, node_id: str) -> None:
    """A node that stops cleanly removes its rows at once."""
    async with rt.sessions() as session, session.begin():
        await session.execute(delete(OperatorPresence).where(OperatorPresence.node_id == node_id))


async def tabs_elsewhere(rt: Runtime, node_id: str, operator_id: int) -> int:
    """Open panel tabs of the operator on every other live node."""
    async with rt.sessions() as session:
        total = (await session.execute(select(func.coalesce(func.sum(OperatorPresence.sockets), 0)).where(
            OperatorPresence.operator_id == operator_id, OperatorPresence.node_id != node_id,
            OperatorPresence.expires_at > _real_now()))).scalar_one()
    return int(total)


async def sweep_stopped_nodes(rt: Runtime) -> list[int]:
    """Rows of nodes that stopped renewing them are dropped; an operator whose tabs were only there
    (and who has none on this node) is set offline. Returns those operators."""
    now = _real_now()
    async with rt.sessions() as session, session.begin():
        stale = set((await session.execute(select(OperatorPresence.operator_id).where(
            OperatorPresence.expires_at <= now))).scalars())
        if not stale:
            return []
        live = set((await session.execute(select(OperatorPresence.operator_id).where(
            OperatorPresence.operator_id.in_(stale), OperatorPresence.expires_at > now))).scalars())
        await session.execute(delete(OperatorPresence).where(OperatorPresence.expires_at <= now))
    gone = sorted(op_id for op_id in stale - live if not rt.operator_connected(op_id))
    for op_id in gone:
        try:
            await operators.set_status(rt, op_id, "offline")
        except ActionError:  # deleted meanwhile
            pass
    return gone


# --- transfer ---------------------------------------------------------------------------------

def _transfer(t: Transfer, source: Operator | OperatorRef | None, target: Operator | OperatorRef | None) -> dict:
    return {"id": t.id, "conversation_id": t.conversation_id, "from": serialize.operator_public(source),
            "to": serialize.operator_public(target), "note": t.note, "status": t.status,
            "created_at": serialize.iso(t.created_at), "expires_at": serialize.iso(t.expires_at)}


transfer_json = _transfer  # actions/routing.py shapes a department's offers the same way


async def _may_work_on(session: object, op: Operator, site_id: int) -> bool:
    if op.is_admin:
        return True
    return (await session.execute(select(SiteMember.site_id).where(  # type: ignore[attr-defined]
        SiteMember.operator_id == op.id, SiteMember.site_id == site_id))).first() is not None


async def transfer_targets(rt: Runtime, operator: OperatorRef, conversation_id: object) -> list[dict]:
    """The colleagues a conversation can be transferred to: active operators of its site (admins
    too), online first, then by name; never the caller."""
    async with rt.sessions() as session:
        conv = await queries.operator_conversation(session, operator, conversation_id)
        members = select(SiteMember.operator_id).where(SiteMember.site_id == conv.site_id)
        rows = (await session.execute(select(Operator).where(
            Operator.is_active.is_(True), Operator.id != operator.id,
            (Operator.role == "admin") | Operator.id.in_(members)))).scalars().all()
    rank = {"online": 0, "away": 1, "offline": 2}
    return [{**serialize.operator_public(o), "status": o.status}  # type: ignore[dict-item]
            for o in sorted(rows, key=lambda o: (rank.get(o.status, 3), o.name.lower(), o.id))]


async def pending_offers(rt: Runtime, operator: OperatorRef) -> list[dict]:
    """Transfer offers still waiting for this operator (a panel that connects shows them again):
    ``[{"transfer": TRANSFER, "conversation": CONVERSATION}]``, oldest first."""
    async with rt.sessions() as session:
        rows = list((await session.execute(select(Transfer).where(
            Transfer.to_operator_id == operator.id, Transfer.status == TransferStatus.pending.value,
            Transfer.expires_at > rt.clock()).order_by(Transfer.id).limit(50))).scalars())
        out = []
        for t in rows:
            conv = await session.get(Conversation, t.conversation_id)
            if conv is None or conv.status != "open":
                continue
            source = await session.get(Operator, t.from_operator_id) if t.from_operator_id else None
            out.append({"transfer": _transfer(t, source, operator),
                        "conversation": await queries.load_conversation(session, conv)})
    return out


async def offer_transfer(rt: Runtime, operator: OperatorRef, conversation_id: object, to_operator_id: object,
                         note: object = "") -> dict:
    """Offer the conversation to ``to_operator_id`` with a note only operators see. A pending offer
    of the same conversation ends (replaced). The note is also kept in the history as an internal note."""
    to_id = check_id(to_operator_id, "operator")
    clean_note = check_note(note, rt.settings.max_message_chars)
    now = rt.clock()
    async with rt.sessions() as session:
        async with session.begin():
            conv = await queries.operator_conversation(session, operator, conversation_id)
            if conv.status != "open":
                raise ActionError("conversation_closed", "the conversation is closed", 409)
            target = await session.get(Operator, to_id)
            if target is None or not target.is_active or target.id == operator.id \
                    or not await _may_work_on(session, target, conv.site_id):
                raise ActionError("invalid_input", "choose an active colleague who works on this site")
            replaced = list((await session.execute(select(Transfer).where(
                Transfer.conversation_id == conv.id, Transfer.status == TransferStatus.pending.value))).scalars())
            for old in replaced:
                old.status, old.ended_at = TransferStatus.expired.value, now
            t = Transfer(conversation_id=conv.id, from_operator_id=operator.id, to_operator_id=target.id,
                         note=clean_note, status=TransferStatus.pending.value, created_at=now,
                         expires_at=now + timedelta(seconds=rt.settings.transfer_timeout))
            session.add(t)
            await session.flush()
        full = await queries.load_conversation(session, conv)
        offer = _transfer(t, operator, target)
    if clean_note:
        await rt.writer.store(PendingMessage(
            conversation_id=conv.id, site_id=conv.site_id, visitor_id=conv.visitor_id, kind="note",
            sender=f"o{operator.id}", text=clean_note, client_id=f"transfer-note:{t.id}", author=operator))
    events = [_ended(conv, old, "replaced") for old in replaced]
    events.append(queries.conversation_event(ev.TRANSFER_OFFERED, conv, {
        "to_operator_id": target.id, "from_operator_id": operator.id, "transfer": offer, "conversation": full},
        operator.id))
    await rt.publish(*events)
    return offer


def _ended(conv: Conversation, t: Transfer, result: str) -> ev.Event:
    return queries.conversation_event(ev.TRANSFER_ENDED, conv, {
        "transfer_id": t.id, "result": result, "from_operator_id": t.from_operator_id,
        "to_operator_id": t.to_operator_id})


async def accept_transfer(rt: Runtime, operator: OperatorRef, transfer_id: object) -> dict:
    """The receiver accepts: the conversation is theirs, the visitor sees a system line and the new
    operator's name and photo, the previous operator's list updates (``conversation.assigned``)."""
    tid = check_id(transfer_id, "transfer")
    now = rt.clock()
    async with rt.sessions() as session:
        async with session.begin():
            t = await session.get(Transfer, tid)
            if t is None or t.to_operator_id != operator.id:
                raise not_found("transfer")
            claimed = (await session.execute(
                update(Transfer).where(Transfer.id == tid, Transfer.status == TransferStatus.pending.value,
                                       Transfer.expires_at > now)
                .values(status=TransferStatus.accepted.value, ended_at=now)
                .execution_options(synchronize_session=False))).rowcount  # type: ignore[attr-defined]
            if claimed != 1:
                raise ActionError("transfer_ended", "this transfer offer has ended", 409)
            conv = await session.get(Conversation, t.conversation_id)
            if conv is None or conv.status != "open":
                raise ActionError("conversation_closed", "the conversation is closed", 409)
            conv.assignee_id = operator.id
            conv.assigned_at = rt.clock()  # the automatic holding line counts from the take
            # a department's offer went to each online member: the others' offers end now
            siblings = list((await session.execute(select(Transfer).where(
                Transfer.conversation_id == conv.id, Transfer.status == TransferStatus.pending.value))).scalars())
            for other in siblings:
                other.status, other.ended_at = TransferStatus.expired.value, now
        full = await queries.load_conversation(session, conv)
    await rt.publish(
        queries.conversation_event(ev.CONVERSATION_ASSIGNED, conv, {"operator": serialize.operator_public(operator)},
                                   operator.id),
        _ended(conv, t, "accepted"), *(_ended(conv, other, "taken") for other in siblings))
    await conversations.handover_line(rt, conv, "transfer", operator.name, f"transfer:{t.id}")
    return full


async def expire_transfers(rt: Runtime, now: datetime) -> int:
    """Offers nobody accepted in time: the conversation goes back to the waiting queue (when the
    operator who offered it still holds it) and is offered to every online operator. Returns how
    many this node ended."""
    async with rt.sessions() as session:
        due = list((await session.execute(select(Transfer).where(
            Transfer.status == TransferStatus.pending.value, Transfer.expires_at <= now)
            .order_by(Transfer.id).limit(200))).scalars())
    done = 0
    for t in due:
        async with rt.sessions() as session:
            async with session.begin():
                claimed = (await session.execute(
                    update(Transfer).where(Transfer.id == t.id, Transfer.status == TransferStatus.pending.value)
                    .values(status=TransferStatus.expired.value, ended_at=now)
                    .execution_options(synchronize_session=False))).rowcount  # type: ignore[attr-defined]
                if claimed != 1:
                    continue  # another node ended it
                conv = await session.get(Conversation, t.conversation_id)
                back = conv is not None and conv.status == "open" and conv.assignee_id == t.from_operator_id
                if conv is not None and back:
                    conv.assignee_id = None
            events = []
            if conv is not None:
                events.append(_ended(conv, t, "expired"))
                if back:
                    full = await queries.load_conversation(session, conv)
                    events += [queries.conversation_event(ev.CONVERSATION_UPDATED, conv, {"conversation": full}),
                               await queries.offer_event(session, conv, full)]
        await rt.publish(*events)
        done += 1
    return done


# --- decline, cancel (operators-only lines: a visitor never learns of an offer) ---------------

# The line operators see in the history when an offer ends early (stored as a note of the operator who acted).
TRANSFER_LINE = {
    "ru": {"declined": "{name} отклоняет передачу диалога.", "cancelled": "{name} отменяет передачу диалога."},
    "en": {"declined": "{name} declined the transfer.", "cancelled": "{name} cancelled the transfer."},
}


async def decline_transfer(rt: Runtime, operator: OperatorRef, transfer_id: object) -> dict:
    """The receiver says no: the conversation stays with the operator who offered it."""
    return await _end_early(rt, operator, transfer_id, TransferStatus.declined.value)


async def cancel_transfer(rt: Runtime, operator: OperatorRef, transfer_id: object) -> dict:
    """The operator who offered takes the offer back before the receiver accepts."""
    return await _end_early(rt, operator, transfer_id, TransferStatus.cancelled.value)


async def _end_early(rt: Runtime, operator: OperatorRef, transfer_id: object, result: str) -> dict:
    tid = check_id(transfer_id, "transfer")
    now = rt.clock()
    async with rt.sessions() as session:
        async with session.begin():
            t = await session.get(Transfer, tid)
            mine = t is not None and (t.to_operator_id if result == TransferStatus.declined.value
                                      else t.from_operator_id) == operator.id
            if t is None or not mine:
                raise not_found("transfer")
            claimed = (await session.execute(
                update(Transfer).where(Transfer.id == tid, Transfer.status == TransferStatus.pending.value)
                .values(status=result, ended_at=now)
                .execution_options(synchronize_session=False))).rowcount  # type: ignore[attr-defined]
            if claimed != 1:
                raise ActionError("transfer_ended", "this transfer offer has ended", 409)
            conv = await session.get(Conversation, t.conversation_id)
            assert conv is not None  # the transfer row goes with its conversation
    lang = operator.language if operator.language in ("ru", "en") else "ru"
    await rt.writer.store(PendingMessage(
        conversation_id=conv.id, site_id=conv.site_id, visitor_id=conv.visitor_id, kind="note",
        sender=f"o{operator.id}", text=TRANSFER_LINE[lang][result].format(name=operator.name),
        client_id=f"transfer-{result}:{t.id}", author=operator))
    await rt.publish(_ended(conv, t, result))
    return {"transfer_id": t.id, "conversation_id": conv.id, "result": result}


# --- supervision: whisper --------------------------------------------------------------------

WHISPER_PREFIX = "whisper:"  # client_id of a whisper (a note); the panel shows it to the holder at once


async def whisper(rt: Runtime, operator: OperatorRef, conversation_id: object, text: object) -> dict:
    """A supervisor (an administrator) whispers to the operator holding a conversation: an internal
    note (never sent to the visitor) whose client_id starts with ``whisper:``, so the holder's panel
    shows it at once even when another conversation is open."""
    if not operator.is_admin:
        raise ActionError("forbidden", "only a supervisor (administrator) can whisper", 403)
    clean = check_text(text, rt.settings.max_message_chars)
    async with rt.sessions() as session:
        conv = await queries.operator_conversation(session, operator, conversation_id)
        if conv.status != "open":
            raise ActionError("conversation_closed", "the conversation is closed", 409)
    return await rt.writer.store(PendingMessage(
        conversation_id=conv.id, site_id=conv.site_id, visitor_id=conv.visitor_id, kind="note",
        sender=f"o{operator.id}", text=clean, client_id=WHISPER_PREFIX + secrets.token_hex(12), author=operator))


# --- who is viewing -----------------------------------------------------------------------

async def view_conversation(rt: Runtime, operator: OperatorRef, conversation_id: int | None,
                            previous: int | None = None) -> int | None:
    """The operator's panel tab shows ``conversation_id`` now (None: none). Tells the operators of
    the site (never the visitor); returns the conversation now viewed. Ephemeral: nothing is stored."""
    out = []
    async with rt.sessions() as session:
        if previous is not None and previous != conversation_id:
            try:
                old = await queries.operator_conversation(session, operator, previous)
                out.append(_viewing(old, operator, False))
            except ActionError:
                pass
        if conversation_id is not None:
            conv = await queries.operator_conversation(session, operator, conversation_id)
            out.append(_viewing(conv, operator, True))
    await rt.publish(*out)
    return conversation_id


def _viewing(conv: Conversation, operator: OperatorRef, viewing: bool) -> ev.Event:
    return queries.conversation_event(ev.OPERATOR_VIEWING, conv, {
        "operator": serialize.operator_public(operator), "viewing": viewing}, operator.id)
