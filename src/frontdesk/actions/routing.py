"""Automatic routing, the waiting queue and its positions, transfer to a department.

* **Automatic routing** (a site whose ``site_routing.mode`` is ``auto``): every conversation that
  waits (open, announced, nobody holds it) goes, oldest first, to the online operator with the
  fewest open conversations among those under their own chat limit — the department's members
  when it carries a department that has members, else the site's operators (members and admins).
  Equal counts: whoever got a chat from routing longest ago (``operator_routing.routed_at``), then
  the lower id. When everyone is at their limit the conversation waits in the queue. The open
  conversations of an operator who went offline (signed off, or the tabs' grace ran out) or was
  deactivated are routed again the same way (they stay with them while nobody can take them).
* **One truth on every node.** Everything routing reads is in the database (status, presence,
  open conversations, limits). A site is routed in one transaction whose first statement writes
  its ``site_routing`` row (one pass per site at a time, on any number of nodes, on both engines);
  each assignment is also a conditional UPDATE.
  Every node's ``Router`` routes every automatic site once a second and at once when this node
  publishes an event that may free an operator or add a conversation.
* **Queue position.** Per site and department, waiting conversations in order of arrival: the
  visitor of each gets ``queue.position`` whenever its number changes (and on connect).
* **Transfer to a department.** The offer goes to the department's online members (one offer row
  each, the first to accept has it, the others end as ``taken``); the conversation carries the
  department at once, so when nobody accepts in time it goes back to the department's queue
  (``team.expire_transfers``). A department with nobody online takes it into its queue at once.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk import events as ev
from frontdesk import serialize
from frontdesk.actions import departments, queries, team
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef, VisitorRef
from frontdesk.actions.validate import check_id, check_note
from frontdesk.actions.writer import PendingMessage
from frontdesk.models import (
    DEFAULT_CHAT_LIMIT,
    Conversation,
    Department,
    DepartmentMember,
    Operator,
    OperatorRouting,
    SiteMember,
    SiteRouting,
    Transfer,
    TransferStatus,
)

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

log = logging.getLogger(__name__)

ROUTING_TICK = 1.0  # seconds between two routing passes of a node when nothing woke it
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# events after which routing may have something to do (a new conversation, a freed operator, …)
WAKE_EVENTS = frozenset({ev.CONVERSATION_CREATED, ev.CONVERSATION_CLOSED, ev.CONVERSATION_UPDATED,
                         ev.CONVERSATION_REOPENED, ev.OPERATOR_STATUS_CHANGED, ev.TRANSFER_ENDED})
# events after which a queue may have moved (a take by hand as well): positions are read again
QUEUE_EVENTS = WAKE_EVENTS | {ev.CONVERSATION_ASSIGNED}
# a node reads the positions at least this often (ticks) even when it saw no event: a queue moved by
# another node is announced by that node's router, this one only corrects its memory of what was sent
POSITIONS_EVERY = 10


async def auto_sites(rt: Runtime) -> list[int]:
    async with rt.sessions() as session:
        return list((await session.execute(select(SiteRouting.site_id).where(SiteRouting.mode == "auto")
                                           .order_by(SiteRouting.site_id))).scalars())


async def _waiting(session: AsyncSession, site_id: int) -> list[Conversation]:
    return list((await session.execute(select(Conversation).where(
        Conversation.site_id == site_id, Conversation.status == "open", Conversation.assignee_id.is_(None),
        Conversation.last_seq > 0).order_by(Conversation.created_at, Conversation.id))).scalars())


async def _orphans(session: AsyncSession, site_id: int) -> list[Conversation]:
    """Open conversations held by an operator who is offline (signed off, or the tabs' grace ran
    out) or deactivated: under automatic routing they go to someone online."""
    gone = select(Operator.id).where((Operator.status == "offline") | Operator.is_active.is_(False))
    return list((await session.execute(select(Conversation).where(
        Conversation.site_id == site_id, Conversation.status == "open", Conversation.assignee_id.in_(gone))
        .order_by(Conversation.created_at, Conversation.id))).scalars())


async def _anyone_free(session: AsyncSession, site_id: int) -> bool:
    """Is an operator of the site online and under their chat limit? Without one nothing can be routed:
    the waiting conversations are not read at all (a few small reads, whatever the queue's length)."""
    members = select(SiteMember.operator_id).where(SiteMember.site_id == site_id)
    ops = set((await session.execute(select(Operator.id).where(
        Operator.is_active.is_(True), Operator.status == "online",
        (Operator.role == "admin") | Operator.id.in_(members)))).scalars())
    if not ops:
        return False
    active = await departments.active_chats(session, ops)
    limits = {op_id: limit for op_id, limit in await session.execute(select(
        OperatorRouting.operator_id, OperatorRouting.chat_limit).where(OperatorRouting.operator_id.in_(ops)))}
    return any(active.get(i, 0) < limits.get(i, DEFAULT_CHAT_LIMIT) for i in ops)


async def _waiting_places(session: AsyncSession, site_id: int) -> list:
    """The waiting conversations of a site in queue order, only what a position needs (no ORM objects)."""
    return list((await session.execute(select(Conversation.id, Conversation.visitor_id, Conversation.department_id)
                                       .where(Conversation.site_id == site_id, Conversation.status == "open",
                                              Conversation.assignee_id.is_(None), Conversation.last_seq > 0)
                                       .order_by(Conversation.created_at, Conversation.id))).all())


def _positions(waiting: list[Conversation]) -> dict[int, tuple[int, int]]:
    """conversation id → (visitor id, 1-based place among the waiting ones of its department)."""
    seen: dict[int | None, int] = {}
    out = {}
    for conv in waiting:
        seen[conv.department_id] = seen.get(conv.department_id, 0) + 1
        out[conv.id] = (conv.visitor_id, seen[conv.department_id])
    return out


waiting_conversations, positions_of = _waiting, _positions  # for actions.hellos (a batch of visitor hellos)


@dataclass
class _Team:
    """Who can take a site's waiting conversations now, and how busy each one is."""

    operators: dict[int, Operator]
    departments: dict[int, set[int]]  # department id → members (only departments of waiting conversations)
    active: dict[int, int]
    rows: dict[int, OperatorRouting]

    def limit(self, op_id: int) -> int:
        return self.rows[op_id].chat_limit if op_id in self.rows else DEFAULT_CHAT_LIMIT

    def pick(self, conv: Conversation) -> int | None:
        """The operator this conversation goes to now, or None (it waits)."""
        pool = self.departments.get(conv.department_id or 0) or None  # a department without members: everyone
        free = [i for i in self.operators if (pool is None or i in pool) and self.active.get(i, 0) < self.limit(i)]
        if not free:
            return None
        return min(free, key=lambda i: (self.active.get(i, 0),
                                        (self.rows[i].routed_at if i in self.rows else None) or _EPOCH, i))


async def _team(session: AsyncSession, site_id: int, waiting: list[Conversation]) -> _Team:
    members = select(SiteMember.operator_id).where(SiteMember.site_id == site_id)
    ops = {o.id: o for o in (await session.execute(select(Operator).where(
        Operator.is_active.is_(True), Operator.status == "online",
        (Operator.role == "admin") | Operator.id.in_(members)))).scalars()}
    dep_ids = {c.department_id for c in waiting if c.department_id is not None}
    deps: dict[int, set[int]] = {d: set() for d in dep_ids}
    if dep_ids:
        for dep_id, op_id in await session.execute(select(DepartmentMember.department_id, DepartmentMember.operator_id)
                                                    .where(DepartmentMember.department_id.in_(dep_ids))):
            deps[dep_id].add(op_id)
    active = await departments.active_chats(session, set(ops))
    rows = {r.operator_id: r for r in (await session.execute(select(OperatorRouting).where(
        OperatorRouting.operator_id.in_(set(ops))))).scalars()} if ops else {}
    return _Team(ops, deps, active, rows)


async def route_site(rt: Runtime, site_id: int) -> list[int]:
    """One routing pass over a site (automatic mode only): assigns what it can — the waiting
    conversations, then those held by an operator who went offline — and publishes
    ``conversation.assigned`` for each. Returns the conversation ids it assigned."""
    now = rt.clock()
    assigned: list[tuple[Conversation, Operator, int | None]] = []
    async with rt.sessions() as session:
        if not await _anyone_free(session, site_id):
            return []  # nobody can take a chat: the queue is not read, nothing is written
        waiting = await _waiting(session, site_id) + await _orphans(session, site_id)
        if not waiting:
            return []  # the usual case: a few reads, no write
        team = await _team(session, site_id, waiting)
        if not any(team.pick(c) is not None for c in waiting):
            return []  # a queue and everyone busy: still no write
        await session.rollback()
        async with session.begin():
            # the first statement writes the site's routing row: one pass per site at a time on every
            # node (a row lock on PostgreSQL, the write lock on SQLite), and every read below is fresh
            locked = (await session.execute(update(SiteRouting).where(
                SiteRouting.site_id == site_id, SiteRouting.mode == "auto").values(mode=SiteRouting.mode)
                .execution_options(synchronize_session=False))).rowcount  # type: ignore[attr-defined]
            if locked != 1:
                return []
            waiting = await _waiting(session, site_id)
            orphans = await _orphans(session, site_id)
            team = await _team(session, site_id, waiting + orphans)
            for conv in waiting + orphans:
                pick = team.pick(conv)
                if pick is None:
                    continue  # this conversation (and its department's later ones) waits
                held_by = conv.assignee_id  # None, or the operator who went offline
                holder = Conversation.assignee_id.is_(None) if held_by is None else Conversation.assignee_id == held_by
                done = (await session.execute(update(Conversation).where(
                    Conversation.id == conv.id, holder, Conversation.status == "open")
                    .values(assignee_id=pick, assigned_at=now).execution_options(synchronize_session=False)
                )).rowcount  # type: ignore[attr-defined]
                if done != 1:
                    continue
                team.active[pick] = team.active.get(pick, 0) + 1
                if pick not in team.rows:
                    team.rows[pick] = OperatorRouting(operator_id=pick, chat_limit=DEFAULT_CHAT_LIMIT)
                    session.add(team.rows[pick])
                team.rows[pick].routed_at = now
                assigned.append((conv, team.operators[pick], held_by))
    events = [queries.conversation_event(ev.CONVERSATION_ASSIGNED, conv, {
        "operator": serialize.operator_public(op), "routed": True,
        **({"from_operator_id": held_by} if held_by is not None else {})}, op.id) for conv, op, held_by in assigned]
    await rt.publish(*events)
    return [conv.id for conv, _, _ in assigned]


async def queue_positions(rt: Runtime, site_id: int) -> dict[int, tuple[int, int]]:
    """conversation id → (visitor id, place in its queue) for every waiting conversation of the site."""
    async with rt.sessions() as session:
        return _positions(await _waiting_places(session, site_id))


async def visitor_queue_position(rt: Runtime, visitor: VisitorRef, conversation_id: int) -> int | None:
    """The visitor's place in the queue (a socket that connects), None when it is not waiting."""
    async with rt.sessions() as session:
        routing = await session.get(SiteRouting, visitor.site_id)
        if routing is None or routing.mode != "auto":
            return None
        conv = await session.get(Conversation, conversation_id)
        if conv is None or conv.visitor_id != visitor.id or conv.site_id != visitor.site_id \
                or conv.status != "open" or conv.assignee_id is not None or conv.last_seq <= 0:
            return None
        # its place: the waiting conversations of its department (or of none) ahead of it, counted in SQL
        department = (Conversation.department_id.is_(None) if conv.department_id is None
                      else Conversation.department_id == conv.department_id)
        ahead = (await session.execute(select(func.count()).select_from(Conversation).where(
            Conversation.site_id == conv.site_id, Conversation.status == "open", Conversation.assignee_id.is_(None),
            Conversation.last_seq > 0, department,
            or_(Conversation.created_at < conv.created_at,
                and_(Conversation.created_at == conv.created_at, Conversation.id < conv.id))))).scalar_one()
    return int(ahead) + 1


def position_event(site_id: int, conversation_id: int, visitor_id: int, position: int) -> ev.Event:
    return ev.Event(ev.QUEUE_POSITION, site_id, {"position": position}, conversation_id=conversation_id,
                    visitor_id=visitor_id)


class Router:
    """One per node: routes every automatic site once a second and whenever woken, and tells
    waiting visitors their place when it changes."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._wake = asyncio.Event()
        self._sent: dict[int, dict[int, int]] = {}  # site → conversation → the position last published
        self._queue_moved = True  # an event since the last reading of the positions (or none read yet)

    def wake(self) -> None:
        self._wake.set()
        self._queue_moved = True

    def hint(self, event: ev.Event) -> None:
        if event.name in QUEUE_EVENTS:
            self._queue_moved = True
        if event.name in WAKE_EVENTS:
            self._wake.set()

    async def loop(self) -> None:
        ticks = 0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), ROUTING_TICK)
            self._wake.clear()
            ticks += 1
            moved, self._queue_moved = self._queue_moved, False
            await self.run_once(positions=moved or ticks % POSITIONS_EVERY == 0)

    async def run_once(self, positions: bool = True) -> None:
        """Route every automatic site; read and publish the queue positions when ``positions`` (an
        event may have moved a queue) or when this pass assigned something."""
        sites = await auto_sites(self.rt)
        for site_id in set(self._sent) - set(sites):
            del self._sent[site_id]
        for site_id in sites:
            assigned = await route_site(self.rt, site_id)
            if positions or assigned or site_id not in self._sent:
                await self.publish_positions(site_id)

    async def publish_positions(self, site_id: int) -> None:
        now = await queue_positions(self.rt, site_id)
        sent = self._sent.get(site_id, {})
        out = [position_event(site_id, cid, vid, pos) for cid, (vid, pos) in now.items() if sent.get(cid) != pos]
        self._sent[site_id] = {cid: pos for cid, (_vid, pos) in now.items()}
        await self.rt.publish(*out)


# --- transfer to a department -----------------------------------------------------------------

async def transfer_to_department(rt: Runtime, operator: OperatorRef, conversation_id: object, department_id: object,
                                 note: object = "") -> dict:
    """Offer the conversation to the online members of a department of its site (with a note
    only operators see). The conversation carries the department from now on; nobody online there:
    it goes to the department's queue at once. Returns ``{"department", "offers", "queued"}``."""
    dep_id = check_id(department_id, "department")
    clean_note = check_note(note, rt.settings.max_message_chars)
    now = rt.clock()
    async with rt.sessions() as session:
        async with session.begin():
            conv = await queries.operator_conversation(session, operator, conversation_id)
            if conv.status != "open":
                raise ActionError("conversation_closed", "the conversation is closed", 409)
            dep = await session.get(Department, dep_id)
            if dep is None or dep.site_id != conv.site_id:
                raise not_found("department")
            members = select(DepartmentMember.operator_id).where(DepartmentMember.department_id == dep.id)
            targets = list((await session.execute(select(Operator).where(
                Operator.id.in_(members), Operator.is_active.is_(True), Operator.status == "online",
                Operator.id != operator.id).order_by(Operator.id))).scalars())
            replaced = list((await session.execute(select(Transfer).where(
                Transfer.conversation_id == conv.id, Transfer.status == TransferStatus.pending.value))).scalars())
            for old in replaced:
                old.status, old.ended_at = TransferStatus.expired.value, now
            conv.department_id = dep.id
            queued = not targets
            if queued:
                conv.assignee_id = None
            rows = [Transfer(conversation_id=conv.id, from_operator_id=operator.id, to_operator_id=t.id,
                             note=clean_note, status=TransferStatus.pending.value, created_at=now,
                             expires_at=now + timedelta(seconds=rt.settings.transfer_timeout)) for t in targets]
            session.add_all(rows)
            await session.flush()
        full = await queries.load_conversation(session, conv)
        offered = await queries.offer_event(session, conv, full) if queued else None
    department = {"id": dep.id, "name": dep.name}
    offers = [{**team.transfer_json(t, operator, target), "department": department} for t, target in zip(rows, targets)]
    if clean_note:
        await rt.writer.store(PendingMessage(
            conversation_id=conv.id, site_id=conv.site_id, visitor_id=conv.visitor_id, kind="note",
            sender=f"o{operator.id}", text=clean_note, client_id=f"department-note:{conv.id}:{conv.last_seq}:{dep.id}",
            author=operator))
    events = [queries.conversation_event(ev.TRANSFER_ENDED, conv, {
        "transfer_id": old.id, "result": "replaced", "from_operator_id": old.from_operator_id,
        "to_operator_id": old.to_operator_id}) for old in replaced]
    events += [queries.conversation_event(ev.TRANSFER_OFFERED, conv, {
        "to_operator_id": o["to"]["id"], "from_operator_id": operator.id, "transfer": o, "conversation": full},
        operator.id) for o in offers]
    events.append(queries.conversation_event(ev.CONVERSATION_UPDATED, conv, {"conversation": full}))
    if offered is not None:
        events.append(offered)
    await rt.publish(*events)
    return {"department": department, "offers": offers, "queued": queued}
