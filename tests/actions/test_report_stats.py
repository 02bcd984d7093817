"""The reports' stored per-conversation message counts (conversation_stats, filled by the coach's
background pass for closed conversations) give the same figures as counting the messages live —
also for a conversation that got messages after its counts were stored (reopened, a late note) —
on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from frontdesk.actions import coach, reports
from frontdesk.models import Conversation, ConversationOperatorStats, ConversationStats, Message
from tests.actions import reports_fixture as fx
from tests.actions.test_reports import _load, _op


async def _report(rt, ids) -> dict:
    return await reports.site_report(rt, _op(ids["anna"]), ids["shop"], *fx.PERIOD)


async def _live_report(rt, ids) -> dict:
    """The same report with every stored count thrown away (all counted from the messages)."""
    async with rt.sessions() as session, session.begin():
        saved = list((await session.execute(select(ConversationStats))).scalars())
        saved_ops = list((await session.execute(select(ConversationOperatorStats))).scalars())
        rows = [{c.key: getattr(r, c.key) for c in ConversationStats.__table__.columns} for r in saved]
        op_rows = [{c.key: getattr(r, c.key) for c in ConversationOperatorStats.__table__.columns} for r in saved_ops]
        await session.execute(delete(ConversationOperatorStats))
        await session.execute(delete(ConversationStats))
    live = await _report(rt, ids)
    async with rt.sessions() as session, session.begin():   # put them back
        session.add_all(ConversationStats(**r) for r in rows)
        await session.flush()
        session.add_all(ConversationOperatorStats(**r) for r in op_rows)
    return live


async def _stored(rt) -> dict[int, tuple[int, int, int]]:
    async with rt.sessions() as session:
        return {r.conversation_id: (r.last_seq, r.visitor_messages, r.operator_messages)
                for r in (await session.execute(select(ConversationStats))).scalars()}


async def _add_message(rt, conversation_id: int, kind: str, author: int | None, *, reopen: bool = False) -> None:
    async with rt.sessions() as session, session.begin():
        conv = await session.get(Conversation, conversation_id)
        conv.last_seq += 1
        if reopen:
            conv.status, conv.closed_at = "open", None
        session.add(Message(conversation_id=conv.id, seq=conv.last_seq, kind=kind, text=f"late {kind}",
                            sender=f"o{author}" if author else f"v{conv.visitor_id}", author_operator_id=author,
                            created_at=conv.created_at + timedelta(seconds=3000)))


async def test_stored_counts_give_the_same_report(rt):
    ids = await _load(rt)
    live = await _report(rt, ids)
    assert await reports.refresh_pending_stats(rt) == 7        # every closed conversation with messages
    assert await reports.stale_stats_ids(rt) == []
    stored = await _stored(rt)
    conv = ids["conversations"]
    assert stored[conv[0]] == (5, 2, 2)                          # 2 visitor, 2 operator messages, 1 note
    assert conv[3] not in stored and conv[4] not in stored       # still open: counted live
    assert await _report(rt, ids) == live
    cur = live["current"]
    assert cur["summary"]["messages"] == fx.EXPECTED_SUMMARY["messages"]
    assert {r["name"]: r["messages"] for r in cur["operators"]} == {"Анна": 6, "Борис": 1}


async def test_messages_after_the_counts_were_stored_still_count(rt):
    ids = await _load(rt)
    await reports.refresh_pending_stats(rt)
    conv = ids["conversations"]
    # conversation 0 (Анна's, closed) is reopened and gets a visitor message and Борис's reply;
    # conversation 1 gets an internal note after its close (no figure changes, its stored row is out of date)
    await _add_message(rt, conv[0], "visitor", None, reopen=True)
    await _add_message(rt, conv[0], "operator", ids["boris"])
    await _add_message(rt, conv[1], "note", ids["boris"])
    assert sorted(await reports.stale_stats_ids(rt)) == [conv[1]]   # conversation 0 is open now
    report = await _report(rt, ids)
    assert report == await _live_report(rt, ids)
    cur = report["current"]
    assert cur["summary"]["messages"] == fx.EXPECTED_SUMMARY["messages"] + 2
    assert {r["name"]: r["messages"] for r in cur["operators"]} == {"Анна": 6, "Борис": 2}
    sales = next(d for d in cur["departments"] if d["name"] == "Продажи")
    assert sales["messages"] == 9 + 2
    # closed again: the background pass counts it anew, and the figures stay the same
    async with rt.sessions() as session, session.begin():
        c = await session.get(Conversation, conv[0])
        c.status, c.closed_at = "closed", c.created_at + timedelta(seconds=3600)
    assert sorted(await reports.stale_stats_ids(rt)) == sorted([conv[0], conv[1]])
    await reports.refresh_pending_stats(rt)
    assert (await _stored(rt))[conv[0]] == (7, 3, 3)
    after = await _report(rt, ids)
    assert after["current"]["summary"]["messages"] == cur["summary"]["messages"]
    assert {r["name"]: r["messages"] for r in after["current"]["operators"]} == {"Анна": 6, "Борис": 2}
    assert after == await _live_report(rt, ids)


async def test_the_coach_pass_fills_them_and_the_backfill_matches(rt):
    ids = await _load(rt)
    rt.clock.now = fx.local("2026-11-30 12:00")
    scorer = coach.Coach(rt)
    await scorer.run_once()                                     # the full scan at start
    by_pass = await _stored(rt)
    assert len(by_pass) == 7
    async with rt.sessions() as session, session.begin():
        await session.execute(delete(ConversationStats))
    assert await reports.backfill_stats(rt) == 7
    assert await reports.backfill_stats(rt) == 0                # only what is missing
    assert await _stored(rt) == by_pass
    async with rt.sessions() as session:
        per_op = (await session.execute(select(ConversationOperatorStats.operator_id,
                                               func.sum(ConversationOperatorStats.messages))
                                        .group_by(ConversationOperatorStats.operator_id))).all()
    # Анна: 2 + 3 (conversation 6 is after the period, 8 on the other site: 1 + 1); Борис: 1 + 1
    assert dict(per_op) == {ids["anna"]: 2 + 3 + 1 + 1, ids["boris"]: 1 + 1}
