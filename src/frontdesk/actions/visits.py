"""Visits and page views (docs/visitor-context.md): the loader's page-view reports, the visitor's
context for the panel, and the list of visitors on the operator's sites now.

A visit is the page views of one visitor with less than ``VISIT_GAP`` between them. Its source,
device and location are decided once, when it starts (``context.sources`` / ``useragent`` /
``geoip``); the IP is stored as ``FRONTDESK_STORE_IP`` allows, after the location lookup.
A visitor is "on the site now" while its latest visit is open (a page view within ``VISIT_GAP``).
"""
from __future__ import annotations

import asyncio
import logging
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import func, insert, select

from frontdesk import events as ev
from frontdesk import serialize
from frontdesk.actions import queries
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef, SiteRef
from frontdesk.actions.validate import (
    check_id,
    check_phone,
    check_visitor_email,
    check_visitor_name,
    clip,
    has_control,
    well_formed,
)
from frontdesk.actions.visitors import latest_visit as _latest_visit
from frontdesk.actions.visitors import token_hash, visitor_row
from frontdesk.context import sources, useragent
from frontdesk.context.geoip import GeoIP, store_ip
from frontdesk.events import Event
from frontdesk.models import Conversation, OperatorCardFields, PageView, Visit, Visitor

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

log = logging.getLogger(__name__)

VISIT_GAP = timedelta(minutes=30)
MAX_VIEWS_PER_REPORT = 20      # the loader's offline queue holds at most this many
MAX_AGO_MS = 24 * 3600 * 1000  # a queued view older than a day is dated a day ago
ONLINE_LIMIT = 5000            # rows of the visitors list
PAGES_LIMIT = 200              # pages of one visit in the visitor's context
CONVERSATIONS_LIMIT = 20


# window.frontdesk.setUser({name, email, phone, ...}) (docs/visitor-context.md "Custom fields"):
# name/e-mail/phone go to the visitor's own columns, every other key is a custom field.
USER_STANDARD = ("name", "email", "phone")
MAX_USER_FIELDS = 20       # custom keys kept per visitor (after merging with what it had)
MAX_FIELD_KEY = 40         # code points of a key
MAX_FIELD_VALUE = 500      # code points of a value
# a key: a letter or digit (any script), then letters, digits, "_", "-", "." — it becomes the
# card row's data-testid ``visitor-field-<key>`` and a name in the operator's field order
FIELD_KEY_RE = re.compile(r"[^\W_][\w.-]*")
# keys of the card's own rows (static/panel/js/workplace.js, visitors.js): not custom field names
RESERVED_KEYS = frozenset(("page", "source", "location", "device", "visits", "time-on-site", "first-seen",
                           "started", "language", "site", "referrer", "browser", "current-page", "pages"))


