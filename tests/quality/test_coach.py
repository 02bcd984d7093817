"""The quality coach wired (docs/quality.md): scores of closed conversations computed in the
background pass, stored per conversation and criterion, read back with the messages that triggered
each criterion, aggregated per operator with best/worst examples, per-site weights — on a committed
fixture with known answers, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest

from frontdesk.actions import coach, conversations
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef
from frontdesk.models import Conversation
from tests.quality import coach_fixture as fx


def _op(oid: int, role: str = "operator") -> OperatorRef:
    return OperatorRef(id=oid, email="x@example.com", name="x", role=role, status="online", is_active=True,
                       language="ru", photo_type=None, photo_version=0)


ADMIN = _op(999_999, "admin")


@pytest.fixture(autouse=True)
def no_spell_checker(monkeypatch):
    """The dictionaries may be loaded by another test of the process: the fixture's answers assume none."""
    monkeypatch.setattr(coach.spelling, "ready", lambda: False)


async def _load(rt) -> dict:
    async with rt.sessions() as session, session.begin():
        return await fx.load(session)


async def test_the_background_pass_scores_every_closed_conversation_once(rt):
    ids = await _load(rt)
    assert sorted(await coach.pending_ids(rt)) == sorted(ids[k] for k in fx.EXPECTED)   # not open, not empty
    assert await coach.score_pending(rt) == 3
    assert await coach.score_pending(rt) == 0          # nothing left: each is scored once
    for key, (score, passed) in fx.EXPECTED.items():
        q = await coach.conversation_quality(rt, _op(ids["anna"]), ids[key])
        assert q["state"] == "scored" and q["score"] == score, key
        assert {c["id"]: c["passed"] for c in q["criteria"]} == passed, key
        assert [c["id"] for c in q["criteria"]] == list(passed)
    poor = await coach.conversation_quality(rt, _op(ids["boris"]), ids["poor"])
    triggers = {c["id"]: [m["text"] for m in c["messages"]] for c in poor["criteria"] if c["passed"] is False}
    assert triggers == fx.POOR_TRIGGERS
    first = next(c for c in poor["criteria"] if c["id"] == "first_reply")
    assert first["detail"] == {"seconds": 150.0} and first["weight"] == 2.0
    assert all(m["kind"] in ("visitor", "operator") for c in poor["criteria"] for m in c["messages"])
    opened = await coach.conversation_quality(rt, _op(ids["anna"]), ids["open"])
    assert opened["state"] == "open" and opened["score"] is None


async def test_the_score_is_in_the_conversation_and_a_reopened_one_is_scored_again(rt):
    ids = await _load(rt)
    anna = _op(ids["anna"])
    pending = await coach.conversation_quality(rt, anna, ids["slow"])
    assert pending["state"] == "pending"
    assert (await conversations.get_for_operator(rt, anna, ids["slow"]))["quality_score"] is None
    await coach.score_pending(rt)
    assert (await conversations.get_for_operator(rt, anna, ids["slow"]))["quality_score"] == 67
    listed = await conversations.list_for_operator(rt, anna, "closed")
    assert {c["id"]: c["quality_score"] for c in listed}[ids["slow"]] == 67
    await conversations.reopen_conversation(rt, anna, ids["slow"])
    assert (await coach.conversation_quality(rt, anna, ids["slow"]))["state"] == "open"
    rt.clock.advance(60)
    await conversations.close_conversation(rt, anna, ids["slow"])
    assert (await coach.conversation_quality(rt, anna, ids["slow"]))["state"] == "pending"
    assert (await conversations.get_for_operator(rt, anna, ids["slow"]))["quality_score"] is None
    assert await coach.pending_ids(rt) == [ids["slow"]]
    await coach.score_pending(rt)
    again = await coach.conversation_quality(rt, anna, ids["slow"])
    # closed a long time after the operator's goodbye: no visitor was waiting, so still 67
    assert again["state"] == "scored" and again["score"] == 67


async def test_per_operator_aggregates_and_the_best_and_worst_examples(rt):
    ids = await _load(rt)
    await coach.score_pending(rt)
    site = await coach.site_quality(rt, _op(ids["anna"]), ids["shop"], *fx.PERIOD)
    assert {k: site[k] for k in fx.EXPECTED_SITE} == fx.EXPECTED_SITE
    assert {r["name"]: {k: v for k, v in r.items() if k not in ("name", "operator_id")} for r in site["operators"]} \
        == fx.EXPECTED_OPERATORS
    assert [e["conversation_id"] for e in site["best"]] == [ids[k] for k in fx.EXPECTED_BEST]
    assert [e["conversation_id"] for e in site["worst"]] == [ids[k] for k in fx.EXPECTED_WORST]
    assert site["best"][0]["operator_name"] == "Анна" and site["best"][0]["visitor"]["name"] == "Ольга"
    later = await coach.site_quality(rt, _op(ids["anna"]), ids["shop"], "2026-11-03", "2026-11-04")
    assert later["scored"] == 0 and later["score_avg"] is None and later["best"] == [] and later["operators"] == []


