"""Missed-chat escalation: a conversation nobody answers escalates in steps, per site.

The steps, in this order, each after its own delay counted from the conversation's start
(``created_at``), each one off when its delay is ``None``:

1. ``alert`` — the alert again: to the operator holding the conversation, else every online operator
   of the site (``conversation.escalated`` with ``step: "alert"``);
2. ``offer_all`` — the conversation is offered to every online operator of the site, whoever holds it;
3. ``email`` — an e-mail to the site's supervisor addresses (the setting's ``emails``, else the site's
   notification addresses), queued in the outbox in the same transaction as the step's claim;
4. ``contacts`` — the visitor is offered to leave contacts: one ``system`` message whose client_id
   starts with ``ask_contacts:`` (the widget shows its contacts form), unless the visitor left them or
   the holding message (``actions.no_reply``) asked for them already.

"Nobody answers": the conversation is open, has a message and no operator reply yet
(``first_reply_at`` is null), and is not an offline-form conversation (those e-mail by themselves).
When the last configured step fires, ``missed_at`` is set: the reports count it.

Idempotent across nodes: the step a conversation reached (``escalation_step``) is claimed with one
conditional UPDATE (``WHERE escalation_step = <seen>``), like ``offer_count``; the node whose UPDATE
matched acts, every other node's matched nothing. When the clock jumps over several steps at once,
each of them fires once, in order.
"""
from __future__ import annotations

import html
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, func, or_, select, update

from frontdesk import events as ev
from frontdesk.actions import queries
from frontdesk.actions.emails import panel_link, visitor_language
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef
from frontdesk.actions.no_reply import ASK_CONTACTS_PREFIX
from frontdesk.actions.reports import check_period, site_zone
from frontdesk.actions.validate import check_email, check_id
from frontdesk.actions.writer import PendingMessage
from frontdesk.mail import compose
from frontdesk.mail.outbox import queue_email
from frontdesk.models import Conversation, Message, OutboxKind, Site, SiteEscalation, Visitor

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

STEPS = ("alert", "offer_all", "email", "contacts")  # escalation_step = index + 1 of the last done
MAX_DELAY = 7 * 24 * 3600
MAX_EMAILS = 20
BATCH = 200  # conversations looked at per tick and site
DEFAULT = {"enabled": False, "steps": {"alert": 60, "offer_all": 120, "email": 300, "contacts": 600},
           "emails": [], "language": "ru"}

CONTACTS_TEXT = {
    "ru": "Извините, что заставляем ждать: все операторы сейчас заняты. Оставьте, пожалуйста, e-mail "
          "или телефон — мы обязательно ответим, даже если вы закроете страницу.",
    "en": "Sorry to keep you waiting: all our operators are busy right now. Please leave your e-mail or "
          "phone number and we will get back to you, even if you close this page.",
}
MAIL_TEXT = {
    "ru": {"subject": "Пропущенный чат на сайте «{site}»",
           "intro": "Посетитель сайта «{site}» ждёт ответа уже {minutes} мин., и никто из операторов не ответил.",
           "last": "Его сообщение:", "open": "Открыть диалог в панели"},
    "en": {"subject": "Missed chat on {site}",
           "intro": "A visitor on {site} has waited {minutes} min and no operator has answered.",
           "last": "The visitor wrote:", "open": "Open the conversation in the panel"},
}


# --- settings -------------------------------------------------------------------------------

