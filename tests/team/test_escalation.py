"""Missed-chat escalation on a hand-moved clock: steps in order, each once (also with several
"nodes" at the same moment), the e-mail step through the outbox, the contacts offer to the
visitor, ``missed_at`` for the reports, and no escalation once an operator answered."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from frontdesk.actions import conversations, escalation, operators, sites, visitors
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef, SiteRef
from frontdesk.models import Conversation, Message, OutboxEmail

STEPS = {"alert": 60, "offer_all": 120, "email": 300, "contacts": 600}


async def _setup(rt, **settings):
    async with rt.sessions() as session, session.begin():
        site = SiteRef.of(await sites.add_site(session, name="Уютный дом", notify=["notify@shop.example"]))
        admin = OperatorRef.of(await operators.add_operator(session, email="boss@example.com", name="Вера",
                                                            password="correct horse", admin=True))
    await escalation.put_settings(rt, site.id, {"enabled": True, "steps": STEPS,
                                                "emails": ["boss@shop.example"], **settings})
    visitor, _ = await visitors.identify_visitor(rt, site, None)
    msg = await conversations.send_visitor_message(rt, visitor, "c-1", "Есть кто живой? <b>срочно</b>")
    return site, admin, visitor, msg["conversation_id"]


def _recording(rt) -> list:
    seen: list = []
    publish = rt.publish

    async def recording(*events) -> None:
        seen.extend((e.payload["step"], e.payload["conversation"]["id"]) for e in events
                    if e.name == "conversation.escalated")
        await publish(*events)

    rt.publish = recording
    return seen


async def test_the_steps_fire_in_order_once_each_as_the_clock_moves(rt):
    _site, _admin, _visitor, cid = await _setup(rt)
    seen = _recording(rt)
    start = rt.clock()

    async def at(seconds: float) -> list:
        return await escalation.run_escalation(rt, start + timedelta(seconds=seconds))

    assert await at(59) == []
    assert await at(61) == [(cid, "alert")]
    assert await at(90) == []  # the same step never twice
    assert await at(121) == [(cid, "offer_all")]
    assert await at(301) == [(cid, "email")]
    async with rt.sessions() as session:
        mails = list((await session.execute(select(OutboxEmail))).scalars())
        conv = await session.get(Conversation, cid)
        assert conv is not None and conv.missed_at is None  # not missed before the last step
    assert [(m.kind, m.to_addr) for m in mails] == [("escalation", "boss@shop.example")]
    assert "Уютный дом" in mails[0].subject and "&lt;b&gt;срочно&lt;/b&gt;" in mails[0].html
    assert f"/panel/#/conversations/{cid}" in mails[0].text
    assert await at(601) == [(cid, "contacts")]
    async with rt.sessions() as session:
        conv = await session.get(Conversation, cid)
        assert conv is not None and conv.escalation_step == 4 and conv.missed_at is not None
        system = list((await session.execute(select(Message).where(
            Message.conversation_id == cid, Message.kind == "system"))).scalars())
    assert [m.client_id for m in system] == [f"ask_contacts:escalation:{cid}"]  # the widget's contacts form
    assert "e-mail" in system[0].text
    assert await at(5000) == []
    assert seen == [("alert", cid), ("offer_all", cid), ("email", cid), ("contacts", cid)]


async def test_a_jump_past_every_step_fires_each_once_with_several_nodes_at_once(rt):
    _site, _admin, _visitor, cid = await _setup(rt)
    seen = _recording(rt)
    later = rt.clock() + timedelta(seconds=3600)
    results = await asyncio.gather(*(escalation.run_escalation(rt, later) for _ in range(3)))
    assert sorted(len(r) for r in results) == [0, 0, 4]
    assert sorted(seen) == sorted([("alert", cid), ("offer_all", cid), ("email", cid), ("contacts", cid)])
    async with rt.sessions() as session:
        assert len(list((await session.execute(select(OutboxEmail))).scalars())) == 1


async def test_an_answer_stops_the_escalation_and_off_steps_are_skipped(rt):
    site, admin, _visitor, cid = await _setup(rt, steps={"alert": None, "offer_all": None, "email": 300,
                                                         "contacts": None})
    start = rt.clock()
    # without supervisor addresses the site's notification addresses get the e-mail
    await escalation.put_settings(rt, site.id, {"enabled": True, "steps": {
        "alert": None, "offer_all": None, "email": 300, "contacts": None}})
    assert await escalation.run_escalation(rt, start + timedelta(seconds=200)) == []
    assert await escalation.run_escalation(rt, start + timedelta(seconds=301)) == [(cid, "email")]
    async with rt.sessions() as session:
        mails = list((await session.execute(select(OutboxEmail))).scalars())
        conv = await session.get(Conversation, cid)
        assert conv is not None and conv.missed_at is not None  # e-mail is the last step here
    assert [m.to_addr for m in mails] == ["notify@shop.example"]

    # a second conversation: answered in time, it never escalates
    visitor2, _ = await visitors.identify_visitor(rt, site, None)
    msg = await conversations.send_visitor_message(rt, visitor2, "c-2", "Вопрос")
    await conversations.send_operator_message(rt, admin, msg["conversation_id"], "r-1", "Здравствуйте!")
    assert await escalation.run_escalation(rt, start + timedelta(seconds=9000)) == []


async def test_a_disabled_site_never_escalates_and_the_settings_are_checked(rt):
    site, admin, _visitor, _cid = await _setup(rt, enabled=False)
    assert await escalation.run_escalation(rt, rt.clock() + timedelta(seconds=9000)) == []
    got = await escalation.get_settings(rt, admin, site.id)
    assert got["enabled"] is False and got["steps"] == STEPS and got["emails"] == ["boss@shop.example"]
    for bad in ({"steps": {"alert": 300, "offer_all": 60}}, {"steps": {"alert": 0}}, {"steps": {"x": 5}},
                {"steps": {"alert": True}}, {"emails": ["not an address"]}, {"emails": "a@b.c"},
                {"enabled": "yes"}, {"language": "de"}, {"other": 1}, []):
        with pytest.raises(ActionError) as err:
            escalation.check_settings(bad)
        assert err.value.code == "invalid_input"
    with pytest.raises(ActionError) as err:
        await escalation.put_settings(rt, 999999, {})
    assert err.value.code == "not_found"


async def test_the_missed_report_counts_conversations_that_reached_the_last_step(rt):
    site, admin, _visitor, cid = await _setup(rt)
    day = rt.clock().date()
    period = (day.isoformat(), (day + timedelta(days=1)).isoformat())
    before = await escalation.missed_report(rt, admin, site.id, *period)
    assert before["current"]["missed"] == 0
    await escalation.run_escalation(rt, rt.clock() + timedelta(seconds=700))
    await conversations.send_operator_message(rt, admin, cid, "late", "Извините за ожидание")
    after = await escalation.missed_report(rt, admin, site.id, *period)
    assert after["current"] == {**after["current"], "missed": 1, "answered_later": 1}
    assert after["previous"]["missed"] == 0


async def test_the_contacts_step_does_not_ask_twice(rt):
    """The holding message asked for contacts already: the last step records the miss, no second form."""
    from frontdesk.actions import no_reply

    _site, _admin, _visitor, cid = await _setup(rt)
    start = rt.clock()
    assert await no_reply.check_no_reply(rt, start + timedelta(seconds=rt.settings.no_reply_seconds + 1)) == 1
    assert await escalation.run_escalation(rt, start + timedelta(seconds=700)) != []
    async with rt.sessions() as session:
        asks = list((await session.execute(select(Message.client_id).where(
            Message.conversation_id == cid, Message.client_id.like("ask_contacts:%")))).scalars())
        conv = await session.get(Conversation, cid)
    assert len(asks) == 1 and not asks[0].startswith("ask_contacts:escalation:")
    assert conv is not None and conv.missed_at is not None
