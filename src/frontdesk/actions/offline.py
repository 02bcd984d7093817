"""Offline mode (issue 6): working hours, availability, the offline form, visitor contacts,
the no-reply holding message, and e-mail for offline conversations.

* A site is **available** when an operator of it is online *and* it is within the
  site's working hours (``Site.hours``; ``None`` = 24×7). The widget shows the
  live chat when available, the offline form otherwise.
* An **offline message** becomes (or continues) the visitor's open conversation,
  marked ``is_offline``; the message and one e-mail per notification address are
  stored in **one** transaction (``PendingMessage.in_transaction``).
* An operator's reply in an offline conversation is e-mailed to the visitor,
  queued in the reply's own transaction (``reply_email_hook``).
* A visitor message that waits ``FRONTDESK_NO_REPLY_SECONDS`` without an operator
  reply gets one ``system`` message asking for contacts (``check_no_reply``).

Time always comes from ``rt.clock`` (tests move it; nothing here sleeps).
"""
from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk import events as ev
from frontdesk.actions import ActionError
from frontdesk.actions.messages import CLIENT_ID_RE, PendingMessage, check_text
from frontdesk.actions.operators import EMAIL_RE, sites_online
from frontdesk.events import Event
from frontdesk.mail import compose
from frontdesk.mail.outbox import queue_email
from frontdesk.models import Conversation, Message, Operator, OutboxKind, Site, Visitor

log = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")
MAX_INTERVALS_PER_DAY = 8
NAME_MAX = 100
PHONE_RE = re.compile(r"^\+?[0-9(][0-9 ()\-.]{2,30}[0-9]$")
# client_id prefixes of the holding message (sender "system"); the widget reads
# "ask_contacts:" as "show the contacts form" (docs/protocol.md § Offline mode)
ASK_CONTACTS_PREFIX = "ask_contacts:"
HOLD_PREFIX = "hold:"
NO_REPLY_BATCH = 200  # conversations handled per tick; the rest are picked up on the next one

HOLDING_TEXT = {
    "ru": {
        "ask": "Спасибо за ваше сообщение! Сейчас все операторы заняты. Оставьте, пожалуйста, e-mail или "
               "телефон — мы ответим вам, как только освободимся, даже если вы закроете страницу.",
        "hold": "Спасибо за ваше сообщение! Сейчас все операторы заняты — мы ответим вам, как только освободимся.",
    },
    "en": {
        "ask": "Thank you for your message! All our operators are busy right now. Please leave your e-mail "
               "or phone number and we will get back to you as soon as we can, even if you close this page.",
        "hold": "Thank you for your message! All our operators are busy right now — we will get back to you "
                "as soon as we can.",
    },
}


# --- working hours -----------------------------------------------------------------

