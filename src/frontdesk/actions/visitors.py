"""Visitors: identify by token (or create), page changes, the widget's view of its site."""
from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from frontdesk import events as ev
from frontdesk import serialize
from frontdesk.actions import hours, queries
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import SiteRef, VisitorRef
from frontdesk.actions.sites import public_widget
from frontdesk.actions.validate import clip
from frontdesk.context.geoip import store_ip
from frontdesk.events import Event
from frontdesk.models import Visit, Visitor

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime


# What a banned visitor is told: neutral, the same for every kind of ban (docs/moderation.md).
BANNED_MESSAGE = "the chat is not available"


def check_not_banned(rt: Runtime, site_id: int, visitor_id: int | None, ip: str | None) -> None:
    """Refuse (``banned``, 403) a visitor or an address an active ban of the site covers.
    From this node's ban index (``rt.cache.bans``): no database read."""
    if rt.cache.bans.match(site_id, visitor_id, ip, rt.clock()) is not None:
        raise ActionError("banned", BANNED_MESSAGE, 403)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def site_for_widget(rt: Runtime, site_key: object, origin: str | None) -> SiteRef:
    """The site of a widget request: ``not_found`` for an unknown key, ``forbidden`` for an Origin
    the site does not allow. From this node's cache when it can (``Runtime.cache``)."""
    cache = rt.cache
    ref = cache.get(cache.sites_by_key, site_key) if isinstance(site_key, str) else None
    if not isinstance(ref, SiteRef):
        generation = cache.generation
        async with rt.sessions() as session:
            site = await queries.site_by_key(session, site_key)
        if site is None:
            raise ActionError("not_found", "unknown site", 404)
        ref = SiteRef.of(site)
        cache.put(cache.sites_by_key, site_key, ref, generation)
    if not ref.origin_allowed(origin):
        raise ActionError("forbidden", "origin not allowed for this site", 403)
    return ref


async def widget_config(rt: Runtime, site: SiteRef) -> dict:
    """``GET /widget/config``: settings, texts and availability (with ``next_open_at``)."""
    return {"site": {"name": site.name}, "widget": public_widget(site.widget),
            **hours.availability(await site_online(rt, site.id), site.hours, rt.clock()),
            "max_message_chars": rt.settings.max_message_chars}


async def availability(rt: Runtime, site: SiteRef) -> dict:
    return hours.availability(await site_online(rt, site.id), site.hours, rt.clock())


async def site_online(rt: Runtime, site_id: int) -> bool:
    """Is an operator of the site online? From this node's cache when it can."""
    cache = rt.cache
    online = cache.get(cache.online, site_id)
    if isinstance(online, bool):
        return online
    generation = cache.generation
    async with rt.sessions() as session:
        online = (await queries.sites_online(session, {site_id}))[site_id]
    cache.put(cache.online, site_id, online, generation)
    return online


async def identify_visitor(rt: Runtime, site: SiteRef, token: object, *, page: dict | None = None,
                           user_agent: str = "", ip: str = "", lang: object = "") -> tuple[VisitorRef, str]:
    """The visitor holding ``token`` on ``site``, or a new visitor when token is None; records
    where it is now (page, user agent, address, language).

    A token that is not a visitor **of this site** is refused (``unauthorized``):
    the client must drop it and connect again without one.

    A returning visitor whose page, user agent, address and language are unchanged (a reconnect)
    costs one read: its ``last_seen_at`` is queued to the writer (``MessageWriter.touch``).
    """
    page = page or {}
    now = rt.clock()
    user_agent = clip(user_agent, 500)
    ip = store_ip(clip(ip, 64), rt.settings.store_ip) or ""  # compared and stored as it is kept
    language = clip(lang, 16) if lang else None
    url = clip(page.get("url"), 2048) if page.get("url") else None
    if token is not None:
        async with rt.sessions() as session:
            known = await _by_token(session, site, token)
        if (known.user_agent == user_agent and known.ip == ip and language in (None, known.language)
                and (url is None or (known.page_url == url and known.page_title == clip(page.get("title"), 500)
                                     and (known.referrer or not page.get("referrer"))))):
            rt.writer.touch(known.id, now)
            assert isinstance(token, str)
            return VisitorRef.of(known), token
    async with rt.sessions() as session:
        async with session.begin():
            if token is None:
                token = secrets.token_hex(32)  # 256 bits
                visitor = Visitor(site_id=site.id, token_hash=token_hash(token), first_seen_at=now)
                session.add(visitor)
            else:
                visitor = await _by_token(session, site, token)
            visitor.last_seen_at = now
            visitor.user_agent = user_agent
            visitor.ip = ip
            if language:
                visitor.language = language
            if url:
                visitor.page_url = url
                visitor.page_title = clip(page.get("title"), 500)
                if page.get("referrer") and not visitor.referrer:
                    visitor.referrer = clip(page.get("referrer"), 2048)
    assert isinstance(token, str)
    return VisitorRef.of(visitor), token


