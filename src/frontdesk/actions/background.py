"""Everything that runs by itself, in one place, under one supervisor.

* **presence grace** — an operator whose last panel tab on this node closed is set
  offline after ``FRONTDESK_OFFLINE_GRACE`` seconds, unless a tab came back (on this or any
  other node: ``actions.team`` keeps every node's tab counts in the database) or the
  operator set a status explicitly meanwhile;
* **presence heartbeat** — renews this node's tab counts and drops those of stopped nodes;
* **transfer expiry** — a transfer offer nobody accepted in time goes back to the queue;
* **offer repeat** — a conversation nobody took is offered again every
  ``FRONTDESK_OFFER_REPEAT`` seconds; the repeat number is claimed with one
  conditional UPDATE, so with any number of nodes exactly one node publishes it;
* **offline tick** — the holding message for unanswered visitors, the automatic holding line, and availability
  frames when working hours start or end (each node tells its own sockets);
* **escalation** — a conversation nobody answers escalates in its site's steps (``actions.escalation``;
  each step claimed with one conditional UPDATE, so exactly one node acts);
* **routing** — automatic routing of waiting conversations and their queue positions
  (``actions/routing.py``), every second and whenever this node publishes a relevant event;
* **mail** — the outbox sender (claims are atomic, safe on every node);
* **quality coach** — scores newly closed conversations every ``FRONTDESK_QUALITY_INTERVAL``
  seconds (``actions.coach``; a second node scoring the same one stores the same result once).

A loop that crashes is logged and restarted with backoff (1 s doubling to 60 s);
fire-and-forget tasks are kept (``Supervisor.spawn``) so none is collected mid-flight.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.actions import bans, coach, escalation, hours, no_reply, operators, queries, routing, team
from frontdesk.mail.sender import CLAIM_BATCH, OutboxSender
from frontdesk.models import Conversation

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

log = logging.getLogger(__name__)

Loop = Callable[[], Awaitable[None]]


class Supervisor:
    """Runs named loops forever, restarting a crashed one with backoff; keeps one-shot tasks."""

    BACKOFF_MAX = 60.0

    def __init__(self) -> None:
        self._loops: dict[str, asyncio.Task] = {}
        self._spawned: set[asyncio.Task] = set()
        self.restarts: dict[str, int] = {}

    def run(self, name: str, loop: Loop) -> None:
        self._loops[name] = asyncio.create_task(self._guard(name, loop), name=name)

    async def _guard(self, name: str, loop: Loop) -> None:
        delay = 1.0
        while True:
            started = asyncio.get_running_loop().time()
            try:
                await loop()
                return  # a loop that returns is done
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background loop %s crashed; restarting in %.0f s", name, delay)
                self.restarts[name] = self.restarts.get(name, 0) + 1
            if asyncio.get_running_loop().time() - started > 300:
                delay = 1.0  # it ran well for a while: start the backoff over
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.BACKOFF_MAX)

    def spawn(self, coro: Awaitable[object], name: str = "task") -> asyncio.Task:
        """A one-shot task whose reference is kept until it ends; its failure is logged."""
        task = asyncio.ensure_future(coro)
        self._spawned.add(task)

        def done(t: asyncio.Task) -> None:
            self._spawned.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("task %s failed", name, exc_info=t.exception())

        task.add_done_callback(done)
        return task

    async def stop(self) -> None:
        tasks = [*self._loops.values(), *self._spawned]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loops.clear()
        self._spawned.clear()


class Presence:
    """Sets an operator offline when its last panel tab on this node has been gone for the grace
    period and no other node has a tab of it; keeps this node's tab counts in the database."""

    def __init__(self, rt: Runtime, supervisor: Supervisor) -> None:
        self.rt = rt
        self.supervisor = supervisor
        self.timers: dict[int, asyncio.TimerHandle] = {}
        self.node_id = secrets.token_hex(8)
        self._dirty = False
        self._flushing: asyncio.Task | None = None
        self._stopped = False

    def tabs_changed(self) -> None:
        """A panel tab opened or closed on this node: write the counts (coalesced, in order)."""
        if self._stopped:
            return
        self._dirty = True
        if self._flushing is None or self._flushing.done():
            self._flushing = self.supervisor.spawn(self._flush(), "presence-flush")

    async def _flush(self) -> None:
        while self._dirty:
            self._dirty = False
            await team.record_tabs(self.rt, self.node_id, self.rt.operator_tabs())

    async def heartbeat(self) -> None:
        """Renew this node's rows, then drop the rows of nodes that stopped renewing theirs."""
        while True:
            self.tabs_changed()
            if self._flushing is not None:
                await asyncio.shield(self._flushing)
            await team.sweep_stopped_nodes(self.rt)
            await asyncio.sleep(self.rt.settings.presence_ttl / 3)

    def operator_gone(self, operator_id: int) -> None:
        self.cancel(operator_id)
        if self._stopped:
            return
        loop = asyncio.get_running_loop()
        self.timers[operator_id] = loop.call_later(
            self.rt.settings.offline_grace,
            lambda: self.supervisor.spawn(self._expire(operator_id), "presence-expire"))

    def cancel(self, operator_id: int) -> None:
        timer = self.timers.pop(operator_id, None)
        if timer is not None:
            timer.cancel()

    def status_set(self, operator_id: int, status: str) -> None:
        """An explicit status wins over a pending grace timer."""
        self.cancel(operator_id)

    async def _expire(self, operator_id: int) -> None:
        self.timers.pop(operator_id, None)
        if self.rt.operator_connected(operator_id):
            return
        if await team.tabs_elsewhere(self.rt, self.node_id, operator_id):
            return  # a tab on another node: that node's timer decides when it closes
        await operators.set_status(self.rt, operator_id, "offline")

    async def stop(self) -> None:
        self._stopped = True
        for t in self.timers.values():
            t.cancel()
        self.timers.clear()
        with contextlib.suppress(Exception):  # the database may be gone; the rows then expire
            await team.forget_node(self.rt, self.node_id)