def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def check_hours(value: object) -> dict | None:
    """Validate working hours: None (24×7) or
    ``{"timezone": "Europe/Moscow", "days": {"mon": [["09:00", "18:00"]], …}}``.

    Days are mon…sun; a day that is missing or ``[]`` is closed. Each interval is
    ``[start, end)`` in the site's local time, ``HH:MM`` with ``start < end``
    (``"24:00"`` = end of day); intervals of a day must not overlap. A night shift
    is two intervals: ``"mon": [["22:00","24:00"]], "tue": [["00:00","06:00"]]``.
    """
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"timezone", "days"}:
        raise ActionError("invalid_input", 'hours must be null or {"timezone": …, "days": {…}}')
    tz = value.get("timezone")
    if not isinstance(tz, str) or not tz or len(tz) > 64 or tz.startswith("/") or ".." in tz:
        raise ActionError("invalid_input", "hours.timezone must be an IANA time zone such as Europe/Moscow")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ActionError("invalid_input", f"unknown time zone {tz!r}") from None
    days = value.get("days")
    if not isinstance(days, dict):
        raise ActionError("invalid_input", "hours.days must be an object like {\"mon\": [[\"09:00\", \"18:00\"]]}")
    out: dict[str, list[list[str]]] = {}
    for day, intervals in days.items():
        if day not in DAYS:
            raise ActionError("invalid_input", f"hours.days: unknown day {str(day)[:10]!r} (use {', '.join(DAYS)})")
        if not isinstance(intervals, list) or len(intervals) > MAX_INTERVALS_PER_DAY:
            raise ActionError("invalid_input", f"hours.days.{day} must be a list of at most "
                                               f"{MAX_INTERVALS_PER_DAY} [start, end] pairs")
        clean: list[tuple[int, int, str, str]] = []
        for pair in intervals:
            if (not isinstance(pair, list) or len(pair) != 2
                    or not all(isinstance(t, str) and _TIME_RE.match(t) for t in pair)):
                raise ActionError("invalid_input", f"hours.days.{day}: each interval is [\"HH:MM\", \"HH:MM\"]")
            start, end = _minutes(pair[0]), _minutes(pair[1])
            if pair[0] == "24:00" or start >= end:
                raise ActionError("invalid_input", f"hours.days.{day}: {pair[0]}–{pair[1]} must start before it ends "
                                                   "(split a night shift over two days)")
            clean.append((start, end, pair[0], pair[1]))
        clean.sort()
        for a, b in zip(clean, clean[1:]):
            if b[0] < a[1]:
                raise ActionError("invalid_input", f"hours.days.{day}: intervals overlap")
        if clean:
            out[day] = [[s, e] for _, _, s, e in clean]
    return {"timezone": tz, "days": {d: out[d] for d in DAYS if d in out}}


def within_hours(hours: dict | None, now: datetime) -> bool:
    """Is ``now`` (aware) inside the working hours? None = always."""
    if not hours:
        return True
    try:
        local = now.astimezone(ZoneInfo(hours["timezone"]))
    except (ZoneInfoNotFoundError, KeyError, ValueError, OSError):
        log.warning("bad stored working hours %r; treating the site as always open", hours)
        return True
    minute = local.hour * 60 + local.minute
    for start, end in hours.get("days", {}).get(DAYS[local.weekday()], []):
        if _minutes(start) <= minute < _minutes(end):
            return True
    return False


async def site_availability(session: AsyncSession, site: Site, now: datetime) -> dict:
    """``{"operators_online", "within_hours", "available"}`` of one site at ``now``."""
    online = (await sites_online(session, {site.id}))[site.id]
    within = within_hours(site.hours, now)
    return {"operators_online": online, "within_hours": within, "available": online and within}


async def availability_events(rt, online_by_site: dict[int, bool]) -> list[Event]:  # noqa: ANN001
    """``site.availability`` events for sites whose operators_online just changed (called by
    ``operators.set_status`` after its commit)."""
    if not online_by_site:
        return []
    now = rt.clock()
    async with rt.sessions() as session:
        rows = (await session.execute(select(Site.id, Site.hours).where(Site.id.in_(list(online_by_site))))).all()
    out = []
    for site_id, hours in rows:
        online, within = online_by_site[site_id], within_hours(hours, now)
        out.append(Event(ev.SITE_AVAILABILITY, site_id,
                         {"operators_online": online, "within_hours": within, "available": online and within}))
    return out


async def set_site_hours(rt, site_id: int, hours: object) -> dict:  # noqa: ANN001
    """Admin: replace a site's working hours; tells the site's visitors when availability changes."""
    hours = check_hours(hours)
    now = rt.clock()
    async with rt.sessions() as session:
        async with session.begin():
            site = await session.get(Site, site_id)
            if site is None:
                raise ActionError("not_found", "site not found", 404)
            before = within_hours(site.hours, now)
            site.hours = hours
        availability = await site_availability(session, site, now)
    if availability["within_hours"] != before:
        await rt.publish(Event(ev.SITE_AVAILABILITY, site_id, availability))
    return {"site_id": site_id, "hours": hours, "availability": availability}


