"""Rate-limit counters shared by every node through Redis (when FRONTDESK_BROKER_URL is redis://).

One Lua script checks every key against its limit and, only when all are below, counts the hit
on all of them: atomic across nodes and parallel requests. Windows are fixed (they start at a
key's first hit and last ``window`` seconds) — close enough to the in-memory sliding windows
that serve a single node (web/limits.py)."""
from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

_RESERVE = """
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i + 1]) then return 0 end
end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
end
return 1
"""
_RELEASE = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 1
"""
PREFIX = "frontdesk:limit:"


class RedisCounters:
    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self._redis: Any = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._reserve = self._redis.register_script(_RESERVE)
        self._release = self._redis.register_script(_RELEASE)

    async def reserve(self, limits: list[tuple[str, int]], window: float) -> bool:
        """Count one hit on every key when each is under its limit; False (nothing counted) otherwise."""
        keys = [PREFIX + key for key, _ in limits]
        return bool(await self._reserve(keys=keys, args=[int(window * 1000), *(n for _, n in limits)]))

    async def release(self, key: str) -> None:
        """Take one hit back (it turned out not to count)."""
        await self._release(keys=[PREFIX + key])

    async def clear(self, key: str) -> None:
        await self._redis.delete(PREFIX + key)

    async def close(self) -> None:
        await self._redis.aclose()