OFFER_BATCH = 500  # repeats (and first schedules) handled per statement batch
OFFER_BATCHES = 20  # batches per tick at most (10,000 repeats); the rest on the next tick


async def repeat_offers(rt: Runtime, now: datetime) -> int:
    """Offer again every conversation that has waited unassigned for another full
    ``offer_repeat`` period (in batches, see ``_repeat_batch``). Returns how many this node published."""
    total = 0
    for _ in range(OFFER_BATCHES):
        published, more = await _repeat_batch(rt, now)
        total += published
        if not more:
            break
    return total


async def _repeat_batch(rt: Runtime, now: datetime) -> tuple[int, bool]:
    """Offer again every conversation that has waited unassigned for another full
    ``offer_repeat`` period: one batch. Returns (how many this node published, whether more may be due).

    Reads only what is due: each waiting conversation carries its next repeat (``next_offer_at``,
    indexed over the waiting ones); one the loop has not seen yet gets it first. The repeat number
    is claimed with one conditional UPDATE per batch (``offer_count < due``), so with any number of
    nodes exactly one node publishes each repeat."""
    period = rt.settings.offer_repeat
    step = timedelta(seconds=period)

    def due_of(created: datetime) -> int:
        return int((now - created).total_seconds() // period)

    async with rt.sessions() as session:
        new = (await session.execute(
            select(Conversation.id, Conversation.created_at, Conversation.offer_count)
            .where(_WAITING, Conversation.next_offer_at.is_(None)).limit(OFFER_BATCH))).all()
        if new:  # conversations that started waiting since the last tick (or were never scheduled)
            await session.rollback()  # end the read; the write below is a transaction of its own
            async with session.begin():
                await _schedule(session, [(cid, created + step * (count + 1)) for cid, created, count in new])
        due = (await session.execute(
            select(Conversation.id, Conversation.created_at, Conversation.offer_count, Conversation.last_seq)
            .where(_WAITING, Conversation.next_offer_at <= now)
            .order_by(Conversation.next_offer_at).limit(OFFER_BATCH))).all()
        more = len(new) == OFFER_BATCH or len(due) == OFFER_BATCH
        if not due:
            return 0, more  # the usual tick: two index reads, no row
        by_repeat: dict[int, list[int]] = {}
        later: list[tuple[int, datetime]] = []
        created_of = {}
        for cid, created, count, last_seq in due:
            repeat = due_of(created)
            created_of[cid] = created
            if last_seq > 0 and repeat > count:
                by_repeat.setdefault(repeat, []).append(cid)
            else:  # no message yet, or this period's repeat is done: only the next one is scheduled
                later.append((cid, created + step * (max(repeat, count) + 1)))
        claimed: dict[int, int] = {}
        await session.rollback()
        async with session.begin():
            for repeat, ids in sorted(by_repeat.items()):
                won = (await session.execute(
                    update(Conversation)
                    .where(Conversation.id.in_(ids), Conversation.offer_count < repeat,
                           Conversation.assignee_id.is_(None), Conversation.status == "open")
                    .values(offer_count=repeat).returning(Conversation.id)
                    .execution_options(synchronize_session=False))).scalars().all()
                # this node won these repeats; every other node's UPDATE matched none of them
                claimed.update((cid, repeat) for cid in won)
            later += [(cid, created_of[cid] + step * (repeat + 1)) for cid, repeat in claimed.items()]
            await _schedule(session, later)
        if not claimed:
            return 0, more
        convs = list((await session.execute(select(Conversation).where(Conversation.id.in_(list(claimed)))
                                            .order_by(Conversation.id))).scalars())
        fulls = await queries.load_conversations(session, convs)
        out = [await queries.offer_event(session, conv, full, claimed[conv.id]) for conv, full in zip(convs, fulls)]
    await rt.publish(*out)
    return len(out), more


# the leading columns of ix_conversations_waiting_offer (then next_offer_at: a range, or NULL)
_WAITING = and_(Conversation.status == "open", Conversation.assignee_id.is_(None))


async def _schedule(session: AsyncSession, rows: list[tuple[int, datetime]]) -> None:
    """Set the next repeat of each conversation (every node computes the same value)."""
    if rows:
        # the ORM's bulk UPDATE by primary key: one executemany
        await session.execute(update(Conversation), [{"id": cid, "next_offer_at": at} for cid, at in rows])


def file_offset_clock(path: str) -> Callable[[], datetime]:
    """Tests only (FRONTDESK_TEST_CLOCK_FILE): the real UTC clock plus the number of seconds
    written in ``path``, read at every call (missing or garbled = +0). Time keeps running, so
    retries and timeouts still work while a test jumps to 09:00 Moscow or a minute ahead."""
    file = Path(path)

    def clock() -> datetime:
        try:
            offset = float(file.read_text().strip() or 0)
        except (OSError, ValueError):
            offset = 0.0
        return datetime.now(UTC) + timedelta(seconds=offset)

    return clock


class Background:
    """What the app's lifespan starts after the writer and stops before it."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.supervisor = Supervisor()
        self.presence = Presence(rt, self.supervisor)
        self.sender = OutboxSender(rt)
        self.router = routing.Router(rt)
        rt.routing_wake = self.router.wake
        rt.routing_hint = self.router.hint
        rt.spawn = self.supervisor.spawn
        rt.presence_changed = self.presence.status_set
        rt.operator_gone = self.presence.operator_gone
        rt.operator_tabs_changed = self.presence.tabs_changed

    def start(self) -> None:
        rt, s = self.rt, self.supervisor
        s.run("offer-repeat", self._offer_loop)
        s.run("offline-tick", self._offline_loop)
        s.run("presence-heartbeat", self.presence.heartbeat)
        s.run("transfer-expiry", self._transfer_loop)
        s.run("escalation", self._escalation_loop)
        s.run("ban-refresh", self._ban_loop)
        s.run("routing", self.router.loop)
        if self.sender.enabled:  # without SMTP rows simply stay queued ("waiting_for_configuration")
            s.run("outbox-sender", self._mail_loop)
        if rt.settings.quality_interval > 0:
            s.run("quality-coach", self._coach_loop)
        del rt

    async def stop(self) -> None:
        await self.supervisor.stop()
        await self.presence.stop()

    async def _offer_loop(self) -> None:
        while True:
            await asyncio.sleep(min(5.0, self.rt.settings.offer_repeat))
            await repeat_offers(self.rt, self.rt.clock())

    async def _transfer_loop(self) -> None:
        while True:
            await asyncio.sleep(min(2.0, self.rt.settings.transfer_timeout / 4))
            await team.expire_transfers(self.rt, self.rt.clock())

    async def _escalation_loop(self) -> None:
        windows: dict[int, tuple[str, datetime]] = {}  # per site: what the last complete tick saw
        while True:
            await asyncio.sleep(self.rt.settings.escalation_tick)
            await escalation.run_escalation(self.rt, self.rt.clock(), windows)

    async def _ban_loop(self) -> None:
        while True:
            await asyncio.sleep(self.rt.settings.ban_refresh)
            await bans.load_active(self.rt)

    async def _offline_loop(self) -> None:
        watcher = hours.HoursWatcher()
        window: dict = {}  # the holding message: what the last complete tick saw
        while True:
            now = self.rt.clock()
            await no_reply.check_no_reply(self.rt, now, window)
            await no_reply.check_auto_hold(self.rt, now)
            for event in await watcher.tick(self.rt, now):
                self.rt.dispatch_local(event)
            await asyncio.sleep(self.rt.settings.offline_tick)

    async def _coach_loop(self) -> None:
        scorer = coach.Coach(self.rt)
        while True:
            if await scorer.run_once() < coach.BATCH:
                await asyncio.sleep(self.rt.settings.quality_interval)

    async def _mail_loop(self) -> None:
        while True:
            handled = await self.sender.run_once()
            if handled < CLAIM_BATCH:
                await asyncio.sleep(self.rt.settings.mail_poll_interval)
