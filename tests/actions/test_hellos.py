"""Visitor hellos in batches (actions/hellos.py, issue 18): every hello of a batch gets its own
answer — returning, changed, new, unknown, malformed, another site's token — the batch costs the
same statements for 2 hellos as for 20, and the welcome's state (open conversation, replay,
``reset``, ``not_found``) is what the one-at-a-time path gave."""
from __future__ import annotations

import asyncio
import re

from sqlalchemy import select

from frontdesk.actions import conversations, hellos, sites, visitors
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import SiteRef
from frontdesk.models import Visitor
from tests.actions.test_hot_path import _ours, count_statements


async def _site(rt, name: str = "Shop") -> SiteRef:
    async with rt.sessions() as session, session.begin():
        return SiteRef.of(await sites.add_site(session, name=name))


# the writer's queued last-seen times (its own loop, once a second): not the hello's
_TOUCH = re.compile(r"UPDATE visitors SET last_seen_at\s*=[^,]*WHERE (visitors\.)?id\s*=")


async def all_statements(rt) -> list[str]:
    """Every statement from now on: SQLAlchemy's, and on SQLite the writer thread's own (sqlite3)."""
    seen = count_statements(rt)
    thread = rt.writer.sqlite_thread
    if thread is not None:
        await thread.call(lambda con: con.set_trace_callback(seen.append))
    return seen


def _ours_only(seen: list[str]) -> list[str]:
    return [s for s in seen if s.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE")) and _ours(s)
            and not _TOUCH.match(s)]


async def test_each_hello_of_a_batch_gets_its_own_answer(rt):
    site, other_site = await _site(rt), await _site(rt, "Other")
    page = {"url": "https://shop.example/a", "title": "A"}
    same, same_token = await visitors.identify_visitor(rt, site, None, page=page, user_agent="UA", ip="1.2.3.4")
    moved, moved_token = await visitors.identify_visitor(rt, site, None, page=page, user_agent="UA", ip="1.2.3.4")
    _, foreign_token = await visitors.identify_visitor(rt, other_site, None)
    rt.clock.advance(60)
    batch = [
        hellos.HelloIn(site, same_token, page, "UA", "1.2.3.4"),  # returning, nothing changed
        hellos.HelloIn(site, None, page, "UA", "5.6.7.8", "en"),  # new
        hellos.HelloIn(site, "f" * 64),  # well-formed, unknown
        hellos.HelloIn(site, moved_token, {"url": "https://shop.example/b", "title": "B", "referrer": "https://r"},
                       "UA2", "1.2.3.4", "de"),  # returning, moved on
        hellos.HelloIn(site, "short"),  # malformed
        hellos.HelloIn(site, foreign_token),  # a visitor of another site
        hellos.HelloIn(site, None),  # new
        hellos.HelloIn(site, same_token, page, "UA", "1.2.3.4"),  # a second tab of the same visitor
    ]
    seen = await all_statements(rt)
    out = await hellos.identify_batch(rt, batch)
    written = [s for s in _ours_only(seen) if s.lstrip().upper().startswith(("UPDATE", "INSERT"))]
    assert len(written) == 2, written  # one UPDATE for the visitor that moved on, one INSERT for both new
    assert out[0] == (same, same_token) and out[7] == (same, same_token)
    for i in (2, 4, 5):
        assert isinstance(out[i], ActionError) and out[i].code == "unauthorized"
    new_a, new_b = out[1], out[6]
    assert not isinstance(new_a, ActionError) and not isinstance(new_b, ActionError)
    assert new_a[0].id != new_b[0].id and new_a[1] != new_b[1] and new_a[0].language == "en"
    moved_ref = out[3]
    assert not isinstance(moved_ref, ActionError) and moved_ref[0].id == moved.id and moved_ref[0].language == "de"
    async with rt.sessions() as session:
        rows = {v.id: v for v in (await session.execute(select(Visitor))).scalars()}
    row = rows[moved.id]
    assert (row.page_url, row.page_title, row.referrer, row.user_agent, row.language) == (
        "https://shop.example/b", "B", "https://r", "UA2", "de")
    assert row.last_seen_at == rt.clock()
    fresh = rows[new_a[0].id]
    assert (fresh.site_id, fresh.ip, fresh.page_url, fresh.first_seen_at) == (site.id, "5.6.7.8", page["url"], rt.clock())
    assert fresh.token_hash == visitors.token_hash(new_a[1])
    # the new tokens identify their visitors afterwards, through both paths
    again, _ = await visitors.identify_visitor(rt, site, new_b[1])
    assert again.id == new_b[0].id
    assert (await hellos.identify(rt, site, new_a[1]))[0].id == new_a[0].id
    # the unchanged visitor's last-seen time was queued, not written on the hello
    await rt.writer.flush_touches()
    async with rt.sessions() as session:
        assert (await session.get(Visitor, same.id)).last_seen_at == rt.clock()


