"""Proactive invitations (docs/invitations.md): rules per site, the widget's records of each
invitation shown / accepted / dismissed, manual invitations from the visitors list, and
conversations started from an invitation (``origin = "proactive"``).

The rules are evaluated in the visitor's browser (static/widget/invite.js) from what the server
sends with the widget settings. ``matches`` / ``blocked`` / ``pick`` below are the same logic in
Python — tests/js/fixtures/invitation_cases.json holds both implementations to the same answers.

Facts (both implementations): ``now`` / ``page_started`` / ``visit_started`` (ms since the epoch),
``url``, ``pages`` (viewed this visit), ``visit_number`` (None: not known yet), ``source`` (a kind
of context.sources), ``utm`` ({source, medium, campaign}), ``country`` (ISO code), ``device``
(context.useragent DEVICE_TYPES), ``online`` (an operator online), ``within_hours``, ``chatting``
(an open conversation), ``tz`` (the site's time zone), ``visit_key`` (which visit this is).
History of one rule in this browser: ``shown_at`` (ms), ``shown_visit``, ``dismissed`` (ever),
``dismissed_visit``.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from frontdesk import events as ev
from frontdesk import serialize
from frontdesk.actions import conversations, queries
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef, SiteRef, VisitorRef
from frontdesk.actions.validate import check_id, check_name, check_text, has_control
from frontdesk.actions.visitors import row_by_token
from frontdesk.context.sources import KINDS
from frontdesk.context.useragent import DEVICE_TYPES
from frontdesk.events import Event
from frontdesk.models import Conversation, InvitationEvent, InvitationRule, ManualInvitation, Operator, Site, Visitor

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

URL_MATCHES = ("exact", "prefix", "wildcard")
VISIT_KINDS = ("new", "returning")
UTM_KEYS = ("source", "medium", "campaign")
CAP_KEYS = ("once_per_visit", "every_days", "not_after_dismiss", "not_while_chatting", "working_hours_only")
RECORD_KINDS = ("shown", "dismissed")
TEXT_MAX = 1000           # an invitation's text, code points
RULES_PER_SITE = 100
MAX_SECONDS = 24 * 3600   # a time condition
MANUAL_FRESH = timedelta(minutes=10)  # a manual invitation not shown by then is not shown at all
DAY_MS = 86_400_000
DB_ID_MAX = 2**31 - 1


# --- pure rule logic (mirrored by static/widget/invite.js) ------------------------------------

def url_matches(rule: dict, url: str) -> bool:
    """``{match, value}``: a value starting with "/" is held against the page's path (and query,
    when the value has "?"), anything else against the whole address without its #fragment.
    Percent-escapes are decoded first; ``*`` in a wildcard stands for any characters."""
    value = str(rule.get("value", ""))
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if value.startswith("/"):
        target = parts.path or "/"
        if "?" in value and parts.query:
            target += "?" + parts.query
    else:
        target = url.split("#", 1)[0]
    target = unquote(target)
    how = rule.get("match", "exact")
    if how == "exact":
        return target == value
    if how == "prefix":
        return target.startswith(value)
    pattern = "^" + ".*".join(re.escape(p) for p in value.split("*")) + "$"
    return re.match(pattern, target, re.S) is not None


def local_time(now_ms: int, tz: str | None) -> tuple[int, int]:
    """(ISO weekday 1..7, hour 0..23) of ``now_ms`` in the site's time zone (UTC when unknown)."""
    try:
        zone = ZoneInfo(tz or "UTC")
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        zone = ZoneInfo("UTC")
    at = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone)
    return at.isoweekday(), at.hour