def check_user_fields(user: object) -> tuple[dict[str, str], dict[str, str | None]]:
    """The ``user`` of a page-view report: ``({name?, email?, phone?}, {custom key: text or None})``.
    Standard fields are checked as the contacts form checks them (``invalid_name`` /
    ``invalid_email`` / ``invalid_phone``; null or "" = not given); a custom value is a one-line
    string, a finite number or a boolean (kept as text), null removes the key. Everything else,
    and keys or values that are too long, too many, reserved or not well-formed Unicode, is
    ``invalid_field`` naming the key."""
    if not isinstance(user, dict):
        raise ActionError("invalid_field", "user must be an object of fields")
    standard: dict[str, str] = {}
    custom: dict[str, str | None] = {}
    if len(user) > MAX_USER_FIELDS + len(USER_STANDARD):
        raise ActionError("invalid_field", f"at most {MAX_USER_FIELDS} custom fields")
    for key, value in user.items():
        if not isinstance(key, str) or not well_formed(key):
            raise ActionError("invalid_field", "a field name must be well-formed text")
        if key in USER_STANDARD:
            if value is None or value == "":
                continue
            standard[key] = {"name": check_visitor_name, "email": check_visitor_email, "phone": check_phone}[key](value)
            continue
        shown = key[:MAX_FIELD_KEY]
        if len(key) > MAX_FIELD_KEY or not FIELD_KEY_RE.fullmatch(key):
            raise ActionError("invalid_field", f"field name {shown!r}: 1-{MAX_FIELD_KEY} letters, digits, "
                                               "'_', '-' or '.', starting with a letter or digit")
        if key.lower() in RESERVED_KEYS:
            raise ActionError("invalid_field", f"field name {key!r} is reserved")
        if value is None:
            custom[key] = None
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = str(value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ActionError("invalid_field", f"field {key!r}: a number must be finite")
            text = repr(value)
        elif isinstance(value, str):
            text = value
        else:
            raise ActionError("invalid_field", f"field {key!r}: a value is text, a number, a boolean or null")
        if not well_formed(text) or has_control(text):
            raise ActionError("invalid_field", f"field {key!r}: one line of well-formed text")
        text = " ".join(text.split())
        if len(text) > MAX_FIELD_VALUE:
            raise ActionError("invalid_field", f"field {key!r}: at most {MAX_FIELD_VALUE} characters")
        custom[key] = text
    return standard, custom


def merge_fields(old: dict | None, custom: dict[str, str | None]) -> dict[str, str]:
    """The visitor's custom fields after a setUser: new values win, None removes; at most
    MAX_USER_FIELDS keys (``invalid_field`` past that)."""
    merged = {k: v for k, v in (old or {}).items() if isinstance(k, str) and isinstance(v, str)}
    for key, value in custom.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > MAX_USER_FIELDS:
        raise ActionError("invalid_field", f"at most {MAX_USER_FIELDS} custom fields per visitor")
    return merged


def check_page_views(views: object, *, allow_empty: bool = False) -> list[dict]:
    """``[{url, title?, referrer?, ago?}]`` (oldest first; ``ago`` = ms since the view, for views
    queued offline): 1..MAX_VIEWS_PER_REPORT views, each with an http(s) URL (0 allowed when the
    report carries ``user`` fields only)."""
    if not isinstance(views, list) or not (0 if allow_empty else 1) <= len(views) <= MAX_VIEWS_PER_REPORT:
        raise ActionError("invalid_input", f"views must be a list of 1-{MAX_VIEWS_PER_REPORT} page views")
    out = []
    for view in views:
        if not isinstance(view, dict):
            raise ActionError("invalid_input", "a page view must be an object")
        url = clip(view.get("url"), 2048)
        if not url.lower().startswith(("http://", "https://")):
            raise ActionError("invalid_input", "a page view needs an http(s) url")
        ago = view.get("ago", 0)
        ago = int(ago) if isinstance(ago, int | float) and not isinstance(ago, bool) and ago == ago else 0
        out.append({"url": url, "title": clip(view.get("title"), 500), "referrer": clip(view.get("referrer"), 2048),
                    "ago": min(max(ago, 0), MAX_AGO_MS)})
    return out


def site_hosts(site: SiteRef) -> list[str]:
    """The site's own hosts (its allowed origins): a referrer from them is internal navigation."""
    hosts = []
    for origin in site.allowed_origins:
        try:
            host = urlsplit(origin).hostname
        except ValueError:
            host = None
        if host:
            hosts.append(host)
    return hosts


def _labelled(data: dict[str, Any], text_ru: str, text_en: str) -> dict[str, Any]:
    return {**data, "label": {"ru": text_ru, "en": text_en}}


def describe_client(geo: GeoIP, user_agent: str, ip: str, mode: str) -> tuple[dict, dict, str]:
    """Device and location of a new visit, and the IP to store (blocking: run in a thread —
    the first UA parse and GeoIP lookup may load their data)."""
    info = useragent.parse_user_agent(user_agent)
    location = geo.lookup(ip)
    loc = location.to_dict()
    loc.pop("ip", None)  # the address itself is stored only as the setting allows
    return (_labelled(info.to_dict(), info.label("ru"), info.label("en")),
            _labelled(loc, location.label("ru"), location.label("en")),
            store_ip(ip, mode) or "")


def describe_source(landing: str, referrer: str, hosts: list[str]) -> dict:
    src = sources.classify(landing, referrer, hosts)
    return _labelled(src.to_dict(), sources.label(src, "ru"), sources.label(src, "en"))


class _NeedClient(Exception):
    """A visit starts in this report: its device and location must be worked out first."""


@dataclass(eq=False)
class _Report:
    site: SiteRef
    token: str | None
    views: list[dict]
    standard: dict[str, str]
    custom: dict[str, str | None]
    user_agent: str
    ip: str
    hosts: list[str]
    now: datetime
    client: tuple[dict, dict, str] | None
    future: asyncio.Future = field(default=None)  # type: ignore[arg-type]  # set when it is stored


async def record_page_views(rt: Runtime, site: SiteRef, token: object, views: object, *,
                            user_agent: str = "", ip: str = "", user: object = None) -> dict:
    """The loader reports page views (``POST /api/v1/widget/pageviews``), and the fields the site
    gave with ``window.frontdesk.setUser`` (``user``; then ``views`` may be empty). Without a token
    a new visitor is created and its token returned (``visitor_token``); an unknown token is
    ``unauthorized`` (the loader drops it and reports again without one). Publishes
    ``visitor.updated`` to the site's operators, and ``conversation.updated`` when the fields of a
    visitor with an open conversation changed (its name in the panel).

    Reports are stored in batches (``PageViewWriter``: one transaction for every report that
    came meanwhile) when the runtime has the writer, else one by one."""
    standard, custom = check_user_fields(user) if user is not None else ({}, {})
    checked = check_page_views(views, allow_empty=user is not None)
    if token is not None and (not isinstance(token, str) or not 16 <= len(token) <= 128 or not token.isascii()):
        raise ActionError("unauthorized", "unknown visitor", 401)
    report = _Report(site, token, checked, standard, custom, clip(user_agent, 500), clip(ip, 64), site_hosts(site),
                     rt.clock(), None)
    while True:
        try:
            if rt.page_views is not None:
                row, new_token, conv_event, facts = await rt.page_views.store(report)
            else:
                report.future = asyncio.get_running_loop().create_future()
                await _store_batch(rt, [report])
                row, new_token, conv_event, facts = report.future.result()
            break
        except _NeedClient:
            # device and location are needed only when a visit starts: worked out then, in a thread,
            # outside the transaction (the first lookup loads data), and the report stored again
            report.client = await asyncio.to_thread(describe_client, rt.geoip, report.user_agent, report.ip,
                                                    rt.settings.store_ip)
    await rt.publish(Event(ev.VISITOR_UPDATED, site.id, {"visitor": row}, visitor_id=row["id"]))
    if conv_event is not None:
        await rt.publish(conv_event)
    return {"visitor_token": new_token, "visitor_id": row["id"], "visit": row["visit"]["number"] if row["visit"] else 0,
            "context": facts}


def _starts_visit(visit: Visit | None, views: list[dict], now: datetime) -> bool:
    last = visit.last_seen_at if visit is not None else None
    for view in views:
        at = now - timedelta(milliseconds=view["ago"])
        if last is None or max(at, last) - last > VISIT_GAP:
            return True
        last = max(at, last)
    return False


async def _store_batch(rt: Runtime, reports: list[_Report]) -> None:
    """Store reports in **one** transaction: three look-ups for the whole batch (visitors by
    token, their latest visits, their open conversations), then the new visitors, the new visits
    and the page views each in one multi-row INSERT, one commit. A report refused on its own
    (unknown token, too many fields, a visit starting without device data) gets its error and
    changes nothing; a failure of the batch itself fails every report still pending (the caller,
    ``PageViewWriter``, then stores them one by one)."""
    async with rt.sessions() as session:
        async with session.begin():
            hashes = {token_hash(r.token) for r in reports if r.token is not None}
            known: dict[tuple[int, str], Visitor] = {}
            if hashes:
                for v in (await session.execute(select(Visitor).where(Visitor.token_hash.in_(hashes)))).scalars():
                    known[(v.site_id, v.token_hash)] = v
            ids = [v.id for v in known.values()]
            latest: dict[int, Visit] = {}
            open_convs: dict[int, Conversation] = {}
            if ids:
                newest = select(Visit.visitor_id, func.max(Visit.started_at).label("at")).where(
                    Visit.visitor_id.in_(ids)).group_by(Visit.visitor_id).subquery()
                on = (Visit.visitor_id == newest.c.visitor_id) & (Visit.started_at == newest.c.at)
                for found_visit in (await session.execute(select(Visit).join(newest, on))).scalars():
                    old = latest.get(found_visit.visitor_id)
                    if old is None or found_visit.id > old.id:
                        latest[found_visit.visitor_id] = found_visit
                for open_conv in (await session.execute(select(Conversation).where(
                        Conversation.visitor_id.in_(ids), Conversation.status == "open"))).scalars():
                    open_convs[open_conv.visitor_id] = open_conv
            # each report: refused on its own, or its visitor (new ones added now)
            accepted: list[tuple[_Report, Visitor, str | None]] = []
            for r in reports:
                try:
                    new_token = None
                    if r.token is None:
                        if r.views and r.client is None:
                            raise _NeedClient
                        new_token = secrets.token_hex(32)
                        stored_ip = r.client[2] if r.client else store_ip(r.ip, rt.settings.store_ip) or ""
                        visitor = Visitor(site_id=r.site.id, token_hash=token_hash(new_token), first_seen_at=r.now,
                                          last_seen_at=r.now, visit_count=0, user_agent=r.user_agent, ip=stored_ip,
                                          fields={})
                        session.add(visitor)
                    else:
                        found = known.get((r.site.id, token_hash(r.token)))
                        if found is None:
                            raise ActionError("unauthorized", "unknown visitor", 401)
                        visitor = found
                        if r.client is None and _starts_visit(latest.get(visitor.id), r.views, r.now):
                            raise _NeedClient
                    if r.custom:
                        merge_fields(visitor.fields, r.custom)  # refused before anything changes
                    accepted.append((r, visitor, new_token))
                except (ActionError, _NeedClient) as exc:
                    if not r.future.done():
                        r.future.set_exception(exc)
            await session.flush()  # the new visitors' ids
            # visits and page views; a new visit is flushed when it starts (its id)
            pending_views: list[tuple[Visit, datetime, dict]] = []
            new_visits = False
            for r, visitor, _ in accepted:
                device, location, stored_ip = r.client if r.client else \
                    ({}, {}, store_ip(r.ip, rt.settings.store_ip) or "")
                visit: Visit | None = latest.get(visitor.id)
                for view in r.views:
                    at: datetime = r.now - timedelta(milliseconds=view["ago"])
                    if visit is not None:
                        at = max(at, visit.last_seen_at)  # never before the visit's last view
                    if visit is None or at - visit.last_seen_at > VISIT_GAP:
                        visitor.visit_count = (visitor.visit_count or 0) + 1
                        visit = Visit(site_id=r.site.id, visitor_id=visitor.id, number=visitor.visit_count,
                                      started_at=at, last_seen_at=at, page_count=0, landing_url=view["url"],
                                      referrer=view["referrer"],
                                      source=describe_source(view["url"], view["referrer"], r.hosts), device=device,
                                      location=location, ip=stored_ip)
                        session.add(visit)
                        new_visits = True
                    visit.page_count += 1
                    visit.last_seen_at = at
                    pending_views.append((visit, at, view))
                if visit is not None:
                    latest[visitor.id] = visit
                if r.views:
                    last = r.views[-1]
                    visitor.page_url, visitor.page_title = last["url"], last["title"]
                    visitor.last_seen_at = max(visitor.last_seen_at or r.now, r.now)
                    if not visitor.referrer and visit is not None and visit.referrer:
                        visitor.referrer = visit.referrer
                    if r.user_agent:
                        visitor.user_agent = r.user_agent
                    visitor.ip = stored_ip
            if new_visits:
                await session.flush()  # the new visits' ids
            if pending_views:
                await session.execute(insert(PageView), [
                    {"visit_id": visit.id, "visitor_id": visit.visitor_id, "url": view["url"], "title": view["title"],
                     "referrer": view["referrer"], "viewed_at": at} for visit, at, view in pending_views])
            results = []
            for r, visitor, new_token in accepted:
                changed = False
                for key, value in r.standard.items():
                    if getattr(visitor, key) != value:
                        setattr(visitor, key, value)
                        changed = True
                if r.custom:
                    merged = merge_fields(visitor.fields, r.custom)
                    if merged != (visitor.fields or {}):
                        visitor.fields = merged
                        changed = True
                conv = open_convs.get(visitor.id)
                conv_event = None
                if changed and conv is not None and conv.last_seq > 0:
                    await session.flush()
                    conv_event = await queries.updated_event(session, conv)
                visit = latest.get(visitor.id)
                # what the widget's invitation rules look at (static/widget/invite.js)
                facts = None if visit is None else {
                    "visit_number": visit.number, "visit_started_at": serialize.iso(visit.started_at),
                    "pages": visit.page_count, "source": visit.source.get("kind", "direct"),
                    "utm": visit.source.get("utm") or {}, "country": visit.location.get("country_code", ""),
                    "device": visit.device.get("device_type", "unknown"),
                    "chatting": conv is not None and conv.last_seq > 0}
                results.append((r, visitor_row(visitor, visit, conv.id if conv is not None else None),
                                new_token, conv_event, facts))
    for r, row, new_token, conv_event, facts in results:
        if not r.future.done():
            r.future.set_result((row, new_token, conv_event, facts))


class PageViewWriter:
    """Page-view reports of this node, stored in batches (group commit, like the message writer):
    every report that arrived while the previous batch was being stored goes into the next one.
    A batch that fails is stored again report by report, so each gets its own answer."""

    def __init__(self, runtime: Runtime, batch_max: int = 256) -> None:
        self._rt = runtime
        self._batch_max = batch_max
        self._queue: asyncio.Queue[_Report] = asyncio.Queue()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="page-view-writer")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        while not self._queue.empty():
            r = self._queue.get_nowait()
            if not r.future.done():
                r.future.set_exception(ActionError("internal", "the server is stopping", 503))

    async def store(self, report: _Report) -> tuple[dict, str | None, Event | None, dict | None]:
        report.future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(report)
        return await report.future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await _store_batch(self._rt, batch)
            except asyncio.CancelledError:
                for r in batch:
                    if not r.future.done():
                        r.future.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - the writer must survive anything
                pending = [r for r in batch if not r.future.done()]
                if len(pending) > 1:
                    log.info("page-view batch of %d failed (%s); storing one by one", len(pending), type(exc).__name__)
                for r in pending:
                    try:
                        await _store_batch(self._rt, [r])
                    except asyncio.CancelledError:
                        raise
                    except Exception as one:  # noqa: BLE001
                        if not r.future.done():
                            r.future.set_exception(one)


