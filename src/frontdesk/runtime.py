"""What every action needs: settings, database sessions, the broker, and the hooks the
serving side gives the domain (local dispatch, presence, task keeping)."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from frontdesk.events import Event
from frontdesk.models import utcnow
from frontdesk.settings import Settings

if TYPE_CHECKING:
    from frontdesk.actions.writer import MessageWriter
    from frontdesk.broker import Broker

log = logging.getLogger(__name__)


def _spawn(coro: Awaitable[object], name: str = "task") -> asyncio.Task:
    return asyncio.ensure_future(coro)


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: Broker
    writer: MessageWriter = field(init=False)
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

    async def publish(self, *events: Event) -> None:
        """Send events to every node (this one included). Call only after the transaction that
        caused them committed. If the broker is down the events are delivered on this node
        only; the other nodes catch up from the database when their broker link comes back."""
        for event in events:
            try:
                await self.broker.publish(event)
            except Exception as exc:  # noqa: BLE001 - a broker outage must not fail a stored action
                log.warning("broker publish failed (%s: %s); delivering %s on this node only",
                            type(exc).__name__, str(exc)[:200], event.name)
                self.dispatch_local(event)
