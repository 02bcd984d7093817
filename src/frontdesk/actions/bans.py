"""Bans (issue 17): operators block a visitor, an address or a subnet on a site.

* A ban belongs to one site; the operators of the site (admins: every site) create, list and lift
  its bans. Values are checked and normalised by ``moderation.bans.check_ban_value``; expiry
  presets by ``moderation.bans.parse_expiry`` against ``rt.clock``.
* Each node keeps the active bans in memory (``rt.cache.bans``, ``runtime.NodeBans``): loaded at
  start and every ``FRONTDESK_BAN_REFRESH`` seconds, changed at once by the ``ban.changed`` event
  that creating and lifting publish after commit — so a ban and its lifting take effect on every
  node at once. The hub closes the sockets a new ban refuses; hello, every visitor frame and the
  widget's REST check ``visitors.check_not_banned``.
* Banning from a dialog closes that conversation with an internal note (operators only).
"""
from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select

from frontdesk import events as ev
from frontdesk import serialize
from frontdesk.actions import conversations, queries
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef
from frontdesk.actions.validate import check_id, check_note, clip
from frontdesk.actions.writer import PendingMessage
from frontdesk.models import BanRow, Site, Visitor
from frontdesk.moderation.bans import BanValueError, check_ban_value, parse_expiry
from frontdesk.runtime import ban_of

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

REASON_MAX = 500
LIST_LIMIT = 500
# the internal note left in the conversation that led to the ban (operators only)
NOTE_TEXT = {
    "ru": "Посетитель заблокирован ({what}), диалог закрыт.{reason}",
    "en": "The visitor was blocked ({what}); the conversation is closed.{reason}",
}
KIND_TEXT = {"ru": {"visitor": "посетитель", "ip": "IP", "subnet": "подсеть"},
             "en": {"visitor": "visitor", "ip": "IP", "subnet": "subnet"}}


def ban_json(b: BanRow, site_name: str | None = None) -> dict:
    return {"id": b.id, "site_id": b.site_id, "site_name": site_name, "kind": b.kind, "value": b.value,
            "reason": b.reason, "author": {"id": b.author_id, "name": b.author_name},
            "created_at": serialize.iso(b.created_at), "expires_at": serialize.iso(b.expires_at),
            "lifted_at": serialize.iso(b.lifted_at),
            "lifted_by": None if b.lifted_at is None else {"id": b.lifted_by_id, "name": b.lifted_by_name},
            "visitor_id": b.visitor_id, "conversation_id": b.conversation_id}


def _event(data: dict, operator_id: int) -> ev.Event:
    return ev.Event(ev.BAN_CHANGED, data["site_id"], {"ban": data}, operator_id=operator_id)


def _value_error(exc: BanValueError, lang: str) -> ActionError:
    code = "invalid_expiry" if exc.code in ("no_choice", "bad_datetime", "past", "too_far", "bad_time",
                                            "expires_before_created") else "invalid_ban_value"
    return ActionError(code, exc.message(lang if lang in ("ru", "en") else "en"))


def _subnet_of(ip: str) -> str:
    return f"{ip}/24" if ":" not in ip else f"{ip}/64"


async def create_ban(rt: Runtime, operator: OperatorRef, data: dict) -> dict:
    """``{kind, value?, reason?, expiry, custom?, tz?, site_id?, visitor_id?, conversation_id?}``.

    From a dialog (``conversation_id``) or the visitors list (``visitor_id``) the site is the
    visitor's and an empty ``value`` is taken from the visitor: its id (``visitor``), its last
    address (``ip``) or that address's /24 (/64 for IPv6) (``subnet``). From the bans page
    ``site_id`` is required unless the operator works on one site only.
    ``expiry``: ``1h``, ``1d``, ``1w``, ``permanent`` or ``custom`` with ``custom`` an ISO date-time
    (read in ``tz``, an IANA zone, when it has no offset)."""
    lang = operator.language
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in ("visitor", "ip", "subnet"):
        raise ActionError("invalid_ban_value", BanValueError("bad_kind", str(kind)[:40]).message(lang))
    reason = check_note(data.get("reason") or "", REASON_MAX) if data.get("reason") is not None else ""
    value = data.get("value")
    if value is not None and not isinstance(value, str):
        raise ActionError("invalid_ban_value", BanValueError("not_text", value).message(lang))
    tz_name = data.get("tz")
    try:
        tz = ZoneInfo(tz_name) if isinstance(tz_name, str) and tz_name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ActionError("invalid_input", "tz must be an IANA time zone") from None
    now = rt.clock()
    custom = data.get("custom")
    if custom is not None and not isinstance(custom, str):
        raise ActionError("invalid_expiry", BanValueError("bad_datetime", custom).message(lang))
    expiry = data.get("expiry")
    if not isinstance(expiry, str):
        raise ActionError("invalid_expiry", BanValueError("no_choice").message(lang))
    try:
        expires_at = parse_expiry(expiry[:40], now, custom=custom[:64] if custom else None, tz=tz)
    except BanValueError as exc:
        raise _value_error(exc, lang) from None
    conv_id = check_id(data["conversation_id"]) if data.get("conversation_id") is not None else None
    visitor_id = check_id(data["visitor_id"], "visitor") if data.get("visitor_id") is not None else None
    async with rt.sessions() as session:
        async with session.begin():
            allowed = await queries.operator_site_ids(session, operator)
            conv = None
            if conv_id is not None:
                conv = await queries.operator_conversation(session, operator, conv_id)
                visitor_id = conv.visitor_id
            visitor = None
            if visitor_id is not None:
                visitor = await session.get(Visitor, visitor_id)
                if visitor is None or visitor.site_id not in allowed:
                    raise not_found("visitor")
                site_id = visitor.site_id
            else:
                if data.get("site_id") is None and len(allowed) != 1:
                    raise ActionError("invalid_input", "site_id is required (or visitor_id / conversation_id)")
                site_id = check_id(data["site_id"], "site") if data.get("site_id") is not None else min(allowed)
                if site_id not in allowed:
                    raise not_found("site")
            if not value or not value.strip():
                if visitor is None:
                    raise ActionError("invalid_ban_value", BanValueError("empty").message(lang))
                if kind == "visitor":
                    value = str(visitor.id)
                elif not visitor.ip:
                    raise ActionError("invalid_ban_value", BanValueError("not_ip", "—").message(lang))
                else:
                    value = visitor.ip if kind == "ip" else _subnet_of(visitor.ip)
            try:
                value = check_ban_value(kind, value)
            except BanValueError as exc:
                raise _value_error(exc, lang) from None
            if kind == "visitor":
                target = await session.get(Visitor, int(value)) if value.isdigit() and len(value) < 19 else None
                if target is None or target.site_id != site_id:
                    raise not_found("visitor")
            row = BanRow(site_id=site_id, kind=kind, value=value, reason=reason, author_id=operator.id,
                         author_name=operator.name, created_at=now, expires_at=expires_at,
                         visitor_id=visitor_id, conversation_id=conv.id if conv else None)
            session.add(row)
            await session.flush()
            site = await session.get(Site, site_id)
            data_out = ban_json(row, site.name if site else None)
            open_conv = conv if conv is not None and conv.status == "open" else None
            if open_conv is None and visitor is not None:
                open_conv = await queries.find_open(session, visitor.id)
    await rt.publish(_event(data_out, operator.id))
    if open_conv is not None and open_conv.last_seq > 0:
        texts = NOTE_TEXT[lang if lang in NOTE_TEXT else "en"]
        what = f"{KIND_TEXT[lang if lang in KIND_TEXT else 'en'][kind]} {value}"
        await rt.writer.store(PendingMessage(
            conversation_id=open_conv.id, site_id=open_conv.site_id, visitor_id=open_conv.visitor_id, kind="note",
            sender=f"o{operator.id}", text=texts.format(what=what, reason=f" {reason}" if reason else ""),
            client_id=f"ban:{data_out['id']}", author=operator))
        await conversations.close_conversation(rt, operator, open_conv.id)
    return data_out