def matches(cond: dict, facts: dict) -> bool:
    """Every condition present holds (AND); an empty rule holds always."""
    now = facts["now"]
    if "page_seconds" in cond and now - facts["page_started"] < cond["page_seconds"] * 1000:
        return False
    if "site_seconds" in cond and now - facts["visit_started"] < cond["site_seconds"] * 1000:
        return False
    if "url" in cond and not url_matches(cond["url"], facts.get("url", "")):
        return False
    if "pages_min" in cond and (facts.get("pages") or 0) < cond["pages_min"]:
        return False
    number = facts.get("visit_number")
    if "visit" in cond and (number is None or (number > 1) != (cond["visit"] == "returning")):
        return False
    if "visit_min" in cond and (number is None or number < cond["visit_min"]):
        return False
    if "sources" in cond and facts.get("source") not in cond["sources"]:
        return False
    utm = facts.get("utm") or {}
    for key, want in (cond.get("utm") or {}).items():
        if str(utm.get(key, "")).lower() != want.lower():
            return False
    if "countries" in cond and str(facts.get("country") or "").upper() not in cond["countries"]:
        return False
    if "devices" in cond and facts.get("device") not in cond["devices"]:
        return False
    if "days" in cond or "hours" in cond:
        day, hour = local_time(now, facts.get("tz"))
        if "days" in cond and day not in cond["days"]:
            return False
        if "hours" in cond:
            lo, hi = cond["hours"]
            if not (lo <= hour < hi if lo < hi else hour >= lo or hour < hi):
                return False
    return not (cond.get("operator_online") and not facts.get("online"))


def blocked(caps: dict, hist: dict | None, facts: dict) -> bool:
    """A frequency cap forbids the rule now. Whatever the caps, an invitation dismissed in this
    visit does not come back in it."""
    hist = hist or {}
    visit = facts.get("visit_key")
    if hist.get("dismissed_visit") is not None and hist.get("dismissed_visit") == visit:
        return True
    if caps.get("once_per_visit") and hist.get("shown_visit") is not None and hist.get("shown_visit") == visit:
        return True
    if caps.get("every_days") and hist.get("shown_at") is not None \
            and facts["now"] - hist["shown_at"] < caps["every_days"] * DAY_MS:
        return True
    if caps.get("not_after_dismiss") and hist.get("dismissed"):
        return True
    if caps.get("not_while_chatting") and facts.get("chatting"):
        return True
    return bool(caps.get("working_hours_only") and not facts.get("within_hours"))


def pick(rules: list[dict], facts: dict, history: dict) -> dict | None:
    """The rule to show now: the highest priority (then the oldest) that matches and is not capped.
    ``history`` maps a rule id (as a string) to its history."""
    for rule in sorted(rules, key=lambda r: (-r.get("priority", 0), r["id"])):
        if matches(rule.get("conditions", {}), facts) and not blocked(rule.get("caps", {}),
                                                                      history.get(str(rule["id"])), facts):
            return rule
    return None


def _id(value: object, what: str) -> int:
    """``check_id``, and within the tables' integer range (PostgreSQL's INTEGER refuses more)."""
    found = check_id(value, what)
    if found > DB_ID_MAX:
        raise not_found(what)
    return found


# --- checking a rule ----------------------------------------------------------------------------

def _int(value: object, what: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ActionError("invalid_input", f"{what} must be a whole number {lo}..{hi}")
    return value


def _str_list(value: object, what: str, allowed: tuple[str, ...] | None = None, upper: bool = False) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > 300:
        raise ActionError("invalid_input", f"{what} must be a non-empty list")
    out = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item) > 100 or has_control(item):
            raise ActionError("invalid_input", f"{what}: every item must be a short string")
        item = item.strip().upper() if upper else item.strip()
        if allowed is not None and item not in allowed:
            raise ActionError("invalid_input", f"{what}: {item[:40]!r} is not one of {', '.join(allowed)}")
        if item not in out:
            out.append(item)
    return out


