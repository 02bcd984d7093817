from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from frontdesk.broker.base import Broker

_CLOSED = object()


class MemoryBroker(Broker):
    """In-process broker for a single node. The queue is unbounded on purpose:
    the only consumer is the local hub, which never blocks (it drops into
    bounded per-socket queues), so this queue drains as fast as it fills."""

    def __init__(self) -> None:
        self._channels: set[str] = set()
        self._queue: asyncio.Queue = asyncio.Queue()

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        self._queue.put_nowait(_CLOSED)

    async def publish(self, channel: str, message: str) -> None:
        if channel in self._channels:
            self._queue.put_nowait((channel, message))

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    async def messages(self) -> AsyncIterator[tuple[str, str]]:
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                return
            yield item