async def online_visitors(rt: Runtime, operator: OperatorRef) -> dict:
    """Visitors of the operator's sites whose visit is open now, the latest first."""
    now = rt.clock()
    async with rt.sessions() as session:
        q = select(Visit).where(Visit.last_seen_at >= now - VISIT_GAP)
        if not operator.is_admin:
            q = q.where(Visit.site_id.in_(await queries.operator_site_ids(session, operator)))
        visits = list((await session.execute(q.order_by(Visit.last_seen_at.desc()).limit(ONLINE_LIMIT))).scalars())
        latest: dict[int, Visit] = {}
        for v in visits:
            if v.visitor_id not in latest or v.started_at > latest[v.visitor_id].started_at:
                latest[v.visitor_id] = v
        ids = list(latest)
        visitors = {v.id: v for v in (await session.execute(select(Visitor).where(Visitor.id.in_(ids)))).scalars()} \
            if ids else {}
        open_convs: dict[int, int] = {}
        if ids:
            found = await session.execute(select(Conversation.visitor_id, Conversation.id).where(
                Conversation.visitor_id.in_(ids), Conversation.status == "open", Conversation.last_seq > 0))
            open_convs = {vid: cid for vid, cid in found.all()}
    rows = [visitor_row(visitors[vid], visit, open_convs.get(vid)) for vid, visit in latest.items() if vid in visitors]
    return {"visitors": rows, "visit_gap_seconds": int(VISIT_GAP.total_seconds()), "now": serialize.iso(now)}