def check_conditions(value: object) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ActionError("invalid_input", "conditions must be an object")
    out: dict[str, Any] = {}
    for key, v in value.items():
        if v is None:
            continue
        if key in ("page_seconds", "site_seconds"):
            out[key] = _int(v, key, 0, MAX_SECONDS)
        elif key in ("pages_min", "visit_min"):
            out[key] = _int(v, key, 1, 100_000)
        elif key == "url":
            if not isinstance(v, dict) or v.get("match") not in URL_MATCHES or not isinstance(v.get("value"), str) \
                    or not v["value"].strip() or len(v["value"]) > 2048 or has_control(v["value"]):
                raise ActionError("invalid_input", "url must be {match: exact|prefix|wildcard, value}")
            out[key] = {"match": v["match"], "value": v["value"].strip()}
        elif key == "visit":
            if v not in VISIT_KINDS:
                raise ActionError("invalid_input", "visit must be new or returning")
            out[key] = v
        elif key == "sources":
            out[key] = _str_list(v, key, KINDS)
        elif key == "utm":
            if not isinstance(v, dict):
                raise ActionError("invalid_input", "utm must be {source?, medium?, campaign?}")
            utm = {}
            for k, s in v.items():
                if k not in UTM_KEYS or not isinstance(s, str) or len(s) > 200 or has_control(s):
                    raise ActionError("invalid_input", "utm must be {source?, medium?, campaign?} strings")
                if s.strip():
                    utm[k] = s.strip()
            if utm:
                out[key] = utm
        elif key == "countries":
            out[key] = _str_list(v, key, upper=True)
            if any(not re.fullmatch(r"[A-Z]{2}", c) for c in out[key]):
                raise ActionError("invalid_input", "countries must be two-letter ISO codes")
        elif key == "devices":
            out[key] = _str_list(v, key, DEVICE_TYPES)
        elif key == "days":
            if not isinstance(v, list) or not v:
                raise ActionError("invalid_input", "days must be a non-empty list of 1..7 (Monday = 1)")
            out[key] = sorted({_int(d, "a day", 1, 7) for d in v})
        elif key == "hours":
            if not isinstance(v, list) or len(v) != 2:
                raise ActionError("invalid_input", "hours must be [from, to] (0..23, 1..24)")
            lo, hi = _int(v[0], "hours from", 0, 23), _int(v[1], "hours to", 1, 24)
            if lo == hi:
                raise ActionError("invalid_input", "hours: from and to must differ")
            out[key] = [lo, hi]
        elif key == "operator_online":
            if not isinstance(v, bool):
                raise ActionError("invalid_input", "operator_online must be true or false")
            if v:
                out[key] = True
        else:
            raise ActionError("invalid_input", f"unknown condition {str(key)[:40]!r}")
    return out


def check_caps(value: object) -> dict:
    if value is None:
        return {"once_per_visit": True}
    if not isinstance(value, dict):
        raise ActionError("invalid_input", "caps must be an object")
    out: dict[str, Any] = {}
    for key, v in value.items():
        if key not in CAP_KEYS:
            raise ActionError("invalid_input", f"unknown cap {str(key)[:40]!r}")
        if key == "every_days":
            if v:
                out[key] = _int(v, key, 0, 3650)
        elif not isinstance(v, bool):
            raise ActionError("invalid_input", f"{key} must be true or false")
        elif v:
            out[key] = True
    return out


async def check_action(session: Any, site_id: int, value: object) -> dict:
    """``{text: {ru?, en?}, sender: "site" | "operator", operator_id?, open_window?}``."""
    if not isinstance(value, dict):
        raise ActionError("invalid_input", "action must be an object")
    texts = value.get("text")
    if not isinstance(texts, dict) or not set(texts) <= {"ru", "en"}:
        raise ActionError("invalid_input", "action.text must be {ru?, en?}")
    text = {lang: check_text(t, TEXT_MAX) for lang, t in texts.items() if isinstance(t, str) and t.strip()}
    if not text:
        raise ActionError("invalid_input", "action.text needs the invitation in Russian or English")
    sender = value.get("sender", "site")
    if sender not in ("site", "operator"):
        raise ActionError("invalid_input", "action.sender must be site or operator")
    out: dict[str, Any] = {"text": text, "sender": sender, "open_window": bool(value.get("open_window"))}
    if sender == "operator":
        op_id = _id(value.get("operator_id"), "operator")
        site = await session.get(Site, site_id)
        op = await session.get(Operator, op_id)
        if op is None or site is None or site_id not in await queries.operator_site_ids(session, op):
            raise not_found("operator")
        out["operator_id"] = op_id
    return out


# --- rules: panel ---------------------------------------------------------------------------------

def rule_json(rule: InvitationRule, counts: dict[str, int] | None = None) -> dict:
    counts = counts or {}
    return {"id": rule.id, "site_id": rule.site_id, "name": rule.name, "enabled": rule.enabled,
            "priority": rule.priority, "conditions": rule.conditions, "action": rule.action, "caps": rule.caps,
            "created_at": serialize.iso(rule.created_at), "updated_at": serialize.iso(rule.updated_at),
            "counts": {k: counts.get(k, 0) for k in ("shown", "accepted", "dismissed")}}


