"""Exact audiences of issue 17, through the real Hub and bounded queues (as tests/events/test_audience.py):
``ban.changed`` reaches the operators of the ban's site only, never a visitor; a new ban closes exactly the
visitor sockets it covers (the error frame ``banned``, then 4430), on its site only; a lift closes nothing;
a flagged / masked visitor message goes masked to operators and as sent to its visitor."""
from datetime import UTC, datetime, timedelta

from frontdesk import events as ev
from frontdesk.events import Event
from frontdesk.realtime.hub import _CLOSE
from frontdesk.realtime.protocol import CLOSE_BANNED
from tests.events.test_audience import _hub, _message

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _ban(**kw) -> dict:
    ban = {"id": 7, "site_id": 1, "site_name": "Shop", "kind": "ip", "value": "203.0.113.7", "reason": "спам",
           "author": {"id": 2, "name": "Анна"}, "created_at": NOW.isoformat(),
           "expires_at": (NOW + timedelta(days=1)).isoformat(), "lifted_at": None, "lifted_by": None,
           "visitor_id": None, "conversation_id": None}
    return {**ban, **kw}


def _drain(conn) -> tuple[list[str], bool]:
    texts, closed = [], False
    while not conn._queue.empty():
        item = conn._queue.get_nowait()
        if item is _CLOSE:
            closed = True
        else:
            texts.append(item[0])
    return texts, closed


def _world():
    hub, conns = _hub()
    hub.clock = lambda: NOW
    conns["v1"].ip, conns["v1b"].ip = "203.0.113.7", "::ffff:203.0.113.7"   # one visitor, two tabs
    conns["v2"].ip, conns["v3"].ip = "198.51.100.1", "203.0.113.7"          # v3: same address, other site
    return hub, conns


def test_a_ban_goes_to_its_sites_operators_and_closes_exactly_the_covered_sockets():
    hub, conns = _world()
    hub.dispatch(Event(ev.BAN_CHANGED, 1, {"ban": _ban()}, operator_id=2))
    got = {name: _drain(c) for name, c in conns.items()}
    operators = {n for n, (texts, _) in got.items() if any('"ban.changed"' in t for t in texts)}
    assert operators == {"admin", "op1", "op1away"}
    closed = {n for n, (_, was_closed) in got.items() if was_closed}
    assert closed == {"v1", "v1b"}
    assert conns["v1"].close_code == CLOSE_BANNED
    assert got["v1"][0] == ['{"type":"error","code":"banned","message":"the chat is not available"}']
    assert not got["v2"][0] and not got["v3"][0]   # nothing at all: not the event, not a close


def test_a_visitor_ban_covers_that_visitor_and_a_lift_or_an_expired_ban_closes_nothing():
    hub, conns = _world()
    hub.dispatch(Event(ev.BAN_CHANGED, 1, {"ban": _ban(kind="visitor", value="12")}))
    assert {n for n, c in conns.items() if c.close_code} == {"v2"}
    hub, conns = _world()
    hub.dispatch(Event(ev.BAN_CHANGED, 1, {"ban": _ban(lifted_at=NOW.isoformat(), lifted_by={"id": 2, "name": "А"})}))
    hub.dispatch(Event(ev.BAN_CHANGED, 1, {"ban": _ban(id=8, expires_at=NOW.isoformat())}))
    assert not [n for n, c in conns.items() if c.close_code]


def test_a_masked_message_goes_masked_to_operators_and_as_sent_to_its_visitor():
    hub, conns = _world()
    sent = {**_message("visitor"), "text": "мудак"}
    masked = {**sent, "text": "м****", "flagged": True}
    hub.dispatch(Event(ev.MESSAGE_CREATED, 1, {"message": sent, "operator_message": masked},
                       conversation_id=5, visitor_id=11))
    got = {name: _drain(c)[0] for name, c in conns.items()}
    assert {n for n, texts in got.items() if texts} == {"v1", "v1b", "admin", "op1", "op1away"}
    for name in ("v1", "v1b"):
        assert "мудак" in got[name][0] and "flagged" not in got[name][0]
    for name in ("admin", "op1", "op1away"):
        assert "м****" in got[name][0] and '"flagged":true' in got[name][0]


async def test_a_ban_ends_a_held_invitation_wait_of_its_address_beside_the_sockets():
    """A held ``/widget/invitations/wait`` stands in the hub beside the visitor's sockets: a ban of its
    address ends it (null) and the covered sockets are still closed (the fan-out does not stop at it)."""
    from frontdesk.web.api_invitations import _Waiter

    hub, conns = _world()
    waiter = _Waiter(1, conns["v1"].visitor_id, "203.0.113.7")
    hub.add_visitor(waiter)
    hub.dispatch(Event(ev.BAN_CHANGED, 1, {"ban": _ban()}, operator_id=2))
    assert waiter.found.done() and waiter.found.result() is None
    assert {n for n, c in conns.items() if _drain(c)[1]} == {"v1", "v1b"}
