"""Operator authentication: session cookie, CSRF token, Origin check, login rate limit."""
from __future__ import annotations

import time
from collections import defaultdict, deque
from urllib.parse import urlsplit

from fastapi import Depends, Request

from frontdesk.actions import ActionError
from frontdesk.actions.operators import session_operator
from frontdesk.models import Operator

SESSION_COOKIE = "fd_session"
CSRF_COOKIE = "fd_csrf"
CSRF_HEADER = "x-csrf-token"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_ok(rt, origin: str | None, host: str | None, scheme: str, *, required: bool) -> bool:  # noqa: ANN001
    """Is ``origin`` this server's own origin (FRONTDESK_PUBLIC_URL, else the Host the request came to)?"""
    if not origin:
        return not required
    if rt.settings.public_url:
        expected = {_origin_of(rt.settings.public_url)}
    elif host:
        expected = {f"http://{host}".lower(), f"https://{host}".lower()}
    else:
        return False
    return origin.rstrip("/").lower() in expected


async def current_session(request: Request) -> tuple[Operator, object]:
    rt = request.app.state.rt
    found = await session_operator(rt, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise ActionError("unauthorized", "log in first", 401)
    op, sess = found
    if request.method in _UNSAFE:
        if not origin_ok(rt, request.headers.get("origin"), request.headers.get("host"),
                         request.url.scheme, required=False):
            raise ActionError("csrf_failed", "cross-origin request refused", 403)
        if request.headers.get(CSRF_HEADER) != sess.csrf_token:
            raise ActionError("csrf_failed", f"missing or wrong {CSRF_HEADER} header", 403)
    return op, sess


async def current_operator(found: tuple = Depends(current_session)) -> Operator:
    return found[0]


async def current_admin(op: Operator = Depends(current_operator)) -> Operator:
    if not op.is_admin:
        raise ActionError("forbidden", "administrators only", 403)
    return op


class LoginLimiter:
    """At most N failed logins per minute per (address, e-mail); bounded memory."""

    WINDOW = 60.0
    MAX_KEYS = 10_000

    def __init__(self, max_failures: int) -> None:
        self.max_failures = max_failures
        self._failures: dict[tuple[str, str], deque] = defaultdict(deque)

    def _recent(self, key: tuple[str, str]) -> deque:
        q = self._failures[key]
        cutoff = time.monotonic() - self.WINDOW
        while q and q[0] < cutoff:
            q.popleft()
        return q

    def blocked(self, ip: str, email: str) -> bool:
        return len(self._recent((ip, email))) >= self.max_failures

    def failed(self, ip: str, email: str) -> None:
        if len(self._failures) > self.MAX_KEYS:
            self._failures.clear()
        self._recent((ip, email)).append(time.monotonic())

    def succeeded(self, ip: str, email: str) -> None:
        self._failures.pop((ip, email), None)