async def _counts(session: Any, rule_ids: list[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {rid: {} for rid in rule_ids}
    if rule_ids:
        rows = await session.execute(select(InvitationEvent.rule_id, InvitationEvent.kind, func.count())
                                     .where(InvitationEvent.rule_id.in_(rule_ids))
                                     .group_by(InvitationEvent.rule_id, InvitationEvent.kind))
        for rid, kind, n in rows.all():
            out[rid][kind] = n
    return out


async def _site_of_operator(session: Any, operator: OperatorRef, site_id: object) -> Site:
    sid = _id(site_id, "site")
    site = await session.get(Site, sid)
    if site is None or sid not in await queries.operator_site_ids(session, operator):
        raise not_found("site")
    return site


def site_timezone(hours: dict | None) -> str:
    return str((hours or {}).get("timezone") or "UTC")


async def list_rules(rt: Runtime, operator: OperatorRef, site_id: object) -> dict:
    """A site's rules with their counts (any operator of the site), the highest priority first."""
    async with rt.sessions() as session:
        site = await _site_of_operator(session, operator, site_id)
        rules = list((await session.execute(select(InvitationRule).where(InvitationRule.site_id == site.id)
                                            .order_by(InvitationRule.priority.desc(), InvitationRule.id))).scalars())
        counts = await _counts(session, [r.id for r in rules])
    return {"site_id": site.id, "timezone": site_timezone(site.hours),
            "rules": [rule_json(r, counts[r.id]) for r in rules]}


def _fields(data: dict, partial: bool) -> dict:
    allowed = {"name", "enabled", "priority", "conditions", "action", "caps"}
    unknown = set(data) - allowed
    if unknown:
        raise ActionError("invalid_input", f"unknown field {sorted(unknown)[0][:40]!r}")
    if not partial and "name" not in data:
        raise ActionError("invalid_input", "name is required")
    if not partial and "action" not in data:
        raise ActionError("invalid_input", "action is required")
    out: dict[str, Any] = {}
    if "name" in data:
        out["name"] = check_name(data["name"], "rule name", 200)
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            raise ActionError("invalid_input", "enabled must be true or false")
        out["enabled"] = data["enabled"]
    if "priority" in data:
        out["priority"] = _int(data["priority"], "priority", -1000, 1000)
    if "conditions" in data or not partial:
        out["conditions"] = check_conditions(data.get("conditions"))
    if "caps" in data or not partial:
        out["caps"] = check_caps(data.get("caps"))
    return out


async def create_rule(rt: Runtime, site_id: object, data: object) -> dict:
    """Admin: a new rule for the site."""
    if not isinstance(data, dict):
        raise ActionError("invalid_input", "a rule must be an object")
    fields = _fields(data, partial=False)
    sid = _id(site_id, "site")
    now = rt.clock()
    async with rt.sessions() as session, session.begin():
        if await session.get(Site, sid) is None:
            raise not_found("site")
        if (await session.scalar(select(func.count()).select_from(InvitationRule)
                                 .where(InvitationRule.site_id == sid)) or 0) >= RULES_PER_SITE:
            raise ActionError("invalid_input", f"a site has at most {RULES_PER_SITE} rules")
        fields["action"] = await check_action(session, sid, data["action"])
        rule = InvitationRule(site_id=sid, created_at=now, updated_at=now, **{"enabled": True, "priority": 0,
                                                                             **fields})
        session.add(rule)
        await session.flush()
        out = rule_json(rule)
    return out


async def update_rule(rt: Runtime, rule_id: object, data: object) -> dict:
    """Admin: change a rule (only the fields given)."""
    if not isinstance(data, dict):
        raise ActionError("invalid_input", "a rule must be an object")
    fields = _fields(data, partial=True)
    rid = _id(rule_id, "rule")
    async with rt.sessions() as session, session.begin():
        rule = await session.get(InvitationRule, rid)
        if rule is None:
            raise not_found("rule")
        if "action" in data:
            fields["action"] = await check_action(session, rule.site_id, data["action"])
        for key, value in fields.items():
            setattr(rule, key, value)
        rule.updated_at = rt.clock()
        counts = (await _counts(session, [rule.id]))[rule.id]
        out = rule_json(rule, counts)
    return out


async def delete_rule(rt: Runtime, rule_id: object) -> dict:
    """Admin: remove a rule and its records; conversations it started keep its name."""
    rid = _id(rule_id, "rule")
    async with rt.sessions() as session, session.begin():
        rule = await session.get(InvitationRule, rid)
        if rule is None:
            raise not_found("rule")
        await session.execute(update(Conversation).where(Conversation.invitation_rule_id == rid)
                              .values(invitation_rule_id=None))
        await session.execute(delete(InvitationEvent).where(InvitationEvent.rule_id == rid))
        await session.delete(rule)
    return {"deleted": rid}


# --- the widget ---------------------------------------------------------------------------------

def _sender(op: Operator | None, site: SiteRef) -> dict:
    if op is None or not op.is_active:
        return {"name": site.name, "photo_url": None}
    return {"name": op.name, "photo_url": serialize.photo_url(op)}


async def widget_rules(rt: Runtime, site: SiteRef) -> dict:
    """What the widget needs to evaluate the site's enabled rules (sent with ``/widget/config``)."""
    async with rt.sessions() as session:
        rules = list((await session.execute(select(InvitationRule).where(
            InvitationRule.site_id == site.id, InvitationRule.enabled.is_(True)))).scalars())
        ids = {r.action.get("operator_id") for r in rules if r.action.get("sender") == "operator"}
        ops = {o.id: o for o in (await session.execute(select(Operator).where(Operator.id.in_(
            [i for i in ids if isinstance(i, int)])))).scalars()} if ids else {}
    out = []
    for r in sorted(rules, key=lambda r: (-r.priority, r.id)):
        op = ops.get(r.action.get("operator_id") or 0) if r.action.get("sender") == "operator" else None
        out.append({"id": r.id, "priority": r.priority, "conditions": r.conditions, "caps": r.caps,
                    "text": r.action.get("text", {}), "open": bool(r.action.get("open_window")),
                    "sender": _sender(op, site)})
    return {"rules": out, "timezone": site_timezone(site.hours)}


async def _visitor_of(session: Any, site: SiteRef, token: object) -> Visitor | None:
    if token is None:
        return None
    if not isinstance(token, str):
        raise ActionError("unauthorized", "unknown visitor", 401)
    return await row_by_token(session, site, token)


async def record(rt: Runtime, site: SiteRef, data: object) -> dict:
    """The widget reports an invitation ``shown`` or ``dismissed``: ``{token?, kind, rule_id}`` or
    ``{token, kind, manual_id}``. A rule of another site, a disabled rule or another visitor's
    manual invitation is ``not_found``."""
    if not isinstance(data, dict) or data.get("kind") not in RECORD_KINDS:
        raise ActionError("invalid_input", "kind must be shown or dismissed")
    kind = data["kind"]
    now = rt.clock()
    async with rt.sessions() as session, session.begin():
        visitor = await _visitor_of(session, site, data.get("token"))
        if data.get("manual_id") is not None:
            mid = _id(data.get("manual_id"), "invitation")
            manual = await session.get(ManualInvitation, mid)
            if manual is None or visitor is None or manual.visitor_id != visitor.id:
                raise not_found("invitation")
            if kind == "shown":
                manual.shown_at = manual.shown_at or now
            else:
                manual.dismissed_at = manual.dismissed_at or now
            return {"recorded": kind}
        rid = _id(data.get("rule_id"), "rule")
        rule = await session.get(InvitationRule, rid)
        if rule is None or rule.site_id != site.id or not rule.enabled:
            raise not_found("rule")
        session.add(InvitationEvent(rule_id=rid, visitor_id=visitor.id if visitor else None, kind=kind, at=now))
    return {"recorded": kind}


def manual_json(m: ManualInvitation, op: Operator | None, site: SiteRef | Site) -> dict:
    sender = {"name": op.name, "photo_url": serialize.photo_url(op)} if op is not None \
        else {"name": site.name, "photo_url": None}
    return {"manual_id": m.id, "text": m.text, "sender": sender, "created_at": serialize.iso(m.created_at)}


async def pending_manual(rt: Runtime, site: SiteRef, visitor: VisitorRef) -> dict | None:
    """The visitor's newest manual invitation not shown or dismissed yet (sent in the last minutes)."""
    async with rt.sessions() as session:
        m = (await session.execute(select(ManualInvitation).where(
            ManualInvitation.visitor_id == visitor.id, ManualInvitation.shown_at.is_(None),
            ManualInvitation.dismissed_at.is_(None), ManualInvitation.created_at >= rt.clock() - MANUAL_FRESH)
            .order_by(ManualInvitation.id.desc()).limit(1))).scalar_one_or_none()
        if m is None:
            return None
        op = await session.get(Operator, m.operator_id) if m.operator_id else None
        return manual_json(m, op, site)


async def send_manual(rt: Runtime, operator: OperatorRef, visitor_id: object, text: object) -> dict:
    """An operator invites one visitor of its sites (the visitors list): stored, and pushed to the
    visitor's widget (``invitation`` frame / ``POST /widget/invitations/wait``)."""
    vid = _id(visitor_id, "visitor")
    text = check_text(text, TEXT_MAX)
    async with rt.sessions() as session, session.begin():
        visitor = await session.get(Visitor, vid)
        if visitor is None or visitor.site_id not in await queries.operator_site_ids(session, operator):
            raise not_found("visitor")
        site = await session.get(Site, visitor.site_id)
        op = await session.get(Operator, operator.id)
        m = ManualInvitation(site_id=visitor.site_id, visitor_id=vid, operator_id=operator.id, text=text,
                             created_at=rt.clock())
        session.add(m)
        await session.flush()
        out = manual_json(m, op, site)  # type: ignore[arg-type]
    await rt.publish(Event(ev.INVITATION_SENT, visitor.site_id, {"invitation": out}, visitor_id=vid,
                           operator_id=operator.id))
    return {"invitation": out}


# --- accepting: the visitor's first message starts a proactive conversation ----------------------

async def _start_proactive(rt: Runtime, visitor: VisitorRef, invite: dict) -> None:
    """Open the visitor's conversation marked as started from the invitation (when it has none
    with messages yet) and record the acceptance. An invitation that is not this visitor's
    (another site's rule, a disabled rule, another visitor's manual one) is ignored."""
    now = rt.clock()
    async with rt.sessions() as session:
        rule_id, name, manual = None, "", None
        if any(isinstance(v, int) and v > DB_ID_MAX for v in invite.values()):
            return
        if invite.get("rule_id"):
            rule = await session.get(InvitationRule, invite["rule_id"])
            if rule is None or rule.site_id != visitor.site_id:
                return
            rule_id, name = rule.id, rule.name
        elif invite.get("manual_id"):
            manual = await session.get(ManualInvitation, invite["manual_id"])
            if manual is None or manual.visitor_id != visitor.id:
                return
        else:
            return
        conv = await queries.find_open(session, visitor.id)
        if conv is not None and conv.last_seq > 0:
            return  # already talking: not started by this invitation
        if conv is None:
            conv = Conversation(site_id=visitor.site_id, visitor_id=visitor.id, created_at=now)
            session.add(conv)
        conv.origin, conv.invitation_rule_id, conv.invitation_name = "proactive", rule_id, name
        if rule_id is not None:
            session.add(InvitationEvent(rule_id=rule_id, visitor_id=visitor.id, kind="accepted", at=now))
        elif manual is not None:
            manual.accepted_at = manual.accepted_at or now
        try:
            await session.commit()
        except IntegrityError:  # another tab opened the conversation first: it is not marked
            await session.rollback()


async def send_invited_message(rt: Runtime, visitor: VisitorRef, client_id: object, text: object,
                               conversation_hint: int | None, invite: dict | None, profanity: str = "off") -> dict:
    """A visitor message (``message.send``); with ``invite`` ({rule_id} or {manual_id}) and no
    conversation yet, the conversation it opens is marked proactive."""
    if invite and conversation_hint is None:
        await _start_proactive(rt, visitor, invite)
    return await conversations.send_visitor_message(rt, visitor, client_id, text, conversation_hint,
                                                    profanity=profanity)
