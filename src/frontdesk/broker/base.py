"""The broker contract: publish JSON-able events on a channel, receive them on every node.

Pub/sub is at-most-once: anything that must not be lost is in the database and
replayed from there; the broker only carries *news* between nodes.
"""
from __future__ import annotations

import abc
from collections.abc import AsyncIterator


class Broker(abc.ABC):
    @abc.abstractmethod
    async def connect(self) -> None: ...

    @abc.abstractmethod
    async def disconnect(self) -> None: ...

    @abc.abstractmethod
    async def publish(self, channel: str, message: str) -> None: ...

    @abc.abstractmethod
    async def subscribe(self, channel: str) -> None: ...

    @abc.abstractmethod
    async def unsubscribe(self, channel: str) -> None: ...

    @abc.abstractmethod
    def messages(self) -> AsyncIterator[tuple[str, str]]:
        """Yield ``(channel, message)`` for every subscribed channel until disconnect."""


def broker_from_url(url: str) -> Broker:
    scheme = url.split("://", 1)[0]
    if scheme == "memory":
        from frontdesk.broker.memory import MemoryBroker

        return MemoryBroker()
    if scheme in ("redis", "rediss", "unix"):
        from frontdesk.broker.redis import RedisBroker

        return RedisBroker(url)
    raise ValueError(f"unsupported broker URL {url!r}: use memory:// or redis://")