class HoursWatcher:
    """Notices working hours starting or ending and tells the connected visitors.

    Each tick asks, per site with hours: did a boundary pass between the previous
    tick and now (``within_hours(hours, before) != within_hours(hours, now)``)?
    No per-site memory, so a site whose hours were just set is judged by its new
    hours (the change itself is announced by ``set_site_hours``).

    Every node runs one and tells **its own** sockets (``hub.dispatch``, not the
    broker): every node computes the same answer from the same clock and rows,
    so going through the broker would deliver each change once per node.
    """

    def __init__(self) -> None:
        self.last_tick: datetime | None = None

    async def tick(self, rt, now: datetime) -> list[Event]:  # noqa: ANN001
        before, self.last_tick = self.last_tick, now
        if before is None:
            return []
        async with rt.sessions() as session:
            sites = (await session.execute(select(Site).where(Site.hours.is_not(None)))).scalars().all()
            changed = [site for site in sites if within_hours(site.hours, before) != within_hours(site.hours, now)]
            return [Event(ev.SITE_AVAILABILITY, site.id, await site_availability(session, site, now))
                    for site in changed]


# --- input checks ------------------------------------------------------------------

def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in value)


def check_visitor_name(name: object) -> str:
    """1–100 characters on one line: it goes into e-mail headers (``mail.headers.check_header_text``:
    no CR/LF, control characters, U+2028/U+2029, bidi controls or RFC 2047 ``=?…?=``)."""
    from frontdesk.mail.headers import HeaderValueError, check_header_text

    try:
        return check_header_text(name, "name", NAME_MAX)
    except HeaderValueError as exc:
        raise ActionError("invalid_name", str(exc)) from None


def check_visitor_email(email: object) -> str:
    """A plain ASCII ``local@domain`` (``mail.headers.check_address``), lower-cased."""
    from frontdesk.mail.headers import HeaderValueError, check_address

    try:
        return check_address(email, "email").lower()
    except HeaderValueError:
        raise ActionError("invalid_email", "a valid e-mail address is required, e.g. name@example.com") from None


def check_phone(phone: object) -> str:
    if not isinstance(phone, str) or _has_control(phone) or not PHONE_RE.match(phone.strip()) \
            or sum(ch.isdigit() for ch in phone) < 5:
        raise ActionError("invalid_phone", "a phone number is 5-32 digits, spaces, ( ) - . and an optional leading +")
    return " ".join(phone.split())


def visitor_language(visitor_lang: str | None, site: Site) -> str:
    """ru or en: the site's fixed widget language, else the visitor's browser language (ru when unknown)."""
    fixed = (site.widget or {}).get("language")
    if fixed in ("ru", "en"):
        return fixed
    lang = (visitor_lang or "").lower()
    if not lang or lang.startswith("ru"):
        return "ru"
    return "en"


# --- the offline form --------------------------------------------------------------

def panel_link(base: str, conversation_id: int) -> str:
    return f"{base.rstrip('/')}/panel/#/conversations/{conversation_id}"


