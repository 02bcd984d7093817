"""The background loops read only what is due (issue 18): a tick over many open conversations of
which none is due loads none of them and takes as many statements as a tick over a few; the due
ones are still handled, each exactly once (also with several "nodes" at the same moment). On SQLite
the plans of the loops' reads are checked to search an index, never to scan the conversations."""
from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

from sqlalchemy import event, insert, select, text

from frontdesk import events as ev
from frontdesk.actions import background, escalation, no_reply, operators, routing, sites
from frontdesk.actions.identity import OperatorRef, SiteRef, VisitorRef
from frontdesk.models import Conversation, Message, SiteRouting, Visitor


async def _site(rt, name: str = "Shop") -> SiteRef:
    async with rt.sessions() as session, session.begin():
        return SiteRef.of(await sites.add_site(session, name=name))


async def _waiting(rt, site: SiteRef, n: int, age: float, held: bool = False) -> list[int]:
    """``n`` open conversations nobody took, started ``age`` seconds ago with one visitor message (and the
    holding message when ``held``), inserted directly as the loops would have left them."""
    now = rt.clock()
    created = now - timedelta(seconds=age)
    async with rt.sessions() as session, session.begin():
        ids = []
        for _ in range(n):
            vid = (await session.execute(insert(Visitor).values(
                site_id=site.id, token_hash=secrets.token_hex(32)).returning(Visitor.id))).scalar_one()
            cid = (await session.execute(insert(Conversation).values(
                site_id=site.id, visitor_id=vid, status="open", last_seq=2 if held else 1, created_at=created,
                last_message_at=created, offer_count=int(age // rt.settings.offer_repeat),
                escalation_step=escalation.due_step(escalation.check_settings({}), age) if held else 0)
                .returning(Conversation.id))).scalar_one()
            await session.execute(insert(Message).values(conversation_id=cid, seq=1, kind="visitor", sender=f"v{vid}",
                                                         text="Здравствуйте", client_id="c-1", created_at=created))
            if held:
                await session.execute(insert(Message).values(
                    conversation_id=cid, seq=2, kind="system", sender="system", text="…",
                    client_id=f"{no_reply.ASK_CONTACTS_PREFIX}{cid}", created_at=created))
            ids.append(cid)
    return ids


class Reads:
    """Statements run and Conversation rows loaded as ORM objects while the ``with`` block runs."""

    def __init__(self, rt) -> None:
        self.engine = rt.engine.sync_engine
        self.statements: list[tuple[str, object]] = []
        self.loaded = 0

    def _statement(self, conn, cursor, statement, params, context, executemany) -> None:
        self.statements.append((statement, params))

    def _load(self, target, context) -> None:
        self.loaded += 1

    def __enter__(self) -> Reads:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(Conversation, "load", self._load)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(Conversation, "load", self._load)

    def ours(self, verb: str) -> list[tuple[str, object]]:
        return [(s, p) for s, p in self.statements if s.lstrip().upper().startswith(verb) and "pg_catalog" not in s]


async def _assert_no_scan(rt, reads: Reads) -> None:
    """SQLite: every read of the conversations searches an index by what is due (no full SCAN of the
    table, no search that narrows only to the open conversations or to a site's whole history)."""
    if rt.engine.dialect.name != "sqlite":
        return
    async with rt.engine.connect() as conn:
        for statement, params in reads.ours("SELECT"):
            if "conversations" not in statement:
                continue
            plan = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)).all()
            details = [row[-1] for row in plan]
            # a full scan, or a search that only narrows to every open conversation / the site's history
            bad = [d for d in details if d.startswith("SCAN conversations") or d.endswith("(status=?)")
                   or ("ix_conversations_site_created" in d and "created_at>" not in d)]
            assert not bad, (statement, details)


async def test_an_offer_tick_over_many_waiting_conversations_not_due_reads_none_of_them(rt):
    site = await _site(rt)
    published: list = []
    publish = rt.publish

    async def recording(*events) -> None:
        published.extend(e for e in events if e.name == ev.CONVERSATION_OFFERED)
        await publish(*events)

    rt.publish = recording
    counts = []
    for n in (3, 40):
        await _waiting(rt, site, n, age=10)
        assert await background.repeat_offers(rt, rt.clock()) == 0  # the first look schedules the new ones
        with Reads(rt) as reads:
            assert await background.repeat_offers(rt, rt.clock() + timedelta(seconds=5)) == 0
        assert reads.loaded == 0 and not reads.ours("UPDATE")
        counts.append(len(reads.ours("SELECT")))
        await _assert_no_scan(rt, reads)
    assert counts[0] == counts[1] == 2  # the unscheduled ones, the due ones: both empty
    # a period later all 43 are due: offered again once each, in a constant number of statements,
    # however many "nodes" tick at the same moment
    later = rt.clock() + timedelta(seconds=rt.settings.offer_repeat)
    with Reads(rt) as reads:
        results = await asyncio.gather(*(background.repeat_offers(rt, later) for _ in range(3)))
    assert sum(results) == 43 and sorted(e.conversation_id for e in published) == sorted(
        {e.conversation_id for e in published})
    assert {e.payload["repeat"] for e in published} == {1}
    assert len(reads.ours("SELECT")) < 3 * 20
    published.clear()
    assert await background.repeat_offers(rt, later + timedelta(seconds=1)) == 0
    assert await background.repeat_offers(rt, later + timedelta(seconds=rt.settings.offer_repeat)) == 43
    assert {e.payload["repeat"] for e in published} == {2}


