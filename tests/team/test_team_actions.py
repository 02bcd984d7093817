"""Team actions in process, on SQLite and PostgreSQL, with a hand-moved clock: a transfer's end is
claimed exactly once however many nodes run the expiry or accept at the same time; presence rows."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from frontdesk import events as ev
from frontdesk.actions import conversations, operators, sites, team, visitors
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef, SiteRef
from tests.support import wait_for


async def _setup(rt):
    async with rt.sessions() as session, session.begin():
        site = SiteRef.of(await sites.add_site(session, name="Shop"))
        anna = OperatorRef.of(await operators.add_operator(session, email="a@example.com", name="Анна",
                                                           password="correct horse"))
        boris = OperatorRef.of(await operators.add_operator(session, email="b@example.com", name="Борис",
                                                            password="correct horse"))
    published: list[ev.Event] = []
    publish = rt.publish

    async def recording(*events) -> None:
        published.extend(events)
        await publish(*events)

    rt.publish = recording
    visitor, _ = await visitors.identify_visitor(rt, site, None)
    msg = await conversations.send_visitor_message(rt, visitor, "c-1", "Есть кто?")
    cid = msg["conversation_id"]
    # the writer announces a new conversation after the ack: wait for it, so that it is not
    # counted as one of the test's own events
    await wait_for(lambda: any(e.name == ev.CONVERSATION_OFFERED and e.conversation_id == cid for e in published))
    await conversations.take_conversation(rt, anna, cid)
    published.clear()
    return anna, boris, cid, published


async def test_an_expired_offer_falls_back_once_however_many_nodes_run_the_expiry(rt):
    anna, boris, cid, published = await _setup(rt)
    offer = await team.offer_transfer(rt, anna, cid, boris.id, "VIP")
    assert await team.expire_transfers(rt, rt.clock()) == 0  # not yet
    later = rt.clock() + timedelta(seconds=rt.settings.transfer_timeout + 1)
    counts = await asyncio.gather(*(team.expire_transfers(rt, later) for _ in range(3)))
    assert sorted(counts) == [0, 0, 1]
    names = [e.name for e in published]
    assert names.count(ev.TRANSFER_ENDED) == 1 and names.count(ev.CONVERSATION_OFFERED) == 1
    conv = await conversations.get_for_operator(rt, anna, cid)
    assert conv["assignee"] is None  # back in the waiting queue
    rt.clock.now = later
    try:
        await team.accept_transfer(rt, boris, offer["id"])
        raise AssertionError("accepted an expired offer")
    except ActionError as exc:
        assert exc.code == "transfer_ended"


async def test_an_offer_the_holder_gave_away_meanwhile_does_not_pull_the_chat_back(rt):
    anna, boris, cid, published = await _setup(rt)
    await team.offer_transfer(rt, anna, cid, boris.id, "")
    await conversations.take_conversation(rt, boris, cid, force=True)  # Борис simply took it
    await team.expire_transfers(rt, rt.clock() + timedelta(seconds=rt.settings.transfer_timeout + 1))
    assert (await conversations.get_for_operator(rt, anna, cid))["assignee"]["id"] == boris.id
    assert ev.CONVERSATION_OFFERED not in [e.name for e in published]


async def test_two_accepts_at_once_one_wins(rt):
    anna, boris, cid, published = await _setup(rt)
    offer = await team.offer_transfer(rt, anna, cid, boris.id, "")
    results = await asyncio.gather(*(team.accept_transfer(rt, boris, offer["id"]) for _ in range(2)),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["ActionError", "dict"]
    assert [e.name for e in published].count(ev.CONVERSATION_ASSIGNED) == 1


async def test_a_new_offer_replaces_the_pending_one(rt):
    anna, boris, cid, published = await _setup(rt)
    first = await team.offer_transfer(rt, anna, cid, boris.id, "")
    second = await team.offer_transfer(rt, anna, cid, boris.id, "ещё раз")
    ended = [e for e in published if e.name == ev.TRANSFER_ENDED]
    assert [(e.payload["transfer_id"], e.payload["result"]) for e in ended] == [(first["id"], "replaced")]
    try:
        await team.accept_transfer(rt, boris, first["id"])
        raise AssertionError("accepted a replaced offer")
    except ActionError as exc:
        assert exc.code == "transfer_ended"
    assert (await team.accept_transfer(rt, boris, second["id"]))["assignee"]["id"] == boris.id


async def test_tab_counts_of_other_nodes_and_their_expiry(rt):
    anna, _boris, _cid, _published = await _setup(rt)
    await team.record_tabs(rt, "node-a", {anna.id: 1})
    await team.record_tabs(rt, "node-b", {anna.id: 2})
    assert await team.tabs_elsewhere(rt, "node-a", anna.id) == 2
    assert await team.tabs_elsewhere(rt, "node-b", anna.id) == 1
    await team.record_tabs(rt, "node-b", {})  # node B's tabs closed
    assert await team.tabs_elsewhere(rt, "node-a", anna.id) == 0
    await operators.set_status(rt, anna.id, "online")
    rt.settings.presence_ttl = 0.0  # every row is already stale: as if node A had stopped
    await team.record_tabs(rt, "node-a", {anna.id: 1})
    assert await team.sweep_stopped_nodes(rt) == [anna.id]
    assert (await operators.profile(rt, anna, ""))["operator"]["status"] == "offline"
    assert await team.sweep_stopped_nodes(rt) == []
