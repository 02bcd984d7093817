"""The visitor e-mails itself the transcript of its own conversation from the widget, through the
outbox: only to its own e-mail (left before, or given now — then saved as its contact), only its own
conversation, rate limited (3 per conversation, one per 5 minutes, a per-site hourly cap), and a
site may turn it off. On SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from frontdesk.actions import transcripts
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import VisitorRef
from frontdesk.models import Conversation, OutboxEmail, Site, Visitor
from tests.quality.test_coach import _load


async def _visitor(rt, conversation_id: int) -> VisitorRef:
    async with rt.sessions() as session:
        conv = await session.get(Conversation, conversation_id)
        return VisitorRef.of(await session.get(Visitor, conv.visitor_id))


async def _outbox(rt) -> list[OutboxEmail]:
    async with rt.sessions() as session:
        return list((await session.execute(select(OutboxEmail).order_by(OutboxEmail.id))).scalars())


async def _refused(coro, code: str, status: int) -> None:
    with pytest.raises(ActionError) as e:
        await coro
    assert (e.value.code, e.value.status) == (code, status)


async def test_to_the_email_the_visitor_left(rt):
    ids = await _load(rt)
    olga = await _visitor(rt, ids["good"])
    out = await transcripts.visitor_transcript(rt, olga, ids["good"])
    assert out == {"email": {"to": "olga@example.com", "status": "queued"}, "conversation_id": ids["good"]}
    [row] = await _outbox(rt)
    assert (row.kind, row.to_addr, row.conversation_id) == ("visitor_transcript", "olga@example.com", ids["good"])
    assert row.subject.startswith("Переписка с сайтом «Магазин»")


async def test_an_address_given_in_the_form_becomes_the_visitors_contact(rt):
    ids = await _load(rt)
    tom = await _visitor(rt, ids["poor"])                 # left no e-mail
    await _refused(transcripts.visitor_transcript(rt, tom, ids["poor"]), "no_email", 409)
    await _refused(transcripts.visitor_transcript(rt, tom, ids["poor"], "tom@example.com\r\nBcc: x@evil.test"),
                   "invalid_email", 422)
    out = await transcripts.visitor_transcript(rt, tom, ids["poor"], "Tom@Example.com")
    assert out["email"]["to"] == "tom@example.com"
    async with rt.sessions() as session:
        assert (await session.get(Visitor, tom.id)).email == "tom@example.com"
    [row] = await _outbox(rt)
    assert row.to_addr == "tom@example.com"
    assert "note: check prices" not in row.text           # never the operators' notes


async def test_only_its_own_conversation(rt):
    ids = await _load(rt)
    olga = await _visitor(rt, ids["good"])
    for other in (ids["poor"], ids["empty"], 10**9):      # another visitor's, one without messages, none
        await _refused(transcripts.visitor_transcript(rt, olga, other, "olga@example.com"), "not_found", 404)
    assert await _outbox(rt) == []


async def test_rate_limits(rt):
    ids = await _load(rt)
    olga = await _visitor(rt, ids["good"])
    await transcripts.visitor_transcript(rt, olga, ids["good"])
    await _refused(transcripts.visitor_transcript(rt, olga, ids["good"]), "rate_limited", 429)   # within 5 min
    rt.clock.advance(5 * 60)
    await transcripts.visitor_transcript(rt, olga, ids["good"])
    rt.clock.advance(5 * 60)
    await transcripts.visitor_transcript(rt, olga, ids["good"])
    rt.clock.advance(24 * 3600)
    await _refused(transcripts.visitor_transcript(rt, olga, ids["good"]), "rate_limited", 429)   # 3 ever
    assert len(await _outbox(rt)) == 3
    # the site's hourly cap, over all its conversations
    rt.settings.visitor_transcripts_per_hour = 1
    tom = await _visitor(rt, ids["poor"])
    slow = await _visitor(rt, ids["slow"])
    await transcripts.visitor_transcript(rt, tom, ids["poor"], "tom@example.com")
    await _refused(transcripts.visitor_transcript(rt, slow, ids["slow"], "ann@example.com"), "rate_limited", 429)
    rt.clock.advance(3601)
    await transcripts.visitor_transcript(rt, slow, ids["slow"], "ann@example.com")
    # an operator's transcripts do not count against the visitor's
    assert [r.kind for r in await _outbox(rt)] == ["visitor_transcript"] * 5


async def test_a_site_may_turn_it_off(rt):
    ids = await _load(rt)
    async with rt.sessions() as session, session.begin():
        site = await session.get(Site, ids["shop"])
        site.widget = {**(site.widget or {}), "transcript": False}
    olga = await _visitor(rt, ids["good"])
    await _refused(transcripts.visitor_transcript(rt, olga, ids["good"]), "forbidden", 403)
    assert await _outbox(rt) == []
