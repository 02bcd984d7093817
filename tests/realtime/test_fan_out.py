"""The hub's fan-out and the connection's writer, in process (no server): one socket that fails
while its frame is queued is logged, closed and dropped, and every other socket still gets the
frame; the writer exists only while frames are queued and sends them in order, through the ASGI
``send``."""
import json
import logging

from frontdesk import events as ev
from frontdesk.events import Event
from frontdesk.realtime.hub import Hub, OperatorConnection, VisitorConnection
from tests.events.test_audience import _message
from tests.support import wait_for


class _Socket:
    """A WebSocket stand-in with an ASGI ``send`` (what the connection writes through)."""

    def __init__(self) -> None:
        from starlette.websockets import WebSocketState

        self.sent: list[dict] = []
        self.application_state = WebSocketState.CONNECTED
        self.closed: int | None = None

    async def _send(self, message: dict) -> None:
        self.sent.append(message)

    async def close(self, code: int = 1000) -> None:
        from starlette.websockets import WebSocketState

        self.closed = code
        self.application_state = WebSocketState.DISCONNECTED


class _Broken(VisitorConnection):
    __slots__ = ()

    def push(self, frame, seq_key=None):
        raise RuntimeError("this socket is broken")


class _BrokenOperator(OperatorConnection):
    __slots__ = ()

    def push(self, frame, seq_key=None):
        raise RuntimeError("this operator socket is broken")


def _texts(conn) -> list[dict]:
    return [json.loads(text) for text, _key in list(conn._queue)]


def test_a_socket_that_raises_is_dropped_and_the_fan_out_goes_on(caplog):
    hub = Hub()
    first = VisitorConnection(_Socket(), 10, site_id=1, visitor_id=11)
    broken = _Broken(_Socket(), 10, site_id=1, visitor_id=11)
    last = VisitorConnection(_Socket(), 10, site_id=1, visitor_id=11)
    op_broken = _BrokenOperator(_Socket(), 10, operator_id=1, site_ids=None, status="online")
    op = OperatorConnection(_Socket(), 10, operator_id=2, site_ids=None, status="online")
    for c in (first, broken, last):
        hub.add_visitor(c)
    hub.add_operator(op_broken)
    hub.add_operator(op)
    message = _message("visitor")
    with caplog.at_level(logging.ERROR, logger="frontdesk.realtime.hub"):
        hub.dispatch(Event(ev.MESSAGE_CREATED, 1, {"message": message}, conversation_id=5, visitor_id=11))
    frame = {"type": "message.created", "message": message}
    assert _texts(first) == [frame] and _texts(last) == [frame] and _texts(op) == [frame]
    assert broken.close_code == 1011 and op_broken.close_code == 1011
    assert hub.visitors[11] == {first, last}
    assert 1 not in hub.operators and hub.operators[2] == {op}
    assert sum("dropping that socket" in r.getMessage() for r in caplog.records) == 2
    # the next event reaches the healthy sockets only, with no error
    caplog.clear()
    hub.dispatch(Event(ev.MESSAGE_CREATED, 1, {"message": _message("visitor", 2)}, conversation_id=5,
                       visitor_id=11))
    assert len(_texts(first)) == 2 and len(_texts(op)) == 2 and not caplog.records


def test_message_created_is_encoded_once_for_both_audiences():
    hub = Hub()
    v = VisitorConnection(_Socket(), 10, site_id=1, visitor_id=11)
    o = OperatorConnection(_Socket(), 10, operator_id=2, site_ids=None, status="online")
    hub.add_visitor(v)
    hub.add_operator(o)
    hub.dispatch(Event(ev.MESSAGE_CREATED, 1, {"message": _message("visitor")}, conversation_id=5, visitor_id=11))
    assert list(v._queue)[0][0] is list(o._queue)[0][0]  # the same string object
    # a masked operator view is its own frame
    masked = {**_message("visitor", 2), "text": "***", "flagged": True}
    hub.dispatch(Event(ev.MESSAGE_CREATED, 1, {"message": _message("visitor", 2), "operator_message": masked},
                       conversation_id=5, visitor_id=11))
    assert _texts(v)[1]["message"]["text"] == "t" and _texts(o)[1]["message"]["text"] == "***"


async def test_the_writer_runs_only_while_frames_are_queued_and_sends_them_in_order():
    ws = _Socket()
    conn = VisitorConnection(ws, 10, site_id=1, visitor_id=11)
    assert conn._out is None and conn._writer is None  # an idle socket: no queue, no task
    conn.push({"type": "queued-before-open"})
    assert conn._writer is None  # replaying: live frames wait behind the replay
    conn.open()
    for i in range(3):
        conn.push({"type": "pong", "i": i})
    conn.push('{"type":"message.created"}', (5, 1))
    conn.push('{"type":"message.created"}', (5, 1))  # replay/live overlap: sent once
    await wait_for(lambda: conn._writer is None)
    assert [json.loads(m["text"]).get("i") for m in ws.sent] == [None, 0, 1, 2, None]
    assert all(m["type"] == "websocket.send" for m in ws.sent) and conn.delivered == {5: 1}
    assert len(ws.sent) == 5
    conn.close(1000)
    await wait_for(lambda: ws.closed == 1000)
    conn.push({"type": "pong"})  # after the close: nothing is queued, no writer starts
    assert conn._writer is None and not conn._out and len(ws.sent) == 5
