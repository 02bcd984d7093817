"""Local fan-out: every event from the broker goes to the matching sockets of this node.

Each socket has a bounded outbound queue (allocated with its first frame) and a
writer task that exists only while frames are queued (the only code that sends on
it; an idle socket holds neither). Overflow policy: drop the queue and close with 4408 — the
client reconnects and resumes from its last seq, so nothing is lost, and one
slow client never slows anyone else.
"""
from __future__ import annotations

import asyncio
import enum
import itertools
import logging
import uuid
from collections import OrderedDict, defaultdict, deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from starlette.websockets import WebSocket, WebSocketState

from frontdesk import events as ev
from frontdesk.broker.base import Broker, BrokerUnavailable
from frontdesk.events import Event
from frontdesk.events.audience import message_seq, operator_frame, operator_receives, visitor_frame
from frontdesk.moderation.bans import BanSet
from frontdesk.realtime.protocol import (
    CLOSE_BANNED,
    CLOSE_OVERFLOW,
    CLOSE_RESUME,
    CLOSE_UNAUTHORIZED,
    dumps,
    error_frame,
)
from frontdesk.runtime import ban_of

BANNED_TEXT = "the chat is not available"  # actions.visitors.BANNED_MESSAGE

log = logging.getLogger(__name__)


class ConnState(enum.Enum):
    REPLAYING = "replaying"  # registered, live events queue up behind the replay
    OPEN = "open"
    CLOSED = "closed"


_CLOSE = object()


class _Outbox(deque):
    """A socket's queued frames: (encoded frame, seq key) pairs, then maybe the close marker. A plain
    deque (an ``asyncio.Queue`` costs ≈ 1 KiB and a waiting task per socket); ``empty`` and
    ``get_nowait`` keep the shape tests read it with."""

    __slots__ = ()

    def empty(self) -> bool:
        return not self

    def qsize(self) -> int:
        return len(self)

    def get_nowait(self) -> Any:
        return self.popleft()


class Connection:
    """One socket as the hub sees it: a bounded outbox and a writer task that exists only while
    there is something to send (an idle socket holds no task and no queue). The writer sends every
    queued frame in one go, straight through the ASGI ``send`` (no Starlette wrapper per frame)."""

    __slots__ = ("ws", "state", "_out", "_limit", "delivered", "close_code", "_writer", "_send")

    def __init__(self, ws: WebSocket, queue_size: int) -> None:
        self.ws = ws
        self.state = ConnState.REPLAYING
        self._out: _Outbox | None = None  # allocated with the first queued frame
        self._limit = queue_size
        # conversation id → highest seq sent; replay and live overlap is dropped here
        self.delivered: dict[int, int] = {}
        self.close_code: int | None = None
        self._writer: asyncio.Task | None = None
        # the ASGI send under Starlette's WebSocket (a test double may not have one)
        self._send: Callable[[dict], Awaitable[None]] | None = getattr(ws, "_send", None)

    @property
    def _queue(self) -> _Outbox:
        if self._out is None:
            self._out = _Outbox()
        return self._out

    def push(self, frame: dict | str, seq_key: tuple[int, int] | None = None) -> None:
        """Queue a frame. ``seq_key`` (conversation, seq) marks a message frame: it is
        sent only if that seq was not sent yet (replay/live overlap). Acks carry no
        key: they are always sent and never move the resume point."""
        if self.close_code is not None or self.state is ConnState.CLOSED:
            return
        out = self._out
        if out is None:
            out = self._out = _Outbox()
        elif len(out) >= self._limit:
            self.close(CLOSE_OVERFLOW)
            return
        out.append((frame if isinstance(frame, str) else dumps(frame), seq_key))
        if self._writer is None and self.state is ConnState.OPEN:
            self._writer = asyncio.get_running_loop().create_task(self._drain())

    def close(self, code: int, last: str | None = None) -> None:
        """Ask the writer to close the socket; frames still queued are dropped (``last``, an
        encoded frame, is sent just before the close: e.g. the ``banned`` error)."""
        if self.close_code is not None:
            return
        self.close_code = code
        out = self._queue
        out.clear()
        if last is not None:
            out.append((last, None))
        out.append(_CLOSE)
        if self._writer is None and self.state is ConnState.OPEN:
            self._writer = asyncio.get_running_loop().create_task(self._drain())

    def mark_delivered(self, conversation_id: int, seq: int) -> None:
        if seq > self.delivered.get(conversation_id, 0):
            self.delivered[conversation_id] = seq

    async def send_now(self, frame: dict, seq_key: tuple[int, int] | None = None) -> None:
        """Only while REPLAYING (before ``open``)."""
        await self._send_text(dumps(frame))
        if seq_key:
            self.mark_delivered(*seq_key)

    async def _send_text(self, text: str) -> None:
        if self._send is not None:
            await self._send({"type": "websocket.send", "text": text})
        else:
            await self.ws.send_text(text)

    def open(self) -> asyncio.Task | None:
        """The replay is done: live frames are sent from now on (a writer starts when one is queued)."""
        if self.state is ConnState.REPLAYING:
            self.state = ConnState.OPEN
            if self._out and self._writer is None:
                self._writer = asyncio.get_running_loop().create_task(self._drain())
        return self._writer

    async def finish(self, timeout: float = 2.0) -> None:
        """The reader ended: close (if nobody did) and let the writer send what ends the socket."""
        self.close(1000)
        writer = self._writer
        if writer is not None and not writer.done():
            await asyncio.wait({writer}, timeout=timeout)
            if not writer.done():
                writer.cancel()

    async def _drain(self) -> None:
        out = self._out
        assert out is not None
        send = self._send
        delivered = self.delivered
        try:
            while out:
                item = out.popleft()
                if item is _CLOSE:
                    self.state = ConnState.CLOSED
                    if self.ws.application_state is not WebSocketState.DISCONNECTED:
                        await self.ws.close(self.close_code or 1000)
                    return
                text, key = item
                if key is not None:
                    cid, seq = key
                    if seq <= delivered.get(cid, 0):
                        continue
                    delivered[cid] = seq
                if send is not None:
                    await send({"type": "websocket.send", "text": text})
                else:
                    await self.ws.send_text(text)
        except Exception:  # noqa: BLE001 - peer gone (the reader notices too), or a frame we could not send
            # never leave a socket open that no longer sends: the client reconnects and resumes
            self.close_code = self.close_code or 1011
            self.state = ConnState.CLOSED
            out.clear()
            try:
                if self.ws.application_state is not WebSocketState.DISCONNECTED:
                    await self.ws.close(1011)
            except Exception:  # noqa: BLE001
                pass
        finally:
            self._writer = None