async def visitor_by_token(rt: Runtime, site: SiteRef, token: object) -> VisitorRef:
    """Read-only: the visitor holding ``token`` (history reads must not touch the visitor row)."""
    async with rt.sessions() as session:
        return VisitorRef.of(await _by_token(session, site, token))


async def _by_token(session, site: SiteRef, token: object) -> Visitor:  # noqa: ANN001
    if not isinstance(token, str) or not 16 <= len(token) <= 128 or not token.isascii():
        raise ActionError("unauthorized", "unknown visitor", 401)
    visitor = (await session.execute(select(Visitor).where(
        Visitor.token_hash == token_hash(token), Visitor.site_id == site.id))).scalar_one_or_none()
    if visitor is None:
        raise ActionError("unauthorized", "unknown visitor", 401)
    return visitor


row_by_token = _by_token  # for actions.visits, inside its transaction


async def record_page(rt: Runtime, visitor: VisitorRef, url: str, title: str | None) -> None:
    """The visitor moved to another page: operators with its conversation open see it."""
    url, title = clip(url, 2048), clip(title, 500)
    if not url:
        raise ActionError("invalid_frame", "page needs url")
    async with rt.sessions() as session:
        async with session.begin():
            v = await session.get(Visitor, visitor.id)
            assert v is not None
            v.page_url, v.page_title, v.last_seen_at = url, title, rt.clock()
            conv = await queries.find_open(session, visitor.id)
        event = await queries.updated_event(session, conv) if conv is not None and conv.last_seq > 0 else None
    if event is not None:
        await rt.publish(event)


# --- the visitors list's row (actions/visits.py builds on it) -------------------------------------

def visitor_row(visitor: Visitor, visit: Visit | None, conversation_id: int | None) -> dict:
    """One line of the visitors list (VISITOR_ONLINE in docs/protocol.md)."""
    out: dict[str, Any] = {
        "id": visitor.id, "site_id": visitor.site_id, "name": visitor.name, "email": visitor.email,
        "display_name": serialize.display_name(visitor),
        "page_url": visitor.page_url, "page_title": visitor.page_title,
        "visits": visitor.visit_count, "first_seen_at": serialize.iso(visitor.first_seen_at),
        "chatting": conversation_id is not None, "conversation_id": conversation_id, "visit": None,
    }
    if visit is not None:
        out["visit"] = {
            "id": visit.id, "number": visit.number, "started_at": serialize.iso(visit.started_at),
            "last_seen_at": serialize.iso(visit.last_seen_at), "page_count": visit.page_count,
            "source": {"kind": visit.source.get("kind", "direct"), "label": visit.source.get("label", {})},
            "device": {"type": visit.device.get("device_type", "unknown"), "label": visit.device.get("label", {})},
            "location": {"country_code": visit.location.get("country_code", ""),
                         "label": visit.location.get("label", {})},
        }
    return out


async def latest_visit(session: Any, visitor_id: int) -> Visit | None:
    return (await session.execute(select(Visit).where(Visit.visitor_id == visitor_id)
                                  .order_by(Visit.started_at.desc(), Visit.id.desc()).limit(1))).scalar_one_or_none()


async def visitor_updated_event(session: Any, visitor_id: int) -> Event | None:
    """``visitor.updated`` with the visitor's row as it is now (after its name, e-mail or fields
    changed: the visitors list names it at once)."""
    visitor = await session.get(Visitor, visitor_id)
    if visitor is None:
        return None
    visit = await latest_visit(session, visitor_id)
    conv = await queries.find_open(session, visitor_id)
    row = visitor_row(visitor, visit, conv.id if conv is not None else None)
    return Event(ev.VISITOR_UPDATED, visitor.site_id, {"visitor": row}, visitor_id=visitor_id)
