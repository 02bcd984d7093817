"""Operator authentication: session cookie, CSRF token, Origin check."""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import Depends, Request

from frontdesk.actions import operators
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

SESSION_COOKIE = "fd_session"
CSRF_COOKIE = "fd_csrf"
CSRF_HEADER = "x-csrf-token"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_ok(rt: Runtime, origin: str | None, host: str | None, *, required: bool) -> bool:
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


async def current_session(request: Request) -> tuple[OperatorRef, str]:
    """(operator, csrf token) of the request's session cookie; unsafe methods also need the
    same-origin Origin (when sent) and the CSRF header."""
    rt = request.app.state.rt
    found = await operators.session_operator(rt, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise ActionError("unauthorized", "log in first", 401)
    op, csrf = found
    if request.method in _UNSAFE:
        if not origin_ok(rt, request.headers.get("origin"), request.headers.get("host"), required=False):
            raise ActionError("csrf_failed", "cross-origin request refused", 403)
        if request.headers.get(CSRF_HEADER) != csrf:
            raise ActionError("csrf_failed", f"missing or wrong {CSRF_HEADER} header", 403)
    return op, csrf


async def current_operator(found: tuple = Depends(current_session)) -> OperatorRef:
    return found[0]


async def current_admin(op: OperatorRef = Depends(current_operator)) -> OperatorRef:
    if not op.is_admin:
        raise ActionError("forbidden", "administrators only", 403)
    return op
