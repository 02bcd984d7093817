"""The background loops: the supervisor restarts a crashed loop, an explicit status cancels the
presence grace timer, and an offer repeat is claimed exactly once however many loops run it."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from frontdesk.actions import background, conversations, operators, sites, visitors
from frontdesk.actions.identity import OperatorRef, SiteRef


async def test_the_supervisor_restarts_a_crashed_loop_and_keeps_spawned_tasks():
    sup = background.Supervisor()
    runs = []

    async def flaky() -> None:
        runs.append(1)
        if len(runs) < 2:
            raise RuntimeError("boom")
        await asyncio.Event().wait()  # then runs for good

    sup.run("flaky", flaky)
    for _ in range(300):
        if len(runs) >= 2:
            break
        await asyncio.sleep(0.01)
    assert len(runs) == 2 and sup.restarts == {"flaky": 1}

    done = asyncio.Event()

    async def one_shot() -> None:
        done.set()

    sup.spawn(one_shot(), "one-shot")
    await asyncio.wait_for(done.wait(), 5)
    await sup.stop()


async def test_an_explicit_status_cancels_the_pending_grace_timer(rt):
    async with rt.sessions() as session, session.begin():
        op = OperatorRef.of(await operators.add_operator(session, email="a@example.com", name="Анна",
                                                         password="correct horse"))
    bg = background.Background(rt)
    bg.presence.operator_gone(op.id)  # the last tab closed: offline after the grace period…
    assert op.id in bg.presence.timers
    await operators.set_status(rt, op.id, "online")  # …unless the operator says otherwise
    assert op.id not in bg.presence.timers
    await bg.stop()


async def test_an_offer_repeat_is_published_once_by_any_number_of_loops(rt):
    async with rt.sessions() as session, session.begin():
        site = SiteRef.of(await sites.add_site(session, name="Shop"))
    visitor, _ = await visitors.identify_visitor(rt, site, None)
    await conversations.send_visitor_message(rt, visitor, "c-1", "Есть кто?")
    published = []
    publish = rt.publish

    async def counting(*events) -> None:
        published.extend(e for e in events if e.name == "conversation.offered" and e.payload["repeat"] > 0)
        await publish(*events)

    rt.publish = counting
    later = rt.clock() + timedelta(seconds=rt.settings.offer_repeat + 1)
    # three "nodes" run the repeat at the same moment: one claim wins
    counts = await asyncio.gather(*(background.repeat_offers(rt, later) for _ in range(3)))
    assert sorted(counts) == [0, 0, 1]
    assert [e.payload["repeat"] for e in published] == [1]
    assert await background.repeat_offers(rt, later) == 0  # nothing new in the same period
    assert await background.repeat_offers(rt, later + timedelta(seconds=rt.settings.offer_repeat)) == 1