async def list_bans(rt: Runtime, operator: OperatorRef, *, q: object = None, status: object = "active",
                    site_id: object = None) -> dict:
    """Bans of the sites the operator works on, newest first. ``status``: ``active`` (not lifted,
    not expired), ``ended`` (lifted or expired) or ``all``; ``q`` searches value, reason and names."""
    if status not in ("active", "ended", "all"):
        raise ActionError("invalid_input", "status must be active, ended or all")
    now = rt.clock()
    async with rt.sessions() as session:
        allowed = await queries.operator_site_ids(session, operator)
        if site_id is not None:
            wanted = check_id(site_id, "site")
            if wanted not in allowed:
                raise not_found("site")
            allowed = {wanted}
        stmt = select(BanRow, Site.name).join(Site, Site.id == BanRow.site_id).where(BanRow.site_id.in_(allowed))
        active = (BanRow.lifted_at.is_(None)) & (BanRow.expires_at.is_(None) | (BanRow.expires_at > now))
        if status == "active":
            stmt = stmt.where(active)
        elif status == "ended":
            stmt = stmt.where(~active)
        if q is not None:
            if not isinstance(q, str):
                raise ActionError("invalid_input", "q must be text")
            text = clip(q, 100).strip()
            if text:
                like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                stmt = stmt.where(or_(BanRow.value.ilike(like, escape="\\"), BanRow.reason.ilike(like, escape="\\"),
                                      BanRow.author_name.ilike(like, escape="\\"),
                                      BanRow.lifted_by_name.ilike(like, escape="\\")))
        rows = (await session.execute(stmt.order_by(BanRow.created_at.desc(), BanRow.id.desc())
                                      .limit(LIST_LIMIT))).all()
    return {"bans": [{**ban_json(b, name), "active": ban_of(ban_json(b)).active(now)} for b, name in rows],
            "now": serialize.iso(now)}


async def lift_ban(rt: Runtime, operator: OperatorRef, ban_id: object) -> dict:
    """Lift a ban at once on every node (``ban.changed``). Lifting a lifted ban changes nothing."""
    bid = check_id(ban_id, "ban")
    now = rt.clock()
    async with rt.sessions() as session:
        async with session.begin():
            row = await session.get(BanRow, bid)
            if row is None or row.site_id not in await queries.operator_site_ids(session, operator):
                raise not_found("ban")
            changed = row.lifted_at is None
            if changed:
                row.lifted_at, row.lifted_by_id, row.lifted_by_name = now, operator.id, operator.name
            site = await session.get(Site, row.site_id)
            data = ban_json(row, site.name if site else None)
    if changed:
        await rt.publish(_event(data, operator.id))
    return {**data, "active": False}


async def load_active(rt: Runtime) -> int:
    """(Re)load this node's ban index from the database; the number of active bans. A ``ban.changed``
    that arrives during the read makes the read stale: it is read again (the event already applied)."""
    bans: list = []
    for _attempt in range(3):
        generation = rt.cache.bans.generation
        now = rt.clock()
        async with rt.sessions() as session:
            rows = (await session.execute(select(BanRow).where(
                BanRow.lifted_at.is_(None), BanRow.expires_at.is_(None) | (BanRow.expires_at > now)))).scalars().all()
        bans = [(b.site_id, ban_of(ban_json(b))) for b in rows]
        if rt.cache.bans.replace(bans, generation):
            break
    return len(bans)