async def test_a_taken_conversation_back_in_the_queue_is_offered_again(rt):
    site = await _site(rt)
    async with rt.sessions() as session, session.begin():
        admin = OperatorRef.of(await operators.add_operator(session, email="a@example.com", name="Анна",
                                                            password="correct horse", admin=True))
    [cid] = await _waiting(rt, site, 1, age=5)
    assert await background.repeat_offers(rt, rt.clock()) == 0
    async with rt.sessions() as session, session.begin():
        (await session.get(Conversation, cid)).assignee_id = admin.id
    later = rt.clock() + timedelta(seconds=3 * rt.settings.offer_repeat)
    assert await background.repeat_offers(rt, later) == 0  # taken: not waiting, not read
    async with rt.sessions() as session, session.begin():
        (await session.get(Conversation, cid)).assignee_id = None  # e.g. a transfer nobody accepted
    assert await background.repeat_offers(rt, later) == 1
    async with rt.sessions() as session:
        assert (await session.get(Conversation, cid)).offer_count == 3


async def test_a_holding_message_tick_looks_only_at_conversations_with_a_recent_message(rt):
    site = await _site(rt)
    window: dict = {}
    await _waiting(rt, site, 30, age=3600, held=True)  # long held: nothing more to do for them
    fresh = await _waiting(rt, site, 2, age=0)
    now = rt.clock()
    assert await no_reply.check_no_reply(rt, now, window) == 0  # the first look reads every open one
    assert window["since"] == now
    with Reads(rt) as reads:
        assert await no_reply.check_no_reply(rt, now + timedelta(seconds=5), window) == 0
    assert reads.loaded == 0
    await _assert_no_scan(rt, reads)
    # the fresh ones come due: each gets the holding message once, with two "nodes" ticking
    due = now + timedelta(seconds=rt.settings.no_reply_seconds + 5)
    other: dict = {"since": now}
    stored = await asyncio.gather(no_reply.check_no_reply(rt, due, window), no_reply.check_no_reply(rt, due, other))
    assert sum(stored) >= 2
    async with rt.sessions() as session:
        held = (await session.execute(select(Message.conversation_id).where(
            Message.sender == "system", Message.conversation_id.in_(fresh)))).scalars().all()
    assert sorted(held) == sorted(fresh)
    assert await no_reply.check_no_reply(rt, due + timedelta(seconds=5), window) == 0


async def test_an_escalation_tick_looks_only_at_recent_conversations_and_fires_each_step_once(rt):
    site = await _site(rt)
    await escalation.put_settings(rt, site.id, {"enabled": True})
    windows: dict = {}
    await _waiting(rt, site, 30, age=3600, held=True)  # past the last step long ago
    [young] = await _waiting(rt, site, 1, age=0)
    now = rt.clock()
    assert await escalation.run_escalation(rt, now, windows) == []
    with Reads(rt) as reads:
        assert await escalation.run_escalation(rt, now + timedelta(seconds=5), windows) == []
    assert reads.loaded == 0
    await _assert_no_scan(rt, reads)
    other = dict(windows)
    at = now + timedelta(seconds=61)
    fired = await asyncio.gather(escalation.run_escalation(rt, at, windows), escalation.run_escalation(rt, at, other))
    assert sorted(f for r in fired for f in r) == [(young, "alert")]


async def test_a_routing_pass_with_nobody_free_reads_no_conversation(rt):
    site = await _site(rt)
    async with rt.sessions() as session, session.begin():
        session.add(SiteRouting(site_id=site.id, mode="auto"))
    await _waiting(rt, site, 25, age=30)
    router = routing.Router(rt)
    await router.run_once()  # the first pass publishes every position
    with Reads(rt) as reads:
        await router.run_once(positions=False)
    assert reads.loaded == 0
    assert not [s for s, _ in reads.ours("SELECT") if "FROM conversations" in s and "count(" not in s.lower()]


async def test_a_visitor_place_in_the_queue_is_counted_in_sql(rt):
    site = await _site(rt)
    async with rt.sessions() as session, session.begin():
        session.add(SiteRouting(site_id=site.id, mode="auto"))
    ids = await _waiting(rt, site, 5, age=30)
    async with rt.sessions() as session:
        rows = (await session.execute(select(Conversation.id, Conversation.visitor_id)
                                      .where(Conversation.id.in_(ids)).order_by(Conversation.id))).all()
    places = await routing.queue_positions(rt, site.id)
    for cid, vid in rows:
        visitor = VisitorRef(id=vid, site_id=site.id, name=None, email=None, phone=None, language="")
        assert await routing.visitor_queue_position(rt, visitor, cid) == places[cid][1]
    async with rt.sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM conversations"))).scalar_one() == 5


async def test_more_due_repeats_than_one_batch_are_all_handled_in_one_tick(rt, monkeypatch):
    monkeypatch.setattr(background, "OFFER_BATCH", 7)
    site = await _site(rt)
    await _waiting(rt, site, 20, age=5)
    assert await background.repeat_offers(rt, rt.clock()) == 0  # 20 scheduled in three batches
    later = rt.clock() + timedelta(seconds=rt.settings.offer_repeat)
    assert await background.repeat_offers(rt, later) == 20
    async with rt.sessions() as session:
        assert set((await session.execute(select(Conversation.offer_count))).scalars()) == {1}
        assert (await session.execute(select(Conversation.id).where(
            Conversation.next_offer_at.is_(None)))).first() is None
