"""Transcripts (issue 13; docs/reports.md § Transcripts and export): an operator e-mails a
conversation's transcript to the visitor through the outbox, and the conversations of a period are
exported as JSON Lines or CSV (streamed in batches, so a year of chats never sits in memory)."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from frontdesk import serialize
from frontdesk.actions import emails, queries, reports
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef, VisitorRef
from frontdesk.actions.sites import widget_settings_of
from frontdesk.actions.validate import check_email, check_id, check_visitor_email
from frontdesk.actions.visitors import visitor_updated_event
from frontdesk.mail import compose
from frontdesk.mail.outbox import queue_email
from frontdesk.models import (
    Conversation,
    ConversationQuality,
    ConversationRating,
    Message,
    Operator,
    OutboxEmail,
    OutboxKind,
    Site,
    Visitor,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from frontdesk.runtime import Runtime

FORMATS = ("jsonl", "csv")
EXPORT_BATCH = 200
CSV_COLUMNS = ("conversation_id", "site_id", "conversation_status", "conversation_created_at", "visitor_id",
               "visitor_name", "assignee_id", "assignee_name", "rating", "quality_score", "seq", "created_at",
               "kind", "author", "text")


async def send_transcript(rt: Runtime, operator: OperatorRef, conversation_id: object, email: object = None) -> dict:
    """Queue the transcript of a conversation the operator may see (visitor and operator messages and
    system lines; never notes) to the visitor: to ``email`` when given (an address the visitor gave in
    the chat), else to the address the visitor left. Neither →
    ``no_email`` (409). Returns the outbox row (docs/protocol.md OUTBOX_EMAIL)."""
    to = check_email(email) if email not in (None, "") else None
    async with rt.sessions() as session, session.begin():
        conv = await queries.operator_conversation(session, operator, conversation_id)
        visitor = await session.get(Visitor, conv.visitor_id)
        site = await session.get(Site, conv.site_id)
        assert visitor is not None and site is not None
        address = to or visitor.email
        if not address:
            raise ActionError("no_email", "the visitor left no e-mail address: give one", 409)
        row = await _queue(rt, session, conv, visitor, site, address, OutboxKind.transcript.value)
        return {"email": {"id": row.id, "to": row.to_addr, "subject": row.subject, "status": row.status,
                          "kind": row.kind, "conversation_id": conv.id, "created_at": serialize.iso(row.created_at)}}


async def _queue(rt: Runtime, session: AsyncSession, conv: Conversation, visitor: Visitor, site: Site, address: str,
                 kind: str) -> OutboxEmail:
    rows = (await session.execute(
        select(Message).where(Message.conversation_id == conv.id, Message.kind != "note").order_by(Message.seq)
    )).scalars().all()
    names = await queries.authors(session, (m.author_operator_id for m in rows))
    tz = reports.site_zone(site)
    lines = [(m.kind, _name(names.get(m.author_operator_id or 0)), m.created_at.astimezone(tz).strftime("%H:%M"),
              m.text) for m in rows]
    language = emails.visitor_language(visitor.language, site)
    subject, text, html = compose.transcript(
        language, site=site.name, visitor_name=visitor.name, lines=lines,
        date=conv.created_at.astimezone(tz).strftime("%d.%m.%Y" if language == "ru" else "%Y-%m-%d"))
    row = queue_email(session, rt.settings, now=rt.clock(), site_id=site.id, kind=kind,
                      to_addr=address, to_name=visitor.name or "", subject=subject, text=text, html=html,
                      from_name=site.name, conversation_id=conv.id)
    await session.flush()
    return row


# the visitor's own request from the widget (docs/reports.md § Transcripts and export)
VISITOR_PER_CONVERSATION = 3            # transcripts of one conversation, ever
VISITOR_GAP = timedelta(minutes=5)      # between two of one conversation


async def visitor_transcript(rt: Runtime, visitor: VisitorRef, conversation_id: object, email: object = None) -> dict:
    """The visitor e-mails the transcript of **its own** conversation to itself, through the outbox:
    to ``email`` when given — which then becomes its contact e-mail — else to the e-mail it left
    before; neither → ``no_email`` (409). The site may turn it off (widget setting ``transcript``:
    ``forbidden``, 403). At most ``VISITOR_PER_CONVERSATION`` per conversation, one per
    ``VISITOR_GAP``, and ``FRONTDESK_VISITOR_TRANSCRIPTS_PER_HOUR`` per site (``rate_limited``, 429).
    Another visitor's conversation → ``not_found``. Returns ``{email: {to, status}, conversation_id}``."""
    cid = check_id(conversation_id)
    to = check_visitor_email(email) if email not in (None, "") else None
    now = rt.clock()
    kind = OutboxKind.visitor_transcript.value
    async with rt.sessions() as session:
        async with session.begin():
            conv = await session.get(Conversation, cid)
            if conv is None or conv.visitor_id != visitor.id or conv.last_seq == 0:
                raise not_found()
            site = await session.get(Site, conv.site_id)
            row = await session.get(Visitor, visitor.id)
            assert site is not None and row is not None
            if not widget_settings_of(site.widget).get("transcript", True):
                raise ActionError("forbidden", "this site does not send transcripts to visitors", 403)
            address = to or row.email
            if not address:
                raise ActionError("no_email", "leave an e-mail address to send the transcript to", 409)
            o = OutboxEmail
            sent, last = (await session.execute(select(func.count(), func.max(o.created_at)).where(
                o.conversation_id == conv.id, o.kind == kind))).one()
            if sent >= VISITOR_PER_CONVERSATION:
                raise ActionError("rate_limited", f"at most {VISITOR_PER_CONVERSATION} transcripts of a conversation",
                                  429)
            if last is not None and now - last < VISITOR_GAP:
                raise ActionError("rate_limited", "one transcript every 5 minutes; try again later", 429)
            hour = (await session.execute(select(func.count()).where(
                o.site_id == site.id, o.kind == kind, o.created_at > now - timedelta(hours=1)))).scalar_one()
            if hour >= rt.settings.visitor_transcripts_per_hour:
                raise ActionError("rate_limited", "too many transcripts from this site this hour; try again later", 429)
            changed = to is not None and to != row.email
            if changed:
                row.email = to
            queued = await _queue(rt, session, conv, row, site, address, kind)
            answer = {"email": {"to": queued.to_addr, "status": queued.status}, "conversation_id": conv.id}
        events = [await queries.updated_event(session, conv), await visitor_updated_event(session, visitor.id)] \
            if changed else []
    for event in events:
        if event is not None:
            await rt.publish(event)
    return answer


