"""The rule logic of proactive invitations (actions/invitations.py): every condition, their
combination (AND), each frequency cap, priority — from the cases the browser's evaluator
(static/widget/invite.js, tests/js/invitations.test.mjs) answers too. Time comes from a
controllable clock: the facts' ``now`` is moved by hand, never read from the wall."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from frontdesk.actions import invitations as inv
from frontdesk.actions.errors import ActionError
from tests.conftest import HandClock
from tests.invitations import make_cases

FIXTURE = Path(__file__).resolve().parent.parent / "js" / "fixtures" / "invitation_cases.json"
DATA = json.loads(FIXTURE.read_text())


def test_the_fixture_is_what_make_cases_writes():
    assert DATA["cases"] == json.loads(json.dumps(make_cases.CASES))
    assert DATA["pick"] == json.loads(json.dumps(make_cases.PICK))


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["name"] for c in DATA["cases"]])
def test_case(case):
    if case["kind"] == "matches":
        assert inv.matches(case["conditions"], case["facts"]) is case["expect"]
    else:
        assert inv.blocked(case["caps"], case["history"], case["facts"]) is case["expect"]


@pytest.mark.parametrize("case", DATA["pick"], ids=[c["name"] for c in DATA["pick"]])
def test_pick(case):
    got = inv.pick(case["rules"], case["facts"], case["history"])
    assert (got["id"] if got else None) == case["expect"]


def ms(clock: HandClock) -> int:
    return int(clock().timestamp() * 1000)


def test_time_conditions_follow_a_hand_moved_clock():
    clock = HandClock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))  # Monday, 15:00 in Moscow
    page_started = visit_started = ms(clock)
    rule = {"page_seconds": 10, "site_seconds": 30}

    def facts() -> dict:
        return {"now": ms(clock), "page_started": page_started, "visit_started": visit_started}

    clock.advance(9.9)
    assert not inv.matches(rule, facts())
    assert not inv.matches({"page_seconds": 10}, facts())
    clock.advance(0.1)
    assert inv.matches({"page_seconds": 10}, facts())
    assert not inv.matches(rule, facts())  # 10 s on the page, only 10 s on the site
    page_started = ms(clock)               # the visitor goes to another page: page time restarts
    clock.advance(19)
    assert not inv.matches(rule, facts())  # 29 s on the site
    clock.advance(1)
    assert inv.matches(rule, facts())      # 30 s on the site, 20 s on this page
    clock.advance(3 * 3600)                # 18:00 in Moscow
    assert not inv.matches({"hours": [9, 18]}, {**facts(), "tz": "Europe/Moscow"})
    assert inv.matches({"hours": [18, 9]}, {**facts(), "tz": "Europe/Moscow"})


def test_every_n_days_cap_with_a_hand_moved_clock():
    clock = HandClock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    hist = {"shown_at": ms(clock), "shown_visit": "a"}
    clock.advance(2 * 86400 + 86399)
    assert inv.blocked({"every_days": 3}, hist, {"now": ms(clock), "visit_key": "b"})
    clock.advance(1)
    assert not inv.blocked({"every_days": 3}, hist, {"now": ms(clock), "visit_key": "b"})


@pytest.mark.parametrize("bad", [
    {"page_seconds": -1}, {"page_seconds": "10"}, {"page_seconds": True}, {"pages_min": 0},
    {"url": {"match": "regex", "value": "/x"}}, {"url": {"match": "exact", "value": ""}}, {"url": "/x"},
    {"visit": "old"}, {"sources": ["tv"]}, {"sources": []}, {"utm": {"term": "x"}}, {"countries": ["RUS"]},
    {"devices": ["watch"]}, {"days": [0]}, {"days": [8]}, {"hours": [9, 9]}, {"hours": [9]}, {"hours": [0, 25]},
    {"operator_online": "yes"}, {"colour": "red"}, [],
])
def test_bad_conditions_are_refused(bad):
    with pytest.raises(ActionError) as err:
        inv.check_conditions(bad)
    assert err.value.code == "invalid_input"


def test_conditions_are_normalised():
    assert inv.check_conditions({"countries": ["ru", " kz"], "days": [3, 1, 3], "utm": {"source": " ya ", "medium": ""},
                                 "operator_online": False, "page_seconds": None}) == \
        {"countries": ["RU", "KZ"], "days": [1, 3], "utm": {"source": "ya"}}


@pytest.mark.parametrize("bad", [{"every_days": -1}, {"once_per_visit": "yes"}, {"forever": True}, "x"])
def test_bad_caps_are_refused(bad):
    with pytest.raises(ActionError):
        inv.check_caps(bad)


def test_caps_default_to_once_per_visit():
    assert inv.check_caps(None) == {"once_per_visit": True}
    assert inv.check_caps({"every_days": 0, "not_while_chatting": True, "once_per_visit": False}) == \
        {"not_while_chatting": True}