def check_settings(value: object) -> dict:
    """A partial settings object merged over the defaults, every field checked (``invalid_input``)."""
    if not isinstance(value, dict):
        raise ActionError("invalid_input", "escalation settings must be an object")
    out = {**DEFAULT, "steps": dict(DEFAULT["steps"]), "emails": list(DEFAULT["emails"])}  # type: ignore[call-overload]
    for key, v in value.items():
        if key == "enabled":
            if not isinstance(v, bool):
                raise ActionError("invalid_input", "enabled must be true or false")
            out["enabled"] = v
        elif key == "language":
            if v not in ("ru", "en"):
                raise ActionError("invalid_input", "language must be ru or en")
            out["language"] = v
        elif key == "emails":
            if not isinstance(v, list) or len(v) > MAX_EMAILS:
                raise ActionError("invalid_input", f"emails must be a list of at most {MAX_EMAILS} addresses")
            out["emails"] = list(dict.fromkeys(check_email(e) for e in v))
        elif key == "steps":
            if not isinstance(v, dict):
                raise ActionError("invalid_input", "steps must be an object {alert, offer_all, email, contacts}")
            for step, delay in v.items():
                if step not in STEPS:
                    raise ActionError("invalid_input", f"unknown step {str(step)[:40]!r}")
                if delay is not None and (isinstance(delay, bool) or not isinstance(delay, int)
                                          or not 1 <= delay <= MAX_DELAY):
                    raise ActionError("invalid_input", f"steps.{step}: seconds 1..{MAX_DELAY} or null (off)")
                out["steps"][step] = delay
        else:
            raise ActionError("invalid_input", f"unknown escalation setting {str(key)[:40]!r}")
    delays = [out["steps"][s] for s in STEPS if out["steps"][s] is not None]
    if delays != sorted(delays):
        raise ActionError("invalid_input", "each step must come no earlier than the step before it")
    return out


async def get_settings(rt: Runtime, operator: OperatorRef, site_id: object) -> dict:
    sid = check_id(site_id, "site")
    async with rt.sessions() as session:
        if sid not in await queries.operator_site_ids(session, operator):
            raise not_found("site")
        row = await session.get(SiteEscalation, sid)
    return check_settings(row.settings if row else {})


async def put_settings(rt: Runtime, site_id: object, value: object) -> dict:
    """Admin: replace a site's escalation settings (fields left out take their defaults)."""
    sid = check_id(site_id, "site")
    clean = check_settings(value)
    async with rt.sessions() as session, session.begin():
        if await session.get(Site, sid) is None:
            raise not_found("site")
        row = await session.get(SiteEscalation, sid)
        if row is None:
            session.add(SiteEscalation(site_id=sid, settings=clean, updated_at=rt.clock()))
        else:
            row.settings, row.updated_at = clean, rt.clock()
    return clean


# --- the steps ------------------------------------------------------------------------------

def due_step(settings: dict, waited: float) -> int:
    """The last step (1..4, 0 = none) whose delay has passed after ``waited`` seconds."""
    due = 0
    for i, step in enumerate(STEPS, 1):
        delay = settings["steps"][step]
        if delay is not None and waited >= delay:
            due = i
    return due


def last_step(settings: dict) -> int:
    return max((i for i, s in enumerate(STEPS, 1) if settings["steps"][s] is not None), default=0)


WINDOW_MARGIN = timedelta(seconds=60)  # slack of the "since the last tick" window (clock jitter between ticks)


def _due_condition(settings: dict, now: datetime) -> ColumnElement[bool]:
    """SQL: the conversation's next step (after ``escalation_step``) is due at ``now``."""
    delays = [(i, settings["steps"][s]) for i, s in enumerate(STEPS, 1) if settings["steps"][s] is not None]
    terms = []
    for done in range(0, delays[-1][0]):
        nxt = next(d for i, d in delays if i > done)
        terms.append(and_(Conversation.escalation_step == done,
                          Conversation.created_at <= now - timedelta(seconds=nxt)))
    return or_(*terms)


