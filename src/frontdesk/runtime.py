"""What every action needs: settings, database sessions, the broker and the local hub."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from frontdesk.events import CHANNEL, Event
from frontdesk.models import utcnow
from frontdesk.settings import Settings

if TYPE_CHECKING:
    from frontdesk.actions.messages import MessageWriter
    from frontdesk.broker import Broker
    from frontdesk.realtime.hub import Hub


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: "Broker"
    hub: "Hub"
    writer: "MessageWriter" = None  # type: ignore[assignment]
    clock: Callable = field(default=utcnow)  # tests swap in a controllable clock

    async def publish(self, *events: Event) -> None:
        """Send events to every node. Call only after the transaction that caused them committed."""
        for event in events:
            await self.broker.publish(CHANNEL, event.to_json())