def _name(op: Operator | None) -> str | None:
    return op.name if op is not None else None


def check_format(fmt: object) -> str:
    if fmt not in FORMATS:
        raise ActionError("invalid_input", f"format must be one of {', '.join(FORMATS)}")
    return str(fmt)


async def export_period(rt: Runtime, operator: OperatorRef, site_id: object, date_from: object, date_to: object,
                        fmt: object) -> tuple[str, AsyncIterator[str]]:
    """``(file name, chunks)``: the site's conversations started in [from, to) (the reports' period:
    local dates, ``to`` exclusive) with every message, notes included (marked ``note``). ``jsonl``:
    one conversation per line; ``csv``: one message per row (``CSV_COLUMNS``). Checks happen before
    the first chunk, so a bad request is a 4xx, never a broken download."""
    kind = check_format(fmt)
    sid = check_id(site_id, "site")
    async with rt.sessions() as session:
        site = await session.get(Site, sid)
        if site is None or sid not in await queries.operator_site_ids(session, operator):
            raise not_found("site")
        period = reports.check_period(date_from, date_to, reports.site_zone(site))
    start, end = period.bounds()
    name = f"frontdesk-conversations-site{sid}-{period.first.isoformat()}-{period.end.isoformat()}.{kind}"
    return name, _chunks(rt, sid, start, end, kind)


async def _chunks(rt: Runtime, site_id: int, start: datetime, end: datetime, kind: str) -> AsyncIterator[str]:
    if kind == "csv":
        yield "\ufeff" + _csv_row(CSV_COLUMNS)
    after = 0
    while True:
        async with rt.sessions() as session:
            convs = (await session.execute(
                select(Conversation).where(Conversation.site_id == site_id, Conversation.created_at >= start,
                                           Conversation.created_at < end, Conversation.last_seq > 0,
                                           Conversation.id > after)
                .order_by(Conversation.id).limit(EXPORT_BATCH))).scalars().all()
            if not convs:
                return
            ids = [c.id for c in convs]
            visitors = {v.id: v for v in (await session.execute(
                select(Visitor).where(Visitor.id.in_({c.visitor_id for c in convs})))).scalars()}
            ratings = {r.conversation_id: r for r in (await session.execute(
                select(ConversationRating).where(ConversationRating.conversation_id.in_(ids)))).scalars()}
            scores: dict[int, int | None] = {cid: score for cid, score in (await session.execute(
                select(ConversationQuality.conversation_id, ConversationQuality.score)
                .where(ConversationQuality.conversation_id.in_(ids)))).all()}
            msgs: dict[int, list[Message]] = {}
            for m in (await session.execute(select(Message).where(Message.conversation_id.in_(ids))
                                            .order_by(Message.conversation_id, Message.seq))).scalars():
                msgs.setdefault(m.conversation_id, []).append(m)
            names = await queries.authors(session, [c.assignee_id for c in convs] +
                                          [m.author_operator_id for ms in msgs.values() for m in ms])
        lines: list[str] = []
        for c in convs:
            v = visitors.get(c.visitor_id)
            r = ratings.get(c.id)
            assignee = names.get(c.assignee_id or 0)
            if kind == "jsonl":
                lines.append(json.dumps({
                    "id": c.id, "site_id": c.site_id, "status": c.status, "created_at": serialize.iso(c.created_at),
                    "first_reply_at": serialize.iso(c.first_reply_at), "closed_at": serialize.iso(c.closed_at),
                    "visitor": {"id": c.visitor_id, "name": v.name if v else None, "email": v.email if v else None},
                    "assignee": {"id": assignee.id, "name": assignee.name} if assignee else None,
                    "rating": {"value": r.value, "comment": r.comment} if r else None,
                    "quality_score": scores.get(c.id),
                    "messages": [{"seq": m.seq, "kind": m.kind, "created_at": serialize.iso(m.created_at),
                                  "author": _author(m, names, v), "text": m.text} for m in msgs.get(c.id, [])],
                }, ensure_ascii=False) + "\n")
            else:
                head = [c.id, c.site_id, c.status, serialize.iso(c.created_at), c.visitor_id, v.name if v else "",
                        c.assignee_id or "", assignee.name if assignee else "", r.value if r else "",
                        "" if scores.get(c.id) is None else scores[c.id]]
                for m in msgs.get(c.id, []):
                    lines.append(_csv_row([*head, m.seq, serialize.iso(m.created_at), m.kind,
                                           _author(m, names, v) or "", m.text]))
        yield "".join(lines)
        after = convs[-1].id


def _author(m: Message, names: dict[int, Operator], v: Visitor | None) -> str | None:
    if m.kind == "visitor":
        return v.name if v and v.name else None
    op = names.get(m.author_operator_id or 0)
    return op.name if op else None


def _csv_row(values: tuple | list) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([reports.safe_cell("" if x is None else str(x)) for x in values])
    return out.getvalue()