async def submit_offline_message(rt, site: Site, *, token: str | None, name: object, email: object,  # noqa: ANN001
                                 message: object, client_id: object = None, page: object = None,
                                 lang: object = None, user_agent: str = "", ip: str = "",
                                 public_base: str) -> dict:
    """The offline form: validate, attach to (or create) the visitor, store the message in its open
    conversation marked offline, and queue one e-mail per notification address — atomically."""
    from frontdesk.actions.conversations import load_conversation, open_conversation_id
    from frontdesk.actions.visitors import identify_visitor

    name = check_visitor_name(name)
    email = check_visitor_email(email)
    if not isinstance(message, str):
        raise ActionError("empty_text" if message is None else "invalid_input", "message must be a non-empty string")
    text = check_text(message, rt.settings.max_message_chars)
    if client_id is None:
        client_id = f"offline-{uuid.uuid4().hex}"
    elif not isinstance(client_id, str) or not CLIENT_ID_RE.match(client_id):
        raise ActionError("invalid_input", "client_id must be 1-64 characters of [A-Za-z0-9_.:-]")
    lang = lang if isinstance(lang, str) else ""
    visitor, token = await identify_visitor(rt, site, token, page=page, user_agent=user_agent, ip=ip, lang=lang)
    cid = await open_conversation_id(rt, visitor)
    language = visitor_language(lang or visitor.language, site)
    queued: list[str] = []  # filled by the hook; it does not run when client_id was already stored
    ran: list[bool] = []

    async def in_transaction(session: AsyncSession, stored: Message) -> None:
        ran.append(True)
        queued.clear()  # a batch that rolled back may have run this hook once already
        await session.execute(update(Conversation).where(Conversation.id == cid).values(is_offline=True))
        await session.execute(update(Visitor).where(Visitor.id == visitor.id).values(name=name, email=email))
        now = rt.clock()
        subject, body_text, body_html = compose.offline_notification(
            language, site=site.name, name=name, email=email, message=text,
            page_url=visitor.page_url, panel_link=panel_link(public_base, cid))
        for address in site.notify_emails or []:
            queue_email(session, rt.settings, now=now, site_id=site.id, kind=OutboxKind.offline_notify.value,
                        to_addr=address, subject=subject, text=body_text, html=body_html,
                        reply_to=email, reply_to_name=name, from_name=site.name,
                        conversation_id=cid, message_id=stored.id)
            queued.append(address)

    for _attempt in range(3):
        try:
            stored = await rt.writer.store(PendingMessage(
                conversation_id=cid, site_id=site.id, visitor_id=visitor.id, kind="visitor",
                sender=f"v{visitor.id}", text=text, client_id=client_id, require_open=True,
                in_transaction=in_transaction))
            break
        except ActionError as exc:
            if exc.code != "conversation_closed":
                raise
            cid = await open_conversation_id(rt, visitor)  # an operator closed it meanwhile: a new one
    else:
        raise ActionError("internal", "could not open a conversation; retry", 503)
    if ran and stored["seq"] > 1:
        # an existing conversation just became offline and the visitor got a name/e-mail: tell the panel
        # (a new one is announced by the writer with conversation.created, already marked)
        async with rt.sessions() as session:
            conv = await session.get(Conversation, cid)
            full = await load_conversation(session, conv)
        await rt.publish(Event(ev.CONVERSATION_UPDATED, site.id, {"conversation": full},
                               conversation_id=cid, visitor_id=visitor.id))
    return {"visitor_token": token, "visitor_id": visitor.id, "conversation_id": stored["conversation_id"],
            "message": stored, "emails_queued": len(queued), "duplicate": not ran}


# --- operator replies in offline conversations -------------------------------------

def reply_email_hook(rt, operator: Operator, conversation_id: int):  # noqa: ANN001, ANN201
    """``PendingMessage.in_transaction`` for an operator's reply in an offline conversation:
    queues the e-mail to the visitor (when the visitor left an address) with the reply."""

    async def in_transaction(session: AsyncSession, stored: Message) -> None:
        conv = await session.get(Conversation, conversation_id)
        visitor = await session.get(Visitor, conv.visitor_id)
        if visitor is None or not visitor.email:
            return
        site = await session.get(Site, conv.site_id)
        quoted = (await session.execute(
            select(Message.text).where(Message.conversation_id == conversation_id, Message.kind == "visitor",
                                       Message.seq < stored.seq)
            .order_by(Message.seq.desc()).limit(1))).scalar_one_or_none()
        language = visitor_language(visitor.language, site)
        subject, body_text, body_html = compose.operator_reply(
            language, site=site.name, visitor_name=visitor.name, operator=operator.name, reply=stored.text,
            quoted=quoted, page_url=visitor.page_url)
        reply_name, reply_addr = _reply_to(rt.settings.mail_reply_to)
        queue_email(session, rt.settings, now=rt.clock(), site_id=site.id, kind=OutboxKind.operator_reply.value,
                    to_addr=visitor.email, to_name=visitor.name or "", subject=subject, text=body_text,
                    html=body_html, reply_to=reply_addr, reply_to_name=reply_name, from_name=site.name,
                    conversation_id=conversation_id, message_id=stored.id)

    return in_transaction