async def run_escalation(rt: Runtime, now: datetime,
                         windows: dict[int, tuple[str, datetime]] | None = None) -> list[tuple[int, str]]:
    """One tick: fire every step that came due. Returns ``(conversation id, step)`` fired by this node.

    Reads only due conversations (the step after the one done, computed in SQL). ``windows`` (kept by
    the background loop between ticks; None = look at every open conversation) remembers per site the
    settings and the time of the last complete tick: a step due since then belongs to a conversation
    started less than the longest delay before it, or one with a new message (a first message, a
    reopening), so the read is bounded by ``created_at`` and ``last_message_at`` (both indexed) —
    the conversations of the last minutes, not every open one. New settings start with a full look."""
    async with rt.sessions() as session:
        rows = list((await session.execute(select(SiteEscalation))).scalars())
    fired: list[tuple[int, str]] = []
    for row in rows:
        settings = check_settings(row.settings or {})
        last = last_step(settings)
        if not settings["enabled"] or last == 0:
            continue
        first = min(settings["steps"][s] for s in STEPS if settings["steps"][s] is not None)
        longest = max(settings["steps"][s] for s in STEPS if settings["steps"][s] is not None)
        fingerprint = json.dumps(settings["steps"], sort_keys=True)
        where = [Conversation.site_id == row.site_id, Conversation.status == "open", Conversation.last_seq > 0,
                 Conversation.first_reply_at.is_(None), Conversation.is_offline.is_(False),
                 Conversation.escalation_step < last,
                 Conversation.created_at <= now - timedelta(seconds=first), _due_condition(settings, now)]
        seen = windows.get(row.site_id) if windows is not None else None
        if seen is not None and seen[0] == fingerprint:
            # since the last complete tick: started within the longest delay before it (by created_at,
            # ix_conversations_site_created), or written to since (ix_conversations_open_last_message)
            bound = seen[1] - timedelta(seconds=longest) - WINDOW_MARGIN
            reads = [and_(*where, Conversation.created_at > bound),
                     and_(*where, Conversation.last_message_at > bound, Conversation.created_at <= bound)]
        else:
            reads = [and_(*where)]
        convs: list[Conversation] = []
        complete = True  # no read hit its batch limit
        async with rt.sessions() as session:
            for condition in reads:
                batch = list((await session.execute(select(Conversation).where(condition)
                                                    .order_by(Conversation.id).limit(BATCH))).scalars())
                complete = complete and len(batch) < BATCH
                convs += batch
        convs.sort(key=lambda c: c.id)
        for conv in convs:
            due = due_step(settings, (now - conv.created_at).total_seconds())
            if due > conv.escalation_step:
                fired += await _escalate(rt, conv, conv.escalation_step, due, last, settings, now)
        if windows is not None and complete:  # all due ones handled: the next tick looks from here
            windows[row.site_id] = (fingerprint, now)
    return fired


async def _escalate(rt: Runtime, conv: Conversation, seen: int, due: int, last: int, settings: dict,
                    now: datetime) -> list[tuple[int, str]]:
    steps = [STEPS[i - 1] for i in range(seen + 1, due + 1) if settings["steps"][STEPS[i - 1]] is not None]
    async with rt.sessions() as session:
        async with session.begin():
            values: dict = {"escalation_step": due}
            if due >= last:
                values["missed_at"] = now
            claimed = (await session.execute(
                update(Conversation)
                .where(Conversation.id == conv.id, Conversation.escalation_step == seen,
                       Conversation.first_reply_at.is_(None), Conversation.status == "open")
                .values(**values).execution_options(synchronize_session=False))
                       ).rowcount  # type: ignore[attr-defined]  # an UPDATE result
            if claimed != 1:
                return []  # another node took this step, or an operator answered meanwhile
            if "email" in steps:
                await _queue_mail(rt, session, conv, settings, now)
        fresh = await session.get(Conversation, conv.id)
        assert fresh is not None
        conv = fresh
        full = await queries.load_conversation(session, conv)
        visitor = await session.get(Visitor, conv.visitor_id)
        site = await session.get(Site, conv.site_id)
        asked = (await session.execute(select(Message.id).where(  # the holding message asked already
            Message.conversation_id == conv.id, Message.sender == "system",
            Message.client_id.like(ASK_CONTACTS_PREFIX + "%")).limit(1))).first() is not None
    events = [queries.conversation_event(ev.CONVERSATION_ESCALATED, conv, {
        "step": step, "conversation": full, "assignee_id": conv.assignee_id}) for step in steps]
    await rt.publish(*events)
    if "contacts" in steps and visitor is not None and site is not None and not (visitor.email or visitor.phone) \
            and not asked:
        lang = visitor_language(visitor.language, site)
        await rt.writer.store(PendingMessage(
            conversation_id=conv.id, site_id=conv.site_id, visitor_id=conv.visitor_id, kind="system",
            sender="system", text=CONTACTS_TEXT[lang], client_id=f"{ASK_CONTACTS_PREFIX}escalation:{conv.id}"))
    return [(conv.id, s) for s in steps]


