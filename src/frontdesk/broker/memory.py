from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from frontdesk.broker.base import Broker
from frontdesk.events import Event

_CLOSED = object()


class MemoryBroker(Broker):
    """In-process broker for a single node: passes the event objects themselves. The queue is
    unbounded on purpose: the only consumer is the local hub, which never blocks (it drops into
    bounded per-socket queues), so this queue drains as fast as it fills."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[object] = asyncio.Queue()

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        self._queue.put_nowait(_CLOSED)

    async def publish(self, event: Event) -> None:
        self._queue.put_nowait(event)

    async def messages(self) -> AsyncIterator[Event | None]:
        yield None  # subscribed
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                return
            assert isinstance(item, Event)
            yield item
