"""Exact audiences of supervision and escalation: a whisper, the operators-only lines of a declined or
cancelled transfer and every escalation step reach operators only — never a visitor socket."""
import json

from frontdesk import events as ev
from frontdesk.events import Event
from frontdesk.events.audience import visitor_frame
from tests.events.test_audience import _hub, _message, _received

WHISPER = "Предложи ему доставку бесплатно"


def test_a_whisper_reaches_the_sites_operators_at_once_and_never_a_visitor():
    hub, conns = _hub()
    note = {**_message("note"), "text": WHISPER, "client_id": "whisper:abc"}
    hub.dispatch(Event(ev.MESSAGE_CREATED, 1, {"message": note}, conversation_id=5, visitor_id=11, operator_id=1))
    got = _received(conns)
    assert set(got) == {"admin", "op1", "op1away"}  # the holder sees it whatever its status
    assert got["op1"] == [{"type": "message.created", "message": note}]
    assert all(WHISPER not in json.dumps(got.get(v, []), ensure_ascii=False) for v in ("v1", "v1b", "v2", "v3"))


def test_the_line_of_a_declined_or_cancelled_transfer_is_for_operators_only():
    for cid in ("transfer-declined:7", "transfer-cancelled:7"):
        hub, conns = _hub()
        line = {**_message("note"), "text": "Борис отклоняет передачу диалога.", "client_id": cid}
        hub.dispatch(Event(ev.MESSAGE_CREATED, 1, {"message": line}, conversation_id=5, visitor_id=11))
        assert set(_received(conns)) == {"admin", "op1", "op1away"}
    for result in ("declined", "cancelled"):
        hub, conns = _hub()
        hub.dispatch(Event(ev.TRANSFER_ENDED, 1, {"transfer_id": 7, "result": result, "from_operator_id": 2,
                                                   "to_operator_id": 3}, conversation_id=5, visitor_id=11))
        got = _received(conns)
        assert set(got) == {"op1", "op1away"}
        assert got["op1"] == [{"type": "transfer.ended", "transfer_id": 7, "conversation_id": 5, "result": result}]


def _escalated(step: str, holder: int | None) -> Event:
    return Event(ev.CONVERSATION_ESCALATED, 1, {"step": step, "conversation": {"id": 5}, "assignee_id": holder},
                 conversation_id=5, visitor_id=11)


def test_escalation_steps_reach_exactly_their_operators():
    expected = {
        ("alert", None): {"admin", "op1"},          # nobody holds it: the online operators of the site
        ("alert", 3): {"op1away"},                  # the holder only, even while away
        ("offer_all", None): {"admin", "op1"},
        ("offer_all", 3): {"admin", "op1"},         # every online operator, whoever holds it
        ("email", None): {"admin", "op1", "op1away"},
        ("contacts", 3): {"admin", "op1", "op1away"},
    }
    for (step, holder), who in expected.items():
        hub, conns = _hub()
        hub.dispatch(_escalated(step, holder))
        got = _received(conns)
        assert set(got) == who, (step, holder)
        for frames in got.values():
            assert frames == [{"type": "conversation.escalated", "conversation_id": 5, "step": step,
                               "conversation": {"id": 5}}]


def test_no_supervision_event_has_a_visitor_frame():
    for step in ("alert", "offer_all", "email", "contacts"):
        assert visitor_frame(_escalated(step, None)) is None
    note = {**_message("note"), "text": WHISPER, "client_id": "whisper:abc"}
    assert visitor_frame(Event(ev.MESSAGE_CREATED, 1, {"message": note}, conversation_id=5, visitor_id=11)) is None
