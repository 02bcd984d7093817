"""Who receives what: exact recipient sets, through the real Hub and bounded queues."""
import json

from frontdesk import events as ev
from frontdesk.events import Event
from frontdesk.realtime.hub import Hub, OperatorConnection, VisitorConnection


class _Recorder:
    """Stands in for a socket: collects what the hub queued (the queue is the real one)."""


def _hub():
    hub = Hub()
    v1 = VisitorConnection(_Recorder(), 10, site_id=1, visitor_id=11)
    v1b = VisitorConnection(_Recorder(), 10, site_id=1, visitor_id=11)  # second tab
    v2 = VisitorConnection(_Recorder(), 10, site_id=1, visitor_id=12)
    v3 = VisitorConnection(_Recorder(), 10, site_id=2, visitor_id=21)
    admin = OperatorConnection(_Recorder(), 10, operator_id=1, site_ids=None, status="online")
    op_site1 = OperatorConnection(_Recorder(), 10, operator_id=2, site_ids=frozenset({1}), status="online")
    op_site1_away = OperatorConnection(_Recorder(), 10, operator_id=3, site_ids=frozenset({1}), status="away")
    op_site2 = OperatorConnection(_Recorder(), 10, operator_id=4, site_ids=frozenset({2}), status="online")
    conns = dict(v1=v1, v1b=v1b, v2=v2, v3=v3, admin=admin, op1=op_site1, op1away=op_site1_away, op2=op_site2)
    for c in (v1, v1b, v2, v3):
        hub.add_visitor(c)
    for c in (admin, op_site1, op_site1_away, op_site2):
        hub.add_operator(c)
    return hub, conns


def _received(conns) -> dict[str, list[dict]]:
    out = {}
    for name, c in conns.items():
        frames = []
        while not c._queue.empty():
            text, _key = c._queue.get_nowait()
            frames.append(json.loads(text))
        if frames:
            out[name] = frames
    return out


def _message(kind: str, seq: int = 1) -> dict:
    return {"id": seq, "conversation_id": 5, "seq": seq, "kind": kind, "text": "t", "client_id": None,
            "created_at": "x", "author": {"type": kind}}


def test_message_goes_to_its_visitor_tabs_and_the_sites_operators_only():
    hub, conns = _hub()
    hub.dispatch(Event(ev.MESSAGE_CREATED, 1, {"message": _message("operator")}, conversation_id=5, visitor_id=11))
    got = _received(conns)
    assert set(got) == {"v1", "v1b", "admin", "op1", "op1away"}
    assert got["v1"] == [{"type": "message.created", "message": _message("operator")}]


def test_internal_note_never_reaches_a_visitor():
    hub, conns = _hub()
    hub.dispatch(Event(ev.MESSAGE_CREATED, 1, {"message": _message("note")}, conversation_id=5, visitor_id=11))
    assert set(_received(conns)) == {"admin", "op1", "op1away"}


def test_offer_goes_only_to_online_operators_of_the_site():
    hub, conns = _hub()
    hub.dispatch(Event(ev.CONVERSATION_OFFERED, 1, {"conversation": {"id": 5}}, conversation_id=5, visitor_id=11))
    assert set(_received(conns)) == {"admin", "op1"}
    # after going online, the away operator is offered too
    hub.dispatch(Event(ev.OPERATOR_STATUS_CHANGED, None, {"status": "online"}, operator_id=3))
    _received(conns)
    hub.dispatch(Event(ev.CONVERSATION_OFFERED, 1, {"conversation": {"id": 5}}, conversation_id=5, visitor_id=11))
    assert set(_received(conns)) == {"admin", "op1", "op1away"}


def test_typing_directions():
    hub, conns = _hub()
    hub.dispatch(Event(ev.VISITOR_TYPING, 1, {"text": "пишу"}, conversation_id=5, visitor_id=11))
    assert set(_received(conns)) == {"admin", "op1", "op1away"}
    hub.dispatch(Event(ev.OPERATOR_TYPING, 1, {"is_typing": True, "operator": {"id": 2, "name": "Анна"}},
                       conversation_id=5, visitor_id=11, operator_id=2))
    got = _received(conns)
    # the visitor's tabs, and the site's operators (who else is typing in a conversation they have open)
    assert set(got) == {"v1", "v1b", "admin", "op1", "op1away"}
    assert got["v1"][0] == {"type": "operator.typing", "conversation_id": 5, "is_typing": True,
                            "operator": {"name": "Анна"}}
    assert got["op1"][0] == {"type": "operator.typing", "conversation_id": 5, "is_typing": True,
                             "operator": {"id": 2, "name": "Анна"}}


def test_availability_goes_to_every_visitor_of_that_site():
    hub, conns = _hub()
    hub.dispatch(Event(ev.SITE_AVAILABILITY, 1, {"operators_online": False}))
    got = _received(conns)
    assert set(got) == {"v1", "v1b", "v2"}
    assert got["v2"][0]["type"] == "availability"


def test_visitor_update_events_stay_with_operators():
    hub, conns = _hub()
    hub.dispatch(Event(ev.CONVERSATION_UPDATED, 2, {"conversation": {"id": 9}}, conversation_id=9, visitor_id=21))
    assert set(_received(conns)) == {"admin", "op2"}


