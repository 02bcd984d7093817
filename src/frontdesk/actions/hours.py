"""Working hours and availability.

A site is **available** when an operator of it is online *and* it is within the
site's working hours (``Site.hours``; ``None`` = 24×7). The widget shows the live
chat when available, the offline form otherwise, and tells when the site opens
next (``next_open_at``).
"""
from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk import events as ev
from frontdesk.actions import queries
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef
from frontdesk.actions.validate import check_id
from frontdesk.events import Event
from frontdesk.models import Site
from frontdesk.serialize import iso

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

log = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")
MAX_INTERVALS_PER_DAY = 8


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


def next_open_at(hours: dict | None, now: datetime) -> datetime | None:
    """When the working hours next begin after ``now`` (aware, UTC), or None: always open
    (no hours), open right now, or never open (no intervals at all)."""
    if not hours or within_hours(hours, now):
        return None
    try:
        tz = ZoneInfo(hours["timezone"])
    except (ZoneInfoNotFoundError, KeyError, ValueError, OSError):
        return None
    days = hours.get("days", {})
    local = now.astimezone(tz)
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        for start, _end in days.get(DAYS[day.weekday()], []):
            minutes = _minutes(start)
            candidate = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=tz)
            if candidate > local:
                return candidate.astimezone(UTC)
    return None


def availability(online: bool, hours: dict | None, now: datetime) -> dict:
    """``{"operators_online", "within_hours", "available", "next_open_at"}`` (docs/protocol.md § Availability)."""
    within = within_hours(hours, now)
    return {"operators_online": online, "within_hours": within, "available": online and within,
            "next_open_at": iso(next_open_at(hours, now))}


async def site_availability(session: AsyncSession, site: Site, now: datetime) -> dict:
    """The availability of one site at ``now``."""
    online = (await queries.sites_online(session, {site.id}))[site.id]
    return availability(online, site.hours, now)


async def availability_events(rt: Runtime, online_by_site: dict[int, bool]) -> list[Event]:
    """``site.availability`` events for sites whose operators_online just changed (called by
    ``operators.set_status`` after its commit)."""
    if not online_by_site:
        return []
    now = rt.clock()
    async with rt.sessions() as session:
        rows = (await session.execute(select(Site.id, Site.hours).where(Site.id.in_(list(online_by_site))))).all()
    return [Event(ev.SITE_AVAILABILITY, site_id, availability(online_by_site[site_id], hours, now))
            for site_id, hours in rows]


async def get_site_hours(rt: Runtime, operator: OperatorRef, site_id: object) -> dict:
    """A site's working hours and its availability now (any operator of the site)."""
    now = rt.clock()
    async with rt.sessions() as session:
        site = await _operator_site(session, operator, site_id)
        return {"site_id": site.id, "hours": site.hours, "availability": await site_availability(session, site, now)}


async def _operator_site(session: AsyncSession, operator: OperatorRef, site_id: object) -> Site:
    sid = check_id(site_id, "site")
    if sid not in await queries.operator_site_ids(session, operator):
        raise not_found("site")
    site = await session.get(Site, sid)
    if site is None:
        raise not_found("site")
    return site


async def set_site_hours(rt: Runtime, site_id: object, hours: object) -> dict:
    """Admin: replace a site's working hours; tells the site's visitors their availability."""
    site_id = check_id(site_id, "site")
    hours = check_hours(hours)
    now = rt.clock()
    async with rt.sessions() as session:
        async with session.begin():
            site = await session.get(Site, site_id)
            if site is None:
                raise not_found("site")
            site.hours = hours
        now_available = await site_availability(session, site, now)
    await rt.publish(Event(ev.SITE_AVAILABILITY, site_id, now_available))
    return {"site_id": site_id, "hours": hours, "availability": now_available}


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

    async def tick(self, rt: Runtime, now: datetime) -> list[Event]:
        before, self.last_tick = self.last_tick, now
        if before is None:
            return []
        async with rt.sessions() as session:
            sites = (await session.execute(select(Site).where(Site.hours.is_not(None)))).scalars().all()
            changed = [site for site in sites if within_hours(site.hours, before) != within_hours(site.hours, now)]
            return [Event(ev.SITE_AVAILABILITY, site.id, await site_availability(session, site, now))
                    for site in changed]