async def visitor_context(rt: Runtime, operator: OperatorRef, visitor_id: object) -> dict:
    """What the panel shows beside the dialog: this visit (source, device, location, its pages in
    order with time on each), the number of visits, first visit, returning or new, and the
    visitor's conversations (newest first, CONVERSATION shapes)."""
    vid = check_id(visitor_id)
    async with rt.sessions() as session:
        visitor = await session.get(Visitor, vid)
        if visitor is None or visitor.site_id not in await queries.operator_site_ids(session, operator):
            raise not_found("visitor")
        visit = await _latest_visit(session, vid)
        pages: list[dict] = []
        if visit is not None:
            views = list((await session.execute(
                select(PageView).where(PageView.visit_id == visit.id)
                .order_by(PageView.viewed_at, PageView.id).limit(PAGES_LIMIT))).scalars())
            for i, pv in enumerate(views):
                nxt = views[i + 1].viewed_at if i + 1 < len(views) else None
                pages.append({"url": pv.url, "title": pv.title, "viewed_at": serialize.iso(pv.viewed_at),
                              "seconds": None if nxt is None else int((nxt - pv.viewed_at).total_seconds())})
        first_visit = (await session.execute(select(func.min(Visit.started_at)).where(
            Visit.visitor_id == vid))).scalar_one_or_none()
        convs = list((await session.execute(select(Conversation).where(
            Conversation.visitor_id == vid, Conversation.last_seq > 0)
            .order_by(Conversation.id.desc()).limit(CONVERSATIONS_LIMIT))).scalars())
        conversations = await queries.load_conversations(session, convs)
        open_id = next((c.id for c in convs if c.status == "open"), None)
        row = visitor_row(visitor, visit, open_id)
    details = None
    if visit is not None:
        src = visit.source
        details = {
            "source": {k: src.get(k) for k in ("kind", "label", "name", "name_en", "search_phrase", "utm", "click_ids",
                                                "referrer_host", "decoded_referrer", "decoded_landing")},
            "device": visit.device, "location": visit.location, "ip": visit.ip,
            "online": rt.clock() - visit.last_seen_at <= VISIT_GAP,
        }
    return {"visitor": row, "visit": details, "pages": pages,
            "first_visit_at": serialize.iso(first_visit or visitor.first_seen_at),
            "returning": (visitor.visit_count or 0) > 1, "conversations": conversations,
            "now": serialize.iso(rt.clock())}