def _reply_to(setting: str) -> tuple[str, str]:
    from email.utils import parseaddr

    if not setting.strip():
        return "", ""
    name, addr = parseaddr(setting)
    if "@" not in addr:
        log.warning("FRONTDESK_MAIL_REPLY_TO %r is not an address; ignored", setting)
        return "", ""
    return name, addr


# --- contacts ----------------------------------------------------------------------

async def _waiting_for_reply(session: AsyncSession, conversation_id: int) -> bool:
    last = (await session.execute(
        select(Message.kind).where(Message.conversation_id == conversation_id,
                                   Message.kind.in_(("visitor", "operator")))
        .order_by(Message.seq.desc()).limit(1))).scalar_one_or_none()
    return last == "visitor"


async def save_contacts(rt, visitor: Visitor, *, email: object = None, phone: object = None,  # noqa: ANN001
                        name: object = None) -> dict:
    """Store contacts a visitor left (at least one of e-mail and phone; name optional).

    When the visitor leaves an e-mail while its open conversation waits for an
    answer, that conversation becomes ``is_offline``: the operator's reply is then
    e-mailed too (the visitor asked to be answered later)."""
    from frontdesk.actions.conversations import load_conversation

    given = {k: v for k, v in (("email", email), ("phone", phone), ("name", name)) if v not in (None, "")}
    if not given.get("email") and not given.get("phone"):
        raise ActionError("invalid_input", "leave an e-mail or a phone number")
    values = {}
    if "email" in given:
        values["email"] = check_visitor_email(given["email"])
    if "phone" in given:
        values["phone"] = check_phone(given["phone"])
    if "name" in given:
        values["name"] = check_visitor_name(given["name"])
    async with rt.sessions() as session:
        async with session.begin():
            await session.execute(update(Visitor).where(Visitor.id == visitor.id).values(**values))
            conv = (await session.execute(select(Conversation).where(
                Conversation.visitor_id == visitor.id, Conversation.status == "open"))).scalar_one_or_none()
            if conv is not None and "email" in values and not conv.is_offline \
                    and await _waiting_for_reply(session, conv.id):
                conv.is_offline = True
        row = await session.get(Visitor, visitor.id)
        full = await load_conversation(session, conv) if conv is not None and conv.last_seq > 0 else None
    if full is not None:
        await rt.publish(Event(ev.CONVERSATION_UPDATED, visitor.site_id, {"conversation": full},
                               conversation_id=conv.id, visitor_id=visitor.id))
    return {"visitor": {"name": row.name, "email": row.email, "phone": row.phone},
            "conversation_id": conv.id if full is not None else None,
            "is_offline": bool(full and full["is_offline"])}


# --- no reply: the holding message -------------------------------------------------