def test_overflowing_queue_closes_that_socket_only():
    hub, conns = _hub()
    for i in range(11):
        hub.dispatch(Event(ev.MESSAGE_CREATED, 1, {"message": _message("visitor", i + 1)}, conversation_id=5,
                           visitor_id=11))
    assert conns["v1"].close_code == 4408
    assert conns["v2"].close_code is None
    assert conns["admin"].close_code == 4408  # the same 11 frames overflow a 10-frame operator queue too


async def test_messages_crossing_in_the_broker_are_delivered_in_seq_order():
    hub, conns = _hub()

    def msg(seq):
        return Event(ev.MESSAGE_CREATED, 1, {"message": _message("visitor", seq)}, conversation_id=5, visitor_id=11)

    hub.dispatch(msg(1))
    hub.dispatch(msg(3))  # seq 2 is still on its way from another node: 3 waits
    assert [f["message"]["seq"] for f in _received(conns)["v1"]] == [1]
    hub.dispatch(msg(2))
    assert [f["message"]["seq"] for f in _received(conns)["v1"]] == [2, 3]


async def test_a_hole_pubsub_never_fills_is_read_from_the_database():
    import asyncio

    hub, conns = _hub()
    asked = []

    async def fetch(cid, after, upto):  # stands in for the database read (tested end to end elsewhere)
        asked.append((cid, after, upto))
        return [Event(ev.MESSAGE_CREATED, 1, {"message": _message("note", s)}, conversation_id=5, visitor_id=11)
                for s in range(after + 1, upto + 1)]

    hub.sequencer.fetch = fetch
    for seq in (1, 4, 5):
        hub.dispatch(Event(ev.MESSAGE_CREATED, 1, {"message": _message("visitor", seq)}, conversation_id=5,
                           visitor_id=11))
    assert [f["message"]["seq"] for f in _received(conns)["admin"]] == [1]
    await asyncio.sleep(hub.sequencer.HOLD_SECONDS + 0.2)
    assert asked == [(5, 1, 3)]
    got = _received(conns)
    assert [f["message"]["seq"] for f in got["admin"]] == [2, 3, 4, 5]
    assert [f["message"]["seq"] for f in got["v1"]] == [4, 5]  # the fetched ones were notes


# --- team work (issue 12): transfer offers, their notes and who is viewing never reach a visitor ---

NOTE = "VIP: обещали скидку"


def _offer_event(to_id: int, from_id: int = 2) -> Event:
    return Event(ev.TRANSFER_OFFERED, 1, {
        "to_operator_id": to_id, "from_operator_id": from_id,
        "transfer": {"id": 7, "conversation_id": 5, "note": NOTE, "from": {"id": from_id}, "to": {"id": to_id}},
        "conversation": {"id": 5}}, conversation_id=5, visitor_id=11, operator_id=from_id)


def test_a_transfer_offer_and_its_note_reach_the_receiver_only():
    hub, conns = _hub()
    hub.dispatch(_offer_event(to_id=3))
    got = _received(conns)
    assert set(got) == {"op1away"}  # the receiver, even while away; not the sender, not the admin, no visitor
    assert got["op1away"] == [{"type": "transfer.offered", "conversation": {"id": 5},
                               "transfer": {"id": 7, "conversation_id": 5, "note": NOTE, "from": {"id": 2},
                                            "to": {"id": 3}}}]


def test_a_transfer_offer_to_an_operator_of_another_site_reaches_nobody():
    hub, conns = _hub()
    hub.dispatch(_offer_event(to_id=4))  # op2 works on site 2 only; the event is of site 1
    assert _received(conns) == {}


def test_the_end_of_a_transfer_reaches_its_two_operators_only():
    hub, conns = _hub()
    hub.dispatch(Event(ev.TRANSFER_ENDED, 1, {"transfer_id": 7, "result": "accepted", "from_operator_id": 1,
                                               "to_operator_id": 2}, conversation_id=5, visitor_id=11))
    got = _received(conns)
    assert set(got) == {"admin", "op1"}
    assert got["op1"] == [{"type": "transfer.ended", "transfer_id": 7, "conversation_id": 5, "result": "accepted"}]


def test_who_is_viewing_reaches_the_sites_operators_and_never_a_visitor():
    hub, conns = _hub()
    hub.dispatch(Event(ev.OPERATOR_VIEWING, 1, {"operator": {"id": 2, "name": "Анна", "photo_url": None},
                                                 "viewing": True}, conversation_id=5, visitor_id=11, operator_id=2))
    got = _received(conns)
    assert set(got) == {"admin", "op1", "op1away"}
    assert got["admin"] == [{"type": "operator.viewing", "conversation_id": 5, "viewing": True,
                             "operator": {"id": 2, "name": "Анна", "photo_url": None}}]


def test_a_transfer_note_stored_in_the_history_is_a_note_and_never_reaches_a_visitor():
    hub, conns = _hub()
    note = {**_message("note"), "text": NOTE, "client_id": "transfer-note:7"}
    hub.dispatch(Event(ev.MESSAGE_CREATED, 1, {"message": note}, conversation_id=5, visitor_id=11))
    got = _received(conns)
    assert set(got) == {"admin", "op1", "op1away"}
    assert all(NOTE not in json.dumps(frames, ensure_ascii=False) for name, frames in got.items()
               if name.startswith("v"))


def test_no_team_event_has_a_visitor_frame():
    from frontdesk.events.audience import visitor_frame

    for name in (ev.TRANSFER_OFFERED, ev.TRANSFER_ENDED, ev.OPERATOR_VIEWING):
        assert visitor_frame(Event(name, 1, {"note": NOTE}, conversation_id=5, visitor_id=11)) is None