class VisitorConnection(Connection):
    __slots__ = ("site_id", "visitor_id", "ip")

    def __init__(self, ws: WebSocket, queue_size: int, site_id: int, visitor_id: int) -> None:
        super().__init__(ws, queue_size)
        self.site_id, self.visitor_id = site_id, visitor_id
        self.ip = ""  # the client address, for bans by IP or subnet


class OperatorConnection(Connection):
    __slots__ = ("operator_id", "site_ids", "status")

    def __init__(self, ws: WebSocket, queue_size: int, operator_id: int,
                 site_ids: frozenset[int] | None, status: str) -> None:
        super().__init__(ws, queue_size)
        self.operator_id, self.site_ids, self.status = operator_id, site_ids, status


class _Sequencer:
    """Puts each conversation's messages back in seq order before fan-out.

    One node publishes a conversation's messages in commit order, so with the
    memory broker nothing is ever held. With several nodes, two nodes' events
    for one conversation can cross in Redis (node A commits seq 5, node B seq 6,
    B publishes first). A message whose predecessor has not arrived is held;
    when the predecessor arrives the run is released in order; if it does not
    arrive within ``HOLD_SECONDS`` (lost in pub/sub, or it was delayed a lot),
    the missing ones are read from the database, which is the truth.
    """

    HOLD_SECONDS = 0.25
    TRACKED = 10_000  # conversations remembered; a forgotten one restarts from its next message

    def __init__(self, release: Callable[[Event], None], spawn: Callable[..., object] | None = None) -> None:
        self._release = release  # the actual fan-out
        # async (conversation_id, after_seq, upto_seq) -> list[Event], set by the app
        self.fetch: Callable[[int, int, int], Awaitable[list[Event]]] | None = None
        self.spawn: Callable[..., object] = spawn or (lambda coro, name="": asyncio.ensure_future(coro))
        self._next: OrderedDict[int, int] = OrderedDict()
        self._held: dict[int, dict[int, Event]] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}

    def push(self, event: Event, seq_key: tuple[int, int]) -> None:
        cid, seq = seq_key
        expected = self._next.get(cid)
        if expected is None or seq == expected:
            self._deliver(event, cid, seq)
            self._drain(cid)
        elif seq < expected:
            self._release(event)  # late duplicate: sockets drop what they already sent
        else:
            self._held.setdefault(cid, {})[seq] = event
            if cid not in self._timers:
                loop = asyncio.get_running_loop()
                self._timers[cid] = loop.call_later(
                    self.HOLD_SECONDS, lambda: self.spawn(self._fill_gap(cid), "fill-gap"))

    def _deliver(self, event: Event, cid: int, seq: int) -> None:
        self._next[cid] = seq + 1
        self._next.move_to_end(cid)
        if len(self._next) > self.TRACKED:
            old, _ = self._next.popitem(last=False)
            self._held.pop(old, None)
        self._release(event)

    def _drain(self, cid: int) -> None:
        held = self._held.get(cid)
        while held and self._next[cid] in held:
            seq = self._next[cid]
            self._deliver(held.pop(seq), cid, seq)
        if not held:
            self._held.pop(cid, None)
            timer = self._timers.pop(cid, None)
            if timer:
                timer.cancel()

    async def _fill_gap(self, cid: int) -> None:
        self._timers.pop(cid, None)
        held = self._held.get(cid)
        if not held:
            return
        first_held = min(held)
        missing: list[Event] = []
        if self.fetch is not None:
            try:
                missing = await self.fetch(cid, self._next[cid] - 1, first_held - 1)
            except Exception:
                log.exception("fetching missing messages failed")
        for event in missing:
            seq = event.payload["message"]["seq"]
            if seq >= self._next[cid]:
                self._deliver(event, cid, seq)
        held = self._held.get(cid, {})
        if held and min(held) != self._next[cid]:
            # still a hole (notes are fetched too, so this is a real loss in transit): move on
            self._next[cid] = min(held)
        self._drain(cid)


