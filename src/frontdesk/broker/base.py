"""The broker contract: publish events, receive every node's events (this node's included).

Pub/sub is at-most-once: anything that must not be lost is in the database and
replayed from there; the broker only carries *news* between nodes. The memory
broker hands the event object itself to the local hub (nothing is encoded);
brokers between nodes encode it once per publish.
"""
from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence

from frontdesk.events import Event


class BrokerUnavailable(Exception):
    """The link to the broker is down; ``messages()`` may be called again to reconnect."""


class Broker(abc.ABC):
    @abc.abstractmethod
    async def connect(self) -> None: ...

    @abc.abstractmethod
    async def disconnect(self) -> None: ...

    @abc.abstractmethod
    async def publish(self, event: Event) -> None: ...

    async def publish_many(self, events: Sequence[Event]) -> None:
        """Several events in order (a writer batch's): brokers between nodes send them in one round trip."""
        for event in events:
            await self.publish(event)

    @abc.abstractmethod
    def messages(self) -> AsyncIterator[Event | None]:
        """First ``None`` once subscribed, then every event published by any node until
        disconnect. Raises ``BrokerUnavailable``
        when the link breaks (events published meanwhile are lost: catch up from the database)."""
