"""Pure ASGI middleware (WebSocket scopes pass straight through, no per-request task).

* ``WidgetCors`` — the widget runs on customers' sites: its endpoints answer cross-origin,
  without credentials (the visitor is a Bearer token, never a cookie);
* ``SecurityHeaders`` — nosniff and a referrer policy everywhere; every HTML document under
  ``/panel`` or ``/static/panel`` gets the panel's CSP and cannot be framed; API responses
  carry ``Cache-Control: no-store`` unless the route chose a cache policy itself;
* ``BodyLimit`` — no request body larger than ``max_bytes`` is read (413 before parsing).
"""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The panel runs only our own code: no inline script, no foreign origins.
PANEL_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
             "img-src 'self' data: blob:; connect-src 'self' ws: wss:; media-src 'self' data:; "
             "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def _header(scope: Scope, name: bytes) -> bytes | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v
    return None


class WidgetCors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/v1/widget/"):
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        cors = [] if not origin else [
            (b"access-control-allow-origin", origin), (b"vary", b"Origin"),
            (b"access-control-allow-headers", b"Authorization, Content-Type"),
            (b"access-control-allow-methods", b"GET, POST, OPTIONS"), (b"access-control-max-age", b"600")]
        if scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": cors})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and cors:
                message["headers"] = [*message.get("headers", []), *cors]
            await send(message)

        await self.app(scope, receive, send_with_cors)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        panel = path == "/panel" or path.startswith(("/panel/", "/static/panel/"))
        api = path.startswith("/api/v1/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = []
                if b"x-content-type-options" not in names:
                    extra.append((b"x-content-type-options", b"nosniff"))
                if b"referrer-policy" not in names:
                    extra.append((b"referrer-policy", b"strict-origin-when-cross-origin"))
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if panel and content_type.startswith(b"text/html"):
                    headers = [(k, v) for k, v in headers
                               if k.lower() not in (b"content-security-policy", b"x-frame-options")]
                    extra += [(b"content-security-policy", PANEL_CSP.encode()), (b"x-frame-options", b"DENY")]
                if api and b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = headers + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse request bodies over ``max_bytes``: at once when Content-Length says so, else as soon
    as the streamed body passes the limit (the app then sees a disconnect)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(send, self.max_bytes)
            return
        seen = 0
        started = False
        refused = False

        async def limited_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    if not started:
                        await _too_large(send, self.max_bytes)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out already
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)


async def _too_large(send: Send, max_bytes: int) -> None:
    body = json.dumps({"error": {"code": "too_large",
                                 "message": f"request body is larger than {max_bytes} bytes"}}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
