"""Operator authentication: session cookie, CSRF token, Origin check."""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

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


def set_session_cookies(request: Request, response: Response, token: str, csrf: str) -> None:
    """The session cookie (HttpOnly) and the CSRF cookie (read by the panel, echoed in X-CSRF-Token),
    both lasting FRONTDESK_SESSION_DAYS from now."""
    rt = request.app.state.rt
    secure = (rt.settings.public_url or str(request.base_url)).startswith("https")
    max_age = rt.settings.session_days * 86400
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="strict", secure=secure,
                        path="/")


async def current_session(request: Request, response: Response) -> tuple[OperatorRef, str]:
    """(operator, csrf token) of the request's session cookie; unsafe methods also need the
    same-origin Origin (when sent) and the CSRF header. The session slides: it lasts
    FRONTDESK_SESSION_DAYS after the last request, and so do its cookies."""
    rt = request.app.state.rt
    token = request.cookies.get(SESSION_COOKIE)
    found = await operators.session_operator(rt, token)
    if found is None:
        raise ActionError("unauthorized", "log in first", 401)
    op, csrf = found
    if token and request.url.path != "/api/v1/auth/logout":
        set_session_cookies(request, response, token, csrf)
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