# The fields of the visitor card an operator may order and hide (static/panel/js/visitors.js).
CARD_FIELDS = ("name", "email", "phone", "page", "source", "location", "device", "visits", "time-on-site",
               "first-seen", "started", "language", "site")


MAX_CARD_FIELDS = len(CARD_FIELDS) + 3 * MAX_USER_FIELDS  # built-in fields and the site's custom ones


def is_card_field(name: object) -> bool:
    """A built-in field of the card, or a custom field's name (``check_user_fields`` keys)."""
    return isinstance(name, str) and (name in CARD_FIELDS or (
        len(name) <= MAX_FIELD_KEY and well_formed(name) and FIELD_KEY_RE.fullmatch(name) is not None
        and name.lower() not in RESERVED_KEYS))


def check_card_fields(order: object, hidden: object) -> tuple[list[str], list[str]]:
    def names(value: object, what: str) -> list[str]:
        if not isinstance(value, list) or len(value) > MAX_CARD_FIELDS \
                or any(not is_card_field(n) for n in value) or len(set(value)) != len(value):
            raise ActionError("invalid_input", f"{what} must be a list of at most {MAX_CARD_FIELDS} distinct fields: "
                                               f"{', '.join(CARD_FIELDS)} or the site's custom field names")
        return list(value)
    return names(order, "order"), names(hidden, "hidden")


async def card_fields(rt: Runtime, operator: OperatorRef) -> dict:
    """The operator's choice of visitor fields: ``{"fields": [...all built-in ones and the custom ones
    it placed, in its order], "hidden": [...]}``."""
    async with rt.sessions() as session:
        row = await session.get(OperatorCardFields, operator.id)
    order = [n for n in (row.order if row is not None else []) if is_card_field(n)]
    order += [n for n in CARD_FIELDS if n not in order]
    return {"fields": order, "hidden": [n for n in (row.hidden if row is not None else []) if is_card_field(n)]}


async def set_card_fields(rt: Runtime, operator: OperatorRef, order: object, hidden: object) -> dict:
    order_, hidden_ = check_card_fields(order, hidden)
    async with rt.sessions() as session, session.begin():
        row = await session.get(OperatorCardFields, operator.id)
        if row is None:
            session.add(OperatorCardFields(operator_id=operator.id, order=order_, hidden=hidden_))
        else:
            row.order, row.hidden = order_, hidden_
    return await card_fields(rt, operator)
