"""Local fan-out: every event from the broker goes to the matching sockets of this node.

Each socket has a bounded outbound queue and one writer task (the only code
that sends on it). Overflow policy: drop the queue and close with 4408 — the
client reconnects and resumes from its last seq, so nothing is lost, and one
slow client never slows anyone else.
"""
from __future__ import annotations

import asyncio
import enum
import logging
from collections import OrderedDict, defaultdict

from starlette.websockets import WebSocket, WebSocketState

from frontdesk import events as ev
from frontdesk.events import CHANNEL, Event
from frontdesk.events.audience import message_seq, operator_frame, operator_receives, visitor_frame
from frontdesk.realtime.protocol import CLOSE_OVERFLOW, dumps

log = logging.getLogger(__name__)


class ConnState(enum.Enum):
    REPLAYING = "replaying"  # registered, live events queue up behind the replay
    OPEN = "open"
    CLOSED = "closed"


_CLOSE = object()


class Connection:
    def __init__(self, ws: WebSocket, queue_size: int) -> None:
        self.ws = ws
        self.state = ConnState.REPLAYING
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=queue_size + 1)  # +1: room for the close marker
        self._limit = queue_size
        # conversation id → highest seq sent; replay and live overlap is dropped here
        self.delivered: dict[int, int] = {}
        self.close_code: int | None = None

    def push(self, frame: dict | str, seq_key: tuple[int, int] | None = None) -> None:
        """Queue a frame. ``seq_key`` (conversation, seq) marks a message frame: it is
        sent only if that seq was not sent yet (replay/live overlap). Acks carry no
        key: they are always sent and never move the resume point."""
        if self.state is ConnState.CLOSED or self.close_code is not None:
            return
        if self._queue.qsize() >= self._limit:
            self.close(CLOSE_OVERFLOW)
            return
        self._queue.put_nowait((frame if isinstance(frame, str) else dumps(frame), seq_key))

    def close(self, code: int) -> None:
        """Ask the writer to close the socket; frames still queued are dropped."""
        if self.close_code is not None:
            return
        self.close_code = code
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(_CLOSE)

    def mark_delivered(self, conversation_id: int, seq: int) -> None:
        if seq > self.delivered.get(conversation_id, 0):
            self.delivered[conversation_id] = seq

    async def send_now(self, frame: dict, seq_key: tuple[int, int] | None = None) -> None:
        """Only while REPLAYING (before the writer task runs)."""
        await self.ws.send_text(dumps(frame))
        if seq_key:
            self.mark_delivered(*seq_key)

    async def writer(self) -> None:
        self.state = ConnState.OPEN
        try:
            while True:
                item = await self._queue.get()
                if item is _CLOSE:
                    if self.ws.application_state is not WebSocketState.DISCONNECTED:
                        await self.ws.close(self.close_code or 1000)
                    return
                text, key = item
                if key is not None:
                    cid, seq = key
                    if seq <= self.delivered.get(cid, 0):
                        continue
                    self.delivered[cid] = seq
                await self.ws.send_text(text)
        except Exception:  # noqa: BLE001 - peer gone; the reader side notices too
            return
        finally:
            self.state = ConnState.CLOSED


class VisitorConnection(Connection):
    def __init__(self, ws: WebSocket, queue_size: int, site_id: int, visitor_id: int) -> None:
        super().__init__(ws, queue_size)
        self.site_id, self.visitor_id = site_id, visitor_id


class OperatorConnection(Connection):
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

    def __init__(self, release, fetch=None) -> None:  # noqa: ANN001
        self._release = release  # callable(Event): the actual fan-out
        self.fetch = fetch  # async (conversation_id, after_seq, upto_seq) -> list[Event]
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
                    self.HOLD_SECONDS, lambda: asyncio.ensure_future(self._fill_gap(cid)))

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
            except Exception:  # noqa: BLE001 - deliver what we have; clients resume from the DB
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


class Hub:
    def __init__(self) -> None:
        self.visitors: dict[int, set[VisitorConnection]] = defaultdict(set)
        self.site_visitors: dict[int, set[VisitorConnection]] = defaultdict(set)
        self.operators: dict[int, set[OperatorConnection]] = defaultdict(set)
        self._task: asyncio.Task | None = None
        self.on_operator_gone = None  # callback(operator_id) when its last socket here closes
        self.sequencer = _Sequencer(self._fan_out)

    async def start(self, broker) -> None:  # noqa: ANN001
        await broker.subscribe(CHANNEL)
        self._task = asyncio.create_task(self._run(broker), name="hub")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self, broker) -> None:  # noqa: ANN001
        async for _channel, raw in broker.messages():
            try:
                self.dispatch(Event.from_json(raw))
            except Exception:  # noqa: BLE001 - one bad event must not stop delivery
                log.exception("dispatching an event failed")

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

    def remove_operator(self, conn: OperatorConnection) -> None:
        conn.state = ConnState.CLOSED
        _discard(self.operators, conn.operator_id, conn)
        if conn.operator_id not in self.operators and self.on_operator_gone:
            self.on_operator_gone(conn.operator_id)

    def operator_connected(self, operator_id: int) -> bool:
        return bool(self.operators.get(operator_id))

    def counts(self) -> dict:
        return {"visitor_sockets": sum(len(s) for s in self.visitors.values()),
                "operator_sockets": sum(len(s) for s in self.operators.values())}

    # --- fan-out --------------------------------------------------------------
    def dispatch(self, event: Event) -> None:
        key = message_seq(event)
        if key is not None:
            self.sequencer.push(event, key)
        else:
            self._fan_out(event)

    def _fan_out(self, event: Event) -> None:
        if event.name == ev.OPERATOR_STATUS_CHANGED:
            for conn in self.operators.get(event.operator_id, ()):
                conn.status = event.payload["status"]
        key = message_seq(event)
        vframe = visitor_frame(event)
        if vframe is not None:
            if event.name == ev.SITE_AVAILABILITY:
                targets = self.site_visitors.get(event.site_id, ())
            else:
                targets = self.visitors.get(event.visitor_id, ())
            if targets:
                text = dumps(vframe)
                for conn in list(targets):
                    conn.push(text, key)
        oframe = operator_frame(event)
        if oframe is not None and self.operators:
            text = dumps(oframe)
            for conns in list(self.operators.values()):
                for conn in list(conns):
                    if operator_receives(event, operator_id=conn.operator_id, site_ids=conn.site_ids,
                                         status=conn.status):
                        conn.push(text, key)


def _discard(index: dict, key: int, conn: Connection) -> None:
    conns = index.get(key)
    if conns is not None:
        conns.discard(conn)
        if not conns:
            del index[key]
