"""Rate limits of the REST API: in process (per node), or shared by every node through Redis when
one is configured (web/shared_limits.py). The socket's inbound limit is realtime/protocol.py's
TokenBucket."""
from __future__ import annotations

import math
import time
from collections import defaultdict, deque

from frontdesk.web.shared_limits import RedisCounters


class SlidingWindow:
    """At most ``limit`` events per ``window`` seconds per key; bounded memory (past ``max_keys``
    keys the oldest-touched keys are forgotten, never the whole table)."""

    def __init__(self, window: float, max_keys: int = 10_000) -> None:
        self.window = window
        self.max_keys = max_keys
        self._hits: dict[object, deque[float]] = defaultdict(deque)

    def _recent(self, key: object) -> deque[float]:
        q = self._hits[key]
        cutoff = time.monotonic() - self.window
        while q and q[0] < cutoff:
            q.popleft()
        return q

    def count(self, key: object) -> int:
        n = len(self._recent(key))
        if n == 0:
            self._hits.pop(key, None)
        return n

    def hit(self, key: object) -> None:
        if key not in self._hits and len(self._hits) >= self.max_keys:
            # forget the keys whose last event is oldest (an attacker filling the table with
            # addresses cannot reset everyone else's counts)
            for old in sorted(self._hits, key=lambda k: self._hits[k][-1] if self._hits[k] else 0.0)[
                    : max(1, self.max_keys // 10)]:
                del self._hits[old]
        self._recent(key).append(time.monotonic())

    def wait(self, key: object, limit: int) -> float:
        """Seconds until ``key`` has fewer than ``limit`` events in the window (0: it has now)."""
        q = self._recent(key)
        if len(q) < limit:
            return 0.0
        return max(0.0, q[len(q) - limit] + self.window - time.monotonic())

    def clear(self, key: object) -> None:
        self._hits.pop(key, None)

    def undo(self, key: object) -> None:
        """Take back the latest event of ``key`` (it turned out not to count)."""
        q = self._recent(key)
        if q:
            q.pop()


class LoginLimiter:
    """Login attempts: at most N per minute per (address, e-mail), and 4·N per minute per e-mail
    from any address (an account cannot be guessed at from many addresses).

    ``attempt`` counts the attempt *before* the password is checked, so parallel requests
    cannot all pass the check while the (slow, off-loop) hash runs; a success clears the
    address's count. With ``shared`` (Redis) the counts hold across nodes."""

    def __init__(self, max_failures: int, shared: RedisCounters | None = None) -> None:
        self.max_failures = max_failures
        self.shared = shared
        self._pair = SlidingWindow(60.0)
        self._account = SlidingWindow(60.0)

    async def attempt(self, ip: str, email: str) -> bool:
        return await self.check(ip, email) == 0

    async def check(self, ip: str, email: str) -> float:
        """Count an attempt and answer 0, or count nothing and answer the seconds to wait."""
        if self.shared is not None:
            return await self.shared.reserve_wait([(f"login:{ip}:{email}", self.max_failures),
                                                   (f"login-account:{email}", 4 * self.max_failures)], 60.0)
        wait = max(self._pair.wait((ip, email), self.max_failures),
                   self._account.wait(email, 4 * self.max_failures))
        if wait > 0:
            return wait
        self._pair.hit((ip, email))
        self._account.hit(email)
        return 0.0

    async def succeeded(self, ip: str, email: str) -> None:
        """Only failures count: a success takes its attempt back and clears the address's count."""
        if self.shared is not None:
            await self.shared.clear(f"login:{ip}:{email}")
            await self.shared.release(f"login-account:{email}")
            return
        self._pair.clear((ip, email))
        self._account.undo(email)


class PasswordLimiter:
    """Wrong current passwords on ``POST /me/password``: at most N per minute per account (from any
    address) and 4·N per minute per address (over every account it holds a session of), N =
    ``FRONTDESK_LOGIN_MAX_FAILURES``. A stolen session cookie cannot be used to guess the password
    (which would let the thief keep the account). Counted before the (slow, off-loop) hash is
    checked, so parallel requests cannot all pass; a right password takes its attempt back. With
    ``shared`` (Redis) the counts hold across nodes."""

    def __init__(self, max_failures: int, shared: RedisCounters | None = None) -> None:
        self.max_failures = max_failures
        self.shared = shared
        self._account = SlidingWindow(60.0)
        self._address = SlidingWindow(60.0)

    async def check(self, ip: str, operator_id: int) -> float:
        """Count an attempt and answer 0, or count nothing and answer the seconds to wait."""
        if self.shared is not None:
            return await self.shared.reserve_wait([(f"password-account:{operator_id}", self.max_failures),
                                                   (f"password:{ip}", 4 * self.max_failures)], 60.0)
        wait = max(self._account.wait(operator_id, self.max_failures),
                   self._address.wait(ip, 4 * self.max_failures))
        if wait > 0:
            return wait
        self._account.hit(operator_id)
        self._address.hit(ip)
        return 0.0

    async def succeeded(self, ip: str, operator_id: int) -> None:
        """Only wrong passwords count: a right one takes its attempt back."""
        if self.shared is not None:
            await self.shared.release(f"password-account:{operator_id}")
            await self.shared.release(f"password:{ip}")
            return
        self._account.undo(operator_id)
        self._address.undo(ip)


def retry_after(wait: float) -> int:
    """Whole seconds for ``Retry-After`` (at least 1)."""
    return max(1, math.ceil(wait))


class OfflineLimiter:
    """At most N accepted offline messages per hour per (client address, site). ``reserve`` counts
    the attempt before the message is stored (so parallel posts cannot all pass the check);
    ``release`` gives the slot back when nothing was stored. With ``shared`` (Redis) the counts
    hold across nodes."""

    def __init__(self, shared: RedisCounters | None = None) -> None:
        self.shared = shared
        self._hits = SlidingWindow(3600.0)

    async def reserve(self, ip: str, site_id: int, limit: int) -> bool:
        if self.shared is not None:
            return await self.shared.reserve([(f"offline:{ip}:{site_id}", limit)], 3600.0)
        if self._hits.count((ip, site_id)) >= limit:
            return False
        self._hits.hit((ip, site_id))
        return True

    async def release(self, ip: str, site_id: int) -> None:
        if self.shared is not None:
            await self.shared.release(f"offline:{ip}:{site_id}")
            return
        self._hits.undo((ip, site_id))
