from __future__ import annotations

from collections.abc import AsyncIterator

from frontdesk.broker.base import Broker


class RedisBroker(Broker):
    """Redis pub/sub: every node publishes to and listens on the same channels."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.Redis.from_url(url, decode_responses=True)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._closed = False

    async def connect(self) -> None:
        await self._redis.ping()

    async def disconnect(self) -> None:
        self._closed = True
        await self._pubsub.aclose()
        await self._redis.aclose()

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.publish(channel, message)

    async def subscribe(self, channel: str) -> None:
        await self._pubsub.subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        await self._pubsub.unsubscribe(channel)

    async def messages(self) -> AsyncIterator[tuple[str, str]]:
        while not self._closed:
            try:
                msg = await self._pubsub.get_message(timeout=1.0)
            except Exception:  # connection closed during shutdown
                if self._closed:
                    return
                raise
            if msg is not None and msg.get("type") == "message":
                yield msg["channel"], msg["data"]
