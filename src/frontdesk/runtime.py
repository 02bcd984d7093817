"""What every action needs: settings, database sessions, the broker, and the hooks the
serving side gives the domain (local dispatch, presence, task keeping)."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from frontdesk import events as ev
from frontdesk.context.geoip import GeoIP
from frontdesk.events import Event
from frontdesk.models import utcnow
from frontdesk.moderation.bans import Ban, BanSet
from frontdesk.settings import Settings

if TYPE_CHECKING:
    from frontdesk.broker import Broker

log = logging.getLogger(__name__)


class MessageStore(Protocol):
    """What actions ask of the message writer (``actions.writer.MessageWriter``): the runtime names
    only this shape, so it imports nothing of ``actions`` (no import circle, not even for types)."""

    def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def store(self, item: Any) -> dict: ...  # a PendingMessage → the stored message
    def touch(self, visitor_id: int, when: datetime) -> None: ...


class PageViewStore(Protocol):
    """The page-view writer's shape (``actions.visits.PageViewWriter``)."""

    def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def store(self, report: Any) -> tuple[dict, str | None, Event | None, dict | None]: ...


def _spawn(coro: Awaitable[object], name: str = "task") -> asyncio.Task:
    return asyncio.ensure_future(coro)


class NodeCache:
    """What every visitor hello reads and rarely changes, kept in memory on this node: sites by
    key and whether a site has an operator online. Emptied by the events that change them
    (``site.availability``, operator status and access) on every node, and by the actions that
    change a site on this node; entries also expire after ``TTL`` seconds (a site edit made on
    another node publishes no event)."""

    TTL = 5.0
    EVENTS = frozenset({ev.SITE_AVAILABILITY, ev.OPERATOR_STATUS_CHANGED, ev.OPERATOR_ACCESS_CHANGED})

    def __init__(self) -> None:
        self.sites_by_key: dict[str, tuple[float, object]] = {}
        self.online: dict[int, tuple[float, bool]] = {}
        # A reader notes the generation before it reads the database and stores its answer only
        # if nothing was emptied meanwhile (an answer read before a change must not outlive it).
        self.generation = 0
        self.bans = NodeBans()  # not emptied by clear(): changed by ban events and reloads only

    def clear(self) -> None:
        self.generation += 1
        self.sites_by_key.clear()
        self.online.clear()

    def observe(self, event: Event) -> None:
        if event.name in self.EVENTS:
            self.clear()
        self.bans.observe(event)

    def get(self, table: dict, key: object) -> object | None:
        hit = table.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, table: dict, key: object, value: object, generation: int) -> None:
        if generation != self.generation:
            return
        if len(table) > 10_000:
            table.clear()
        table[key] = (time.monotonic() + self.TTL, value)


def ban_of(data: dict) -> Ban:
    """The engine's ban from its JSON shape (``actions.bans.ban_json``, the ``ban.changed`` payload)."""
    def when(value: object) -> datetime | None:
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    created = when(data["created_at"])
    assert created is not None
    return Ban(id=data["id"], kind=data["kind"], value=data["value"], reason=data.get("reason") or "",
               author=(data.get("author") or {}).get("name") or "", created_at=created,
               expires_at=when(data.get("expires_at")), lifted_at=when(data.get("lifted_at")),
               lifted_by=(data.get("lifted_by") or {}).get("name"))


class NodeBans:
    """This node's index of the active bans, one ``BanSet`` per site (docs/moderation.md § Bans).
    Filled at start and every ``FRONTDESK_BAN_REFRESH`` seconds from the database (which also
    drops expired bans and repairs a ``ban.changed`` lost during a broker outage), and changed at
    once by every ``ban.changed`` event on every node. A reload started before an event arrived
    does not overwrite it (the generation check)."""

    def __init__(self) -> None:
        self.by_site: dict[int, BanSet] = {}
        self.generation = 0

    def observe(self, event: Event) -> None:
        if event.name != ev.BAN_CHANGED or event.site_id is None:
            return
        self.generation += 1
        ban = ban_of(event.payload["ban"])
        index = self.by_site.setdefault(event.site_id, BanSet())
        if ban.lifted_at is not None:
            index.remove(ban.id)
        else:
            index.add(ban)

    def replace(self, bans: list[tuple[int, Ban]], generation: int) -> bool:
        if generation != self.generation:
            return False
        by_site: dict[int, BanSet] = {}
        for site_id, ban in bans:
            by_site.setdefault(site_id, BanSet()).add(ban)
        self.by_site = by_site
        return True

    def match(self, site_id: int, visitor_id: int | None, ip: str | None, now: datetime) -> Ban | None:
        index = self.by_site.get(site_id)
        if index is None or not len(index):
            return None
        return index.match(str(visitor_id) if visitor_id else None, ip or None, now)


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: Broker
    writer: MessageStore = field(init=False)
    page_views: PageViewStore | None = None  # app.py starts it; without it reports are stored one by one
    clock: Callable[[], datetime] = field(default=utcnow)  # tests swap in a controllable clock
    # set by the serving side (app.py / actions.background); harmless defaults for scripts
    dispatch_local: Callable[[Event], None] = field(default=lambda event: None)
    operator_connected: Callable[[int], bool] = field(default=lambda operator_id: False)
    operator_gone: Callable[[int], None] = field(default=lambda operator_id: None)
    # this node's open panel tabs per operator (the hub), and the hook told when they change
    operator_tabs: Callable[[], dict[int, int]] = field(default=dict)
    operator_tabs_changed: Callable[[], None] = field(default=lambda: None)
    presence_changed: Callable[[int, str], None] = field(default=lambda operator_id, status: None)
    spawn: Callable[..., asyncio.Task] = field(default=_spawn)
    # automatic routing (actions/routing.Router): wake it now / let it see each event this node publishes
    routing_wake: Callable[[], None] = field(default=lambda: None)
    routing_hint: Callable[[Event], None] = field(default=lambda event: None)
    # one per process, shared (thread-safe); app.py loads its data in a thread at start-up
    geoip: GeoIP = field(default_factory=lambda: GeoIP(use_installed_city_db=False))
    cache: NodeCache = field(default_factory=NodeCache)
    # request batchers of actions (actions/hellos.py: visitor hellos), made on first use
    batchers: dict[str, Any] = field(default_factory=dict)

    async def publish(self, *events: Event) -> None:
        """Send events to every node (this one included). Call only after the transaction that
        caused them committed. If the broker is down the events are delivered on this node
        only; the other nodes catch up from the database when their broker link comes back."""
        for event in events:
            self.cache.observe(event)  # this node at once; the others when the event reaches their hub
            self.routing_hint(event)
        if not events:
            return
        try:
            # in order, in one round trip for brokers between nodes (a writer batch's events)
            await self.broker.publish_many(events)
        except Exception as exc:  # noqa: BLE001 - a broker outage must not fail a stored action
            log.warning("broker publish failed (%s: %s); delivering %d event(s) (%s) on this node only",
                        type(exc).__name__, str(exc)[:200], len(events), events[0].name)
            for event in events:
                self.dispatch_local(event)