async def test_weights_and_limits_are_per_site_settings(rt):
    ids = await _load(rt)
    defaults = await coach.get_settings(rt, _op(ids["anna"]), ids["shop"])
    assert defaults["settings"]["weights"]["questions_answered"] == 3 and defaults["settings"]["first_reply_seconds"] == 60
    with pytest.raises(ActionError) as e:
        await coach.set_settings(rt, _op(ids["anna"]), ids["shop"], {"first_reply_seconds": 120})
    assert e.value.code == "forbidden"
    saved = await coach.set_settings(rt, ADMIN, ids["shop"], {"first_reply_seconds": 120, "weights": {"greeting": 0}})
    assert saved["settings"]["first_reply_seconds"] == 120 and saved["settings"]["weights"]["greeting"] == 0
    assert saved["settings"]["weights"]["first_reply"] == 2   # the others keep their defaults
    assert (await coach.get_settings(rt, _op(ids["anna"]), ids["shop"]))["settings"] == saved["settings"]
    await coach.score_pending(rt)
    slow = await coach.conversation_quality(rt, _op(ids["anna"]), ids["slow"])
    assert slow["score"] == 100    # 90 s is within 120 s now
    poor = await coach.conversation_quality(rt, _op(ids["anna"]), ids["poor"])
    assert next(c for c in poor["criteria"] if c["id"] == "greeting")["weight"] == 0
    # the other site keeps the defaults
    assert (await coach.get_settings(rt, ADMIN, ids["other"]))["settings"]["first_reply_seconds"] == 60


@pytest.mark.parametrize("body", [
    {"first_reply_seconds": 0}, {"first_reply_seconds": "60"}, {"silence_minutes": 10_000}, {"silence_minutes": True},
    {"weights": {"greeting": -1}}, {"weights": {"greeting": 11}}, {"weights": {"charm": 1}}, {"weights": []},
    {"weights": {"greeting": float("nan")}}, {"colour": "red"}, [],
])
async def test_bad_settings_are_refused(rt, body):
    ids = await _load(rt)
    with pytest.raises(ActionError) as e:
        await coach.set_settings(rt, ADMIN, ids["shop"], body)
    assert e.value.code == "invalid_input"


async def test_only_the_sites_and_conversations_the_operator_works_on(rt):
    ids = await _load(rt)
    await coach.score_pending(rt)
    async with rt.sessions() as session, session.begin():
        other = Conversation(site_id=ids["other"], visitor_id=1, status="closed", last_seq=0,
                             created_at=fx.T0, closed_at=fx.T0 + timedelta(seconds=5))
        session.add(other)
    for call in (coach.site_quality(rt, _op(ids["anna"]), ids["other"], *fx.PERIOD),
                 coach.get_settings(rt, _op(ids["anna"]), ids["other"]),
                 coach.conversation_quality(rt, _op(ids["anna"]), other.id),
                 coach.conversation_quality(rt, _op(ids["anna"]), "12x"),
                 coach.set_settings(rt, ADMIN, 10**9, {})):
        with pytest.raises(ActionError) as e:
            await call
        assert e.value.code == "not_found"


async def test_spelling_goes_through_the_spell_checker_with_the_site_dictionary(rt, monkeypatch):
    ids = await _load(rt)

    async def checker(session, site_id):
        assert site_id == ids["shop"]
        return lambda text: ["Доставка"] if "Доставка" in text else []

    monkeypatch.setattr(coach, "_checker", checker)
    await coach.score_pending(rt)
    good = await coach.conversation_quality(rt, _op(ids["anna"]), ids["good"])
    spelling = next(c for c in good["criteria"] if c["id"] == "spelling")
    assert spelling["passed"] is False and spelling["detail"]["words"] == ["Доставка"]
    assert [m["text"] for m in spelling["messages"]] == ["Добрый день! Доставка в Казань — 2–3 дня."]
    assert good["score"] == round(100 * 9 / 10)


async def test_the_loop_scans_everything_first_then_only_recent_closes(rt):
    ids = await _load(rt)
    rt.clock.now = fx.T0 + timedelta(days=30)           # every fixture close is a month old
    scorer = coach.Coach(rt)
    assert await scorer.run_once() == 3                  # the first pass is a full scan
    async with rt.sessions() as session, session.begin():
        conv = await session.get(Conversation, ids["open"])
        conv.status, conv.closed_at = "closed", rt.clock.now - timedelta(days=2)   # an old close, missed
    assert await scorer.run_once() == 0                  # the cheap scan looks at the last hour only
    await conversations.close_conversation(rt, _op(ids["anna"]), ids["slow"])  # already closed: no change
    assert await coach.pending_ids(rt, since=rt.clock.now - coach.Coach.RECENT) == []
    scorer.passes = coach.Coach.FULL_SCAN_EVERY            # the periodic full scan finds it
    assert await scorer.run_once() == 1
    assert (await coach.conversation_quality(rt, _op(ids["anna"]), ids["open"]))["state"] == "scored"