class AddressCaps:
    """Per client address: open visitor sockets, and new visitors in the last hour
    (``FRONTDESK_VISITOR_SOCKETS_PER_ADDRESS``, ``FRONTDESK_NEW_VISITORS_PER_ADDRESS``). Memory is
    bounded: an address without sockets or recent visitors is forgotten.

    With ``shared`` (web/shared_limits.py's RedisCounters, set by the app when the broker is Redis)
    the caps hold across every node: each open socket holds a lease in Redis (renewed by
    ``renew_leases`` while it stays open, so a crashed node's sockets stop counting after
    ``LEASE`` seconds) and new visitors are counted in one shared window. When Redis cannot be
    reached, this node's own counts apply (a visitor is never refused because Redis is down)."""

    LEASE = 60.0

    def __init__(self, shared: Any = None) -> None:
        self.open: dict[str, int] = defaultdict(int)
        self.created: dict[str, list[float]] = {}
        self.shared = shared
        self.node = uuid.uuid4().hex[:12]
        self._serial = itertools.count(1)
        self._leases: dict[str, set[str]] = {}  # address -> this node's lease tokens held in Redis

    def socket_opened(self, ip: str, cap: int) -> bool:
        if cap and self.open.get(ip, 0) >= cap:
            return False
        self.open[ip] += 1
        return True

    def socket_closed(self, ip: str) -> None:
        self.open[ip] -= 1
        if self.open[ip] <= 0:
            del self.open[ip]

    def new_visitor(self, ip: str, cap: int, now: float) -> bool:
        if not cap:  # no cap: nothing to count (the list grew by one per new visitor, for ever)
            return True
        recent = [t for t in self.created.get(ip, ()) if t > now - 3600]
        if cap and len(recent) >= cap:
            self.created[ip] = recent
            return False
        recent.append(now)
        self.created[ip] = recent
        if len(self.created) > 100_000:  # forget addresses with nothing in the last hour
            self.created = {k: v for k, v in self.created.items() if v and v[-1] > now - 3600}
        return True

    async def open_socket(self, ip: str, cap: int) -> str | None:
        """A token for ``close_socket``, or None: the address has ``cap`` open sockets already."""
        token = f"{self.node}:{next(self._serial)}"
        if self.shared is not None and cap:
            try:
                leased = await self.shared.lease(f"sockets:{ip}", token, cap, self.LEASE)
            except Exception as exc:  # noqa: BLE001 - Redis down: this node's count applies
                log.warning("shared socket cap unavailable (%s); counting on this node", exc)
            else:
                if not leased:
                    return None
                self.open[ip] += 1
                self._leases.setdefault(ip, set()).add(token)
                return token
        return token if self.socket_opened(ip, cap) else None

    async def close_socket(self, ip: str, token: str) -> None:
        self.socket_closed(ip)
        leases = self._leases.get(ip)
        if leases is None or token not in leases:
            return
        leases.discard(token)
        if not leases:
            del self._leases[ip]
        try:
            await self.shared.unlease(f"sockets:{ip}", token)
        except Exception:  # noqa: BLE001 - the lease then ends by itself
            pass

    async def allow_new_visitor(self, ip: str, cap: int, now: float) -> bool:
        if self.shared is not None and cap:
            try:
                return bool(await self.shared.reserve([(f"new-visitors:{ip}", cap)], 3600.0))
            except Exception as exc:  # noqa: BLE001 - Redis down: this node's count applies
                log.warning("shared new-visitor cap unavailable (%s); counting on this node", exc)
        return self.new_visitor(ip, cap, now)

    async def renew_leases(self) -> None:
        """A loop: keeps this node's leases alive while their sockets are open."""
        while True:
            await asyncio.sleep(self.LEASE / 3)
            if self.shared is not None and self._leases:
                try:
                    await self.shared.renew({f"sockets:{ip}": list(tokens) for ip, tokens in self._leases.items()},
                                            self.LEASE)
                except Exception as exc:  # noqa: BLE001
                    log.warning("renewing the shared socket caps failed (%s)", exc)