async def test_concurrent_hellos_go_in_few_batches_and_each_gets_its_visitor(rt):
    site = await _site(rt)
    known = [await visitors.identify_visitor(rt, site, None) for _ in range(10)]
    batches = [b.batches for b in rt.batchers.get("hellos", ())] or [0, 0]
    tokens: list[object] = [t for _, t in known] + [None] * 10 + ["0" * 64] * 5
    out = await asyncio.gather(*(hellos.identify(rt, site, t) for t in tokens), return_exceptions=True)
    assert [r[0].id for r in out[:10]] == [v.id for v, _ in known]  # type: ignore[index]
    assert len({r[0].id for r in out[10:20]}) == 10  # type: ignore[index]
    assert all(isinstance(r, ActionError) and r.code == "unauthorized" for r in out[20:])
    identify_batcher = rt.batchers["hellos"][0]
    assert identify_batcher.batches - batches[0] <= 2  # the first alone, the rest together


async def test_a_batch_takes_the_same_statements_for_2_or_20_hellos(rt):
    site = await _site(rt)
    counts = []
    for n in (2, 20):
        known = [await visitors.identify_visitor(rt, site, None, page={"url": "https://a"}) for _ in range(n)]
        for i, (v, _) in enumerate(known):  # a conversation with 2 messages each
            await conversations.send_visitor_message(rt, v, f"a{i}", "one")
            await conversations.send_visitor_message(rt, v, f"b{i}", "two")
        batch = [hellos.HelloIn(site, t, {"url": "https://a"}) for _, t in known]  # returning
        batch += [hellos.HelloIn(site, t, {"url": "https://b"}) for _, t in known]  # changed (a second tab)
        batch += [hellos.HelloIn(site, None) for _ in range(n)]  # new
        seen = await all_statements(rt)
        out = await hellos.identify_batch(rt, batch)
        identified = len(_ours_only(seen))
        assert not [r for r in out if isinstance(r, ActionError)]
        seen.clear()
        states = await hellos.welcome_state_batch(rt, [hellos.StateIn(v, {}) for v, _ in known]
                                                  + [hellos.StateIn(v, {}) for v, _ in known])
        counts.append((identified, len(_ours_only(seen))))
        assert all(s.conversation is not None and [len(r.messages) for r in s.replays] == [2] for s in states)
    assert counts[0] == counts[1] and all(n > 0 for pair in counts for n in pair), counts


async def test_the_welcome_state_of_a_batch_is_what_each_hello_got_alone(rt, monkeypatch):
    site = await _site(rt)
    a, _ = await visitors.identify_visitor(rt, site, None)
    b, _ = await visitors.identify_visitor(rt, site, None)
    quiet, _ = await visitors.identify_visitor(rt, site, None)  # no conversation
    for i in range(4):
        first = await conversations.send_visitor_message(rt, a, f"a{i}", f"a says {i}")
    cid_a = first["conversation_id"]
    cid_b = (await conversations.send_visitor_message(rt, b, "b0", "b says"))["conversation_id"]
    wants = [
        (a, {cid_a: 2}),  # two missing
        (a, {}),  # a fresh tab: the open conversation from the start
        (a, {cid_a: 9}),  # a seq the server never gave: reset
        (b, {cid_a: 0}),  # not its conversation: not_found, and its own from the start
        (quiet, {}),
        (a, {cid_a: 4}),  # up to date
    ]
    states = await asyncio.gather(*(hellos.welcome_state(rt, v, w) for v, w in wants))
    for (v, w), state in zip(wants, states, strict=True):
        current = await conversations.visitor_open_conversation(rt, v)
        alone = await conversations.resume(rt, v, w, current["id"] if current else None)
        assert state.conversation == current
        assert [(r.conversation_id, r.last_seq, r.messages, r.reset, r.found) for r in state.replays] == [
            (r.conversation_id, r.last_seq, r.messages, r.reset, r.found) for r in alone]
        assert state.queue_position is None  # manual routing
    assert [m["seq"] for m in states[0].replays[0].messages] == [3, 4]
    assert states[2].replays[0].reset == "unknown_seq"
    assert not states[3].replays[0].found and states[3].replays[1].conversation_id == cid_b
    monkeypatch.setattr(conversations, "REPLAY_MAX", 1)  # one rule for both paths: Replay.of
    (gap,) = (await hellos.welcome_state(rt, a, {cid_a: 1})).replays
    assert gap.reset == "gap_too_large" and gap.messages == []
