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
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 1 then ttl = 1 end
    return -ttl
  end
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
# a sorted set of leases (member = a node's token, score = when it ends, Redis time in ms)
_LEASE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""
_RENEW = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
for i, key in ipairs(KEYS) do
  for member in string.gmatch(ARGV[i + 1], '[^ ]+') do
    redis.call('ZADD', key, 'XX', now + tonumber(ARGV[1]), member)
  end
  redis.call('PEXPIRE', key, ARGV[1])
end
return 1
"""
PREFIX = "frontdesk:limit:"


class RedisCounters:
    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self._redis: Any = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._reserve = self._redis.register_script(_RESERVE)
        self._release = self._redis.register_script(_RELEASE)
        self._lease = self._redis.register_script(_LEASE)
        self._renew = self._redis.register_script(_RENEW)

    async def reserve(self, limits: list[tuple[str, int]], window: float) -> bool:
        """Count one hit on every key when each is under its limit; False (nothing counted) otherwise."""
        return await self.reserve_wait(limits, window) == 0

    async def reserve_wait(self, limits: list[tuple[str, int]], window: float) -> float:
        """As ``reserve``: 0 when counted, else the seconds until the first full key's window ends."""
        keys = [PREFIX + key for key, _ in limits]
        got = int(await self._reserve(keys=keys, args=[int(window * 1000), *(n for _, n in limits)]))
        return 0.0 if got == 1 else -got / 1000

    async def release(self, key: str) -> None:
        """Take one hit back (it turned out not to count)."""
        await self._release(keys=[PREFIX + key])

    async def lease(self, key: str, token: str, cap: int, seconds: float) -> bool:
        """Hold one of ``cap`` leases of ``key`` for ``seconds`` (renew it with ``renew``); False when all are held."""
        return bool(await self._lease(keys=[PREFIX + key], args=[int(seconds * 1000), cap, token]))

    async def renew(self, leases: dict[str, list[str]], seconds: float) -> None:
        """Extend the leases still held (tokens have no spaces) by ``seconds`` from now."""
        keys = list(leases)
        if keys:
            await self._renew(keys=[PREFIX + k for k in keys],
                              args=[int(seconds * 1000), *(" ".join(leases[k]) for k in keys)])

    async def unlease(self, key: str, token: str) -> None:
        await self._redis.zrem(PREFIX + key, token)

    async def clear(self, key: str) -> None:
        await self._redis.delete(PREFIX + key)

    async def close(self) -> None:
        await self._redis.aclose()