class Hub:
    """This node's sockets and the fan-out of every event to them.

    ``run`` consumes the broker; when the broker link breaks it reconnects with backoff
    (0.5 s doubling to 5 s) and then catches up: every message stored meanwhile is read
    from the database and dispatched (sockets drop what they already sent), or, when
    there is too much to replay, every socket is asked to reconnect and resume."""

    RECONNECT_MAX = 5.0
    CATCH_UP_MARGIN = 30.0  # seconds before the outage started: clocks of nodes differ a little
    HELLOS_AT_ONCE = 32

    def __init__(self) -> None:
        self.visitors: dict[int, set[VisitorConnection]] = defaultdict(set)
        self.site_visitors: dict[int, set[VisitorConnection]] = defaultdict(set)
        self.operators: dict[int, set[OperatorConnection]] = defaultdict(set)
        self.addresses = AddressCaps()
        self._task: asyncio.Task | None = None
        self.on_operator_gone: Callable[[int], None] | None = None  # its last socket here closed
        self.on_operators_changed: Callable[[], None] | None = None  # a panel tab opened or closed
        self.sequencer = _Sequencer(self._fan_out)
        # set by the app: async (since) -> list[Event] | None (None = too many: resume instead)
        self.catch_up: Callable[[datetime], Awaitable[list[Event] | None]] | None = None
        self.clock: Callable[[], datetime] | None = None
        self.outages = 0
        # set by the app: sees every event this node receives, before the fan-out
        self.observe: Callable[[Event], None] | None = None
        # Hellos being identified at once: the rest wait their turn (first come, first served)
        # instead of all sharing the loop and the database and finishing together, late.
        self.hello_gate = asyncio.Semaphore(self.HELLOS_AT_ONCE)

    async def start(self, broker: Broker) -> None:
        self._task = asyncio.create_task(self._run(broker), name="hub")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self, broker: Broker) -> None:
        delay = 0.5
        down_since: datetime | None = None
        while True:
            try:
                async for event in broker.messages():
                    if event is None:  # subscribed: anything stored from now on arrives live
                        delay = 0.5
                        if down_since is not None:
                            await self._catch_up(down_since)
                            down_since = None
                        continue
                    try:
                        self.dispatch(event)
                    except Exception:
                        log.exception("dispatching an event failed")
                return  # the broker was closed (shutdown)
            except BrokerUnavailable as exc:
                if down_since is None:
                    self.outages += 1
                    down_since = self.clock() if self.clock else None
                    log.warning("broker link lost (%s); reconnecting", exc)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("broker loop failed; reconnecting")
                if down_since is None and self.clock:
                    down_since = self.clock()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.RECONNECT_MAX)

    async def _catch_up(self, since: datetime) -> None:
        events = None
        if self.catch_up is not None:
            try:
                events = await self.catch_up(since - timedelta(seconds=self.CATCH_UP_MARGIN))
            except Exception:
                log.exception("catching up after a broker outage failed")
        if events is None:
            log.warning("broker outage: asking every socket on this node to resume")
            everyone: list[Connection] = [c for cs in self.visitors.values() for c in cs]
            everyone += [c for cs in self.operators.values() for c in cs]
            for conn in everyone:
                conn.close(CLOSE_RESUME)
            return
        log.info("broker back: %d stored messages replayed to this node's sockets", len(events))
        for event in events:
            self.dispatch(event)

    # --- registry -----------------------------------------------------------
    def add_visitor(self, conn: VisitorConnection) -> None:
        self.visitors[conn.visitor_id].add(conn)
        self.site_visitors[conn.site_id].add(conn)

    def remove_visitor(self, conn: VisitorConnection) -> None:
        conn.state = ConnState.CLOSED
        _discard(self.visitors, conn.visitor_id, conn)
        _discard(self.site_visitors, conn.site_id, conn)

    def add_operator(self, conn: OperatorConnection) -> None:
        self.operators[conn.operator_id].add(conn)
        if self.on_operators_changed:
            self.on_operators_changed()

    def remove_operator(self, conn: OperatorConnection) -> None:
        conn.state = ConnState.CLOSED
        _discard(self.operators, conn.operator_id, conn)
        if self.on_operators_changed:
            self.on_operators_changed()
        if conn.operator_id not in self.operators and self.on_operator_gone:
            self.on_operator_gone(conn.operator_id)

    def operator_connected(self, operator_id: int) -> bool:
        return bool(self.operators.get(operator_id))

    def operator_tabs(self) -> dict[int, int]:
        """Operator id → panel tabs open on this node."""
        return {op_id: len(conns) for op_id, conns in self.operators.items() if conns}

    # --- fan-out --------------------------------------------------------------
    def dispatch(self, event: Event) -> None:
        if self.observe is not None:
            self.observe(event)  # e.g. this node's cache (Runtime.cache) forgets what the event changed
        key = message_seq(event)
        if key is not None:
            self.sequencer.push(event, key)
        else:
            self._fan_out(event)

    def _fan_out(self, event: Event) -> None:
        if event.name == ev.OPERATOR_STATUS_CHANGED:
            for conn in self.operators.get(event.operator_id or 0, ()):
                conn.status = event.payload["status"]
        elif event.name == ev.OPERATOR_ACCESS_CHANGED:
            for conn in list(self.operators.get(event.operator_id or 0, ())):
                conn.close(CLOSE_UNAUTHORIZED)  # it reconnects and is authorised afresh
            return
        elif event.name == ev.BAN_CHANGED:
            self._close_banned(event)
        key = message_seq(event)
        vframe = visitor_frame(event)
        vtext: str | None = None
        if vframe is not None:
            targets: set[VisitorConnection] | tuple = (
                self.site_visitors.get(event.site_id or 0, ()) if event.name == ev.SITE_AVAILABILITY
                else self.visitors.get(event.visitor_id or 0, ()))
            if targets:
                vtext = dumps(vframe)  # encoded once for every socket
                for conn in list(targets):
                    try:
                        conn.push(vtext, key)
                    except Exception:  # noqa: BLE001 - one broken socket never stops the others' frames
                        self._drop(conn, event)
        if not self.operators:
            return
        oframe = operator_frame(event)
        if oframe is not None:
            # message.created without a masked operator view is the same frame for both audiences
            encoded: str | None = vtext if vtext is not None and oframe == vframe else None
            for conns in list(self.operators.values()):
                for conn in list(conns):
                    try:
                        if operator_receives(event, operator_id=conn.operator_id, site_ids=conn.site_ids,
                                             status=conn.status):
                            if encoded is None:
                                encoded = dumps(oframe)
                            conn.push(encoded, key)
                    except Exception:  # noqa: BLE001 - one broken socket never stops the others' frames
                        self._drop(conn, event)

    def _drop(self, conn: Connection, event: Event) -> None:
        """A socket failed while its frame was queued: log it, close it (the client reconnects and
        resumes from its last seq) and take it out of the hub; the fan-out goes on."""
        log.exception("queueing %s for a socket failed; dropping that socket", event.name)
        try:
            conn.close(1011)
        except Exception:  # noqa: BLE001 - it is dropped either way
            pass
        if isinstance(conn, OperatorConnection):
            try:
                self.remove_operator(conn)
            except Exception:
                log.exception("removing a dropped operator socket failed")
        else:
            self.remove_visitor(conn)  # type: ignore[arg-type]

    def _close_banned(self, event: Event) -> None:
        """A new ban: this node's visitor sockets of the site it covers get ``error banned`` and are
        closed with 4430 (the widget shows ``widget-banned`` and does not reconnect)."""
        ban = ban_of(event.payload["ban"])
        now = self.clock() if self.clock else None
        if now is None or not ban.active(now):
            return
        one = BanSet([ban])
        frame = dumps(error_frame("banned", BANNED_TEXT))
        for conn in list(self.site_visitors.get(event.site_id or 0, ())):
            # every visitor-side member of the site: sockets and held invitation waits alike
            if one.match(str(conn.visitor_id), getattr(conn, "ip", None) or None, now) is not None:
                conn.close(CLOSE_BANNED, frame)


def _discard(index: dict, key: int, conn: Connection) -> None:
    conns = index.get(key)
    if conns is not None:
        conns.discard(conn)
        if not conns:
            del index[key]