async def check_no_reply(rt, now: datetime) -> int:  # noqa: ANN001
    """Give every open live conversation whose visitor has waited ``no_reply_seconds`` for an
    operator one polite ``system`` message (once per conversation). Returns how many were stored.

    Idempotent on every node: the message's (sender "system", client_id) is unique,
    so two nodes storing the same holding message store it once."""
    seconds = rt.settings.no_reply_seconds
    if seconds <= 0:
        return 0
    threshold = now - timedelta(seconds=seconds)
    last_operator_seq = (select(func.coalesce(func.max(Message.seq), 0))
                         .where(Message.conversation_id == Conversation.id, Message.kind == "operator")
                         .correlate(Conversation).scalar_subquery())
    waiting_since = (select(func.min(Message.created_at))
                     .where(Message.conversation_id == Conversation.id, Message.kind == "visitor",
                            Message.seq > last_operator_seq)
                     .correlate(Conversation).scalar_subquery())
    held = exists().where(Message.conversation_id == Conversation.id, Message.sender == "system",
                          or_(Message.client_id.like(ASK_CONTACTS_PREFIX + "%"),
                              Message.client_id.like(HOLD_PREFIX + "%"))).correlate(Conversation)
    async with rt.sessions() as session:
        rows = (await session.execute(
            select(Conversation.id, Conversation.site_id, Visitor.id, Visitor.email, Visitor.phone,
                   Visitor.language, Site)
            .join(Visitor, Visitor.id == Conversation.visitor_id).join(Site, Site.id == Conversation.site_id)
            .where(Conversation.status == "open", Conversation.is_offline.is_(False), Conversation.last_seq > 0,
                   and_(waiting_since.is_not(None), waiting_since <= threshold), ~held)
            .order_by(Conversation.id).limit(NO_REPLY_BATCH))).all()
    pending = []
    for cid, site_id, visitor_id, v_email, v_phone, v_lang, site in rows:
        ask = not (v_email or v_phone)
        lang = visitor_language(v_lang, site)
        pending.append(rt.writer.store(PendingMessage(
            conversation_id=cid, site_id=site_id, visitor_id=visitor_id, kind="system", sender="system",
            text=HOLDING_TEXT[lang]["ask" if ask else "hold"],
            client_id=f"{ASK_CONTACTS_PREFIX if ask else HOLD_PREFIX}{cid}")))
    results = await asyncio.gather(*pending, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            log.warning("storing a holding message failed: %s", r)
    return sum(1 for r in results if not isinstance(r, BaseException))


# --- the background loop and the test clock ----------------------------------------

def file_offset_clock(path: str):  # noqa: ANN201
    """Tests only (FRONTDESK_TEST_CLOCK_FILE): the real UTC clock plus the number of seconds
    written in ``path``, read at every call (missing or garbled = +0). Time keeps running, so
    retries and timeouts still work while a test jumps to 09:00 Moscow or a minute ahead."""
    file = Path(path)

    def clock() -> datetime:
        try:
            offset = float(file.read_text().strip() or 0)
        except (OSError, ValueError):
            offset = 0.0
        return datetime.now(timezone.utc) + timedelta(seconds=offset)

    return clock


async def run_offline_ticker(rt) -> None:  # noqa: ANN001
    """Every FRONTDESK_OFFLINE_TICK seconds: holding messages for unanswered visitors, and
    availability frames when working hours start or end."""
    watcher = HoursWatcher()
    while True:
        try:
            now = rt.clock()
            await check_no_reply(rt, now)
            for event in await watcher.tick(rt, now):
                rt.hub.dispatch(event)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed round is retried on the next tick
            log.exception("offline ticker round failed")
        await asyncio.sleep(rt.settings.offline_tick)


class OfflineServices:
    """What issue 6 runs in the app's lifespan: the test clock (when set), the outbox sender
    and the ticker. ``start`` after the writer, ``stop`` before it."""

    def __init__(self, rt) -> None:  # noqa: ANN001
        from frontdesk.mail.sender import OutboxSender

        self.rt = rt
        if rt.settings.test_clock_file:
            log.warning("FRONTDESK_TEST_CLOCK_FILE is set: the clock is moved by %s (tests only)",
                        rt.settings.test_clock_file)
            rt.clock = file_offset_clock(rt.settings.test_clock_file)
        self.sender = OutboxSender(rt)
        self._ticker: asyncio.Task | None = None

    def start(self) -> None:
        self.sender.start()
        self._ticker = asyncio.create_task(run_offline_ticker(self.rt), name="offline-ticker")

    async def stop(self) -> None:
        if self._ticker:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass
        await self.sender.stop()
