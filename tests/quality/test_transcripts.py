"""Transcripts by e-mail through the outbox, and the period export (JSON Lines, CSV), on both engines."""
from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from frontdesk.actions import coach, transcripts
from frontdesk.actions.errors import ActionError
from frontdesk.mail import compose
from frontdesk.models import OutboxEmail
from tests.quality import coach_fixture as fx
from tests.quality.test_coach import ADMIN, _load, _op


async def _outbox(rt) -> list[OutboxEmail]:
    async with rt.sessions() as session:
        return list((await session.execute(select(OutboxEmail).order_by(OutboxEmail.id))).scalars())


async def test_the_transcript_goes_to_the_visitor_through_the_outbox(rt):
    ids = await _load(rt)
    out = await transcripts.send_transcript(rt, _op(ids["anna"]), ids["good"])
    assert out["email"]["to"] == "olga@example.com" and out["email"]["status"] == "queued"
    [row] = await _outbox(rt)
    assert (row.kind, row.to_addr, row.conversation_id, row.from_name) == ("transcript", "olga@example.com",
                                                                           ids["good"], "Магазин")
    assert row.subject == "Переписка с сайтом «Магазин» от 02.11.2026"
    for _sec, _k, text in fx.CONVERSATIONS["good"][4]:
        assert text in row.text
    assert "[10:00] Вы:" in row.text and "[10:00] Анна:" in row.text   # the site's zone: UTC
    assert "Здравствуйте, Ольга!" in row.text
    rendered = compose.render(row, rt.settings)          # it is sendable as it is
    assert rendered.recipients == ["olga@example.com"]


async def test_notes_stay_out_and_html_is_escaped(rt):
    ids = await _load(rt)
    await transcripts.send_transcript(rt, _op(ids["boris"]), ids["poor"], "tom@example.com")
    [row] = await _outbox(rt)
    assert row.to_addr == "tom@example.com"
    assert "note: check prices" not in row.text and "note: check prices" not in row.html
    assert row.subject.startswith("Переписка")           # language from the visitor's ("ru")
    assert "And the price?" in row.html


async def test_no_address_and_foreign_conversations_are_refused(rt):
    ids = await _load(rt)
    with pytest.raises(ActionError) as e:
        await transcripts.send_transcript(rt, _op(ids["anna"]), ids["slow"])
    assert (e.value.code, e.value.status) == ("no_email", 409)
    with pytest.raises(ActionError) as e:
        await transcripts.send_transcript(rt, _op(ids["anna"]), ids["slow"], "not an address\r\nBcc: x@evil.test")
    assert e.value.code == "invalid_input"
    with pytest.raises(ActionError) as e:
        await transcripts.send_transcript(rt, _op(10**9), ids["good"])
    assert e.value.code == "not_found"
    assert await _outbox(rt) == []


async def _read(chunks) -> str:
    return "".join([c async for c in chunks])


async def test_export_jsonl_has_every_conversation_of_the_period_with_its_messages(rt):
    ids = await _load(rt)
    await coach.score_pending(rt)
    name, chunks = await transcripts.export_period(rt, _op(ids["anna"]), ids["shop"], *fx.PERIOD, "jsonl")
    assert name == f"frontdesk-conversations-site{ids['shop']}-2026-11-02-2026-11-03.jsonl"
    rows = [json.loads(line) for line in (await _read(chunks)).splitlines()]
    # every conversation with a message ("empty" never had one), in id order
    assert [r["id"] for r in rows] == [ids[k] for k in ("good", "poor", "slow", "open")]
    by_id = {r["id"]: r for r in rows}
    good = by_id[ids["good"]]
    assert good["visitor"] == {"id": good["visitor"]["id"], "name": "Ольга", "email": "olga@example.com"}
    assert good["assignee"]["name"] == "Анна" and good["quality_score"] == 100 and good["rating"] is None
    assert [m["text"] for m in good["messages"]] == [t for _s, _k, t in fx.CONVERSATIONS["good"][4]]
    assert [m["author"] for m in good["messages"]] == ["Ольга", "Анна", "Ольга", "Анна"]
    assert by_id[ids["poor"]]["messages"][-1]["kind"] == "note"
    assert by_id[ids["open"]]["status"] == "open" and by_id[ids["open"]]["quality_score"] is None


async def test_export_csv_is_a_row_per_message(rt, monkeypatch):
    ids = await _load(rt)
    monkeypatch.setattr(transcripts, "EXPORT_BATCH", 2)     # several batches
    _name, chunks = await transcripts.export_period(rt, ADMIN, ids["shop"], *fx.PERIOD, "csv")
    body = await _read(chunks)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert tuple(rows[0]) == transcripts.CSV_COLUMNS
    assert len(rows) - 1 == sum(len(c[4]) for k, c in fx.CONVERSATIONS.items() if k != "empty")
    assert rows[1][0] == str(ids["good"]) and rows[1][-3:] == ["visitor", "Ольга", fx.CONVERSATIONS["good"][4][0][2]]


@pytest.mark.parametrize(("site", "period", "fmt", "code"), [
    ("shop", fx.PERIOD, "xml", "invalid_input"), ("shop", ("2026-11-03", "2026-11-02"), "csv", "invalid_input"),
    ("other", fx.PERIOD, "csv", "not_found"), ("x", fx.PERIOD, "csv", "not_found")])
async def test_export_refuses_bad_requests_before_the_first_byte(rt, site, period, fmt, code):
    ids = await _load(rt)
    with pytest.raises(ActionError) as e:
        await transcripts.export_period(rt, _op(ids["anna"]), ids.get(site, site), *period, fmt)
    assert e.value.code == code