async def _queue_mail(rt: Runtime, session: object, conv: Conversation, settings: dict, now: datetime) -> None:
    site = await session.get(Site, conv.site_id)  # type: ignore[attr-defined]
    assert site is not None
    to = settings["emails"] or list(site.notify_emails or [])
    if not to:
        return
    last_text = (await session.execute(  # type: ignore[attr-defined]
        select(Message.text).where(Message.conversation_id == conv.id, Message.kind == "visitor")
        .order_by(Message.seq.desc()).limit(1))).scalar_one_or_none() or ""
    minutes = max(1, int((now - conv.created_at).total_seconds() // 60))
    subject, text, body_html = mail_text(settings["language"], site=site.name, minutes=minutes, message=last_text,
                                         link=panel_link(rt.settings.public_url or "", conv.id))
    for address in to:
        queue_email(session, rt.settings, now=now, site_id=site.id, kind=OutboxKind.escalation.value,  # type: ignore[arg-type]
                    to_addr=address, subject=subject, text=text, html=body_html, from_name=site.name,
                    conversation_id=conv.id)


def mail_text(lang: str, *, site: str, minutes: int, message: str, link: str) -> tuple[str, str, str]:
    """(subject, text, html) of the e-mail step; everything a visitor typed is escaped in the HTML."""
    t = MAIL_TEXT[lang]
    site = compose.one_line(site)
    subject = compose.one_line(t["subject"].format(site=site), compose.SUBJECT_MAX)
    intro = t["intro"].format(site=site, minutes=minutes)
    text = f"{intro}\n\n{t['last']}\n{message}\n\n{t['open']}: {link}\n"
    body = (f"<p>{html.escape(intro)}</p><p>{html.escape(t['last'])}</p>"
            f'<div style="white-space:pre-wrap;border-left:3px solid #d0d7de;padding:4px 12px">'
            f"{html.escape(message)}</div>"
            f'<p><a href="{html.escape(link, quote=True)}">{html.escape(t["open"])}</a></p>')
    return subject, text, ('<!doctype html><html><head><meta charset="utf-8"></head>'
                           f"<body style=\"font-family:Arial,Helvetica,sans-serif\">{body}</body></html>\n")


# --- statistics -----------------------------------------------------------------------------

async def missed_report(rt: Runtime, operator: OperatorRef, site_id: object, date_from: object,
                        date_to: object) -> dict:
    """How many conversations of the period (started in [from, to), local dates) escalated to their
    site's last step without an answer, and how many of those were answered later."""
    sid = check_id(site_id, "site")
    async with rt.sessions() as session:
        if sid not in await queries.operator_site_ids(session, operator):
            raise not_found("site")
        site = await session.get(Site, sid)
        if site is None:
            raise not_found("site")
        period = check_period(date_from, date_to, site_zone(site))

        async def count(p: object) -> dict:
            start, end = p.bounds()  # type: ignore[attr-defined]
            base = (Conversation.site_id == sid, Conversation.created_at >= start, Conversation.created_at < end,
                    Conversation.missed_at.is_not(None))
            missed, answered = (await session.execute(select(
                func.count(), func.count(Conversation.first_reply_at)).where(*base))).one()   # one scan
            return {"from": p.first.isoformat(), "to": p.end.isoformat(),  # type: ignore[attr-defined]
                    "missed": int(missed), "answered_later": int(answered or 0)}

        return {"site": {"id": site.id, "name": site.name}, "timezone": period.tz.key,
                "current": await count(period), "previous": await count(period.previous())}
