"""HTML and static files: the widget loader, the panel, the demo shop."""
from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from frontdesk.actions.errors import ActionError

STATIC = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(include_in_schema=False)

# The panel runs only our own code: no inline script, no foreign origins.
PANEL_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
             "img-src 'self' data: blob:; connect-src 'self' ws: wss:; media-src 'self' data:; "
             "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def _file(path: Path, media_type: str | None = None, cache: str = "no-cache") -> Response:
    if not path.is_file():
        raise ActionError("not_found", "not found", 404)
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": cache})


# The chat window is written as three files and served as one, joined in this order inside one
# function (no build step; nothing leaks into the customer's page): its texts, its protocol
# state (no DOM, unit-tested with node: tests/js/), and the DOM part that uses both.
CHAT_PARTS = ("strings.js", "protocol.js", "chat.js")


def widget_chat_source() -> bytes:
    """/static/widget/chat.js as served: the parts of CHAT_PARTS joined."""
    parts = [(STATIC / "widget" / name).read_bytes().rstrip() for name in CHAT_PARTS]
    return b"(function () {\n\"use strict\";\n" + b"\n".join(parts) + b"\n})();\n"


class _WidgetAssets:
    """The loader names the chat code by a hash of its content, so chat.js can be
    cached for a year and a new release is still picked up within the loader's 5 minutes."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self.loader = b""
        self.chat = b""
        self.chat_version = ""

    def refresh(self) -> None:
        loader = STATIC / "widget" / "loader.js"
        key = tuple(p.stat().st_mtime_ns for p in (loader, *(STATIC / "widget" / n for n in CHAT_PARTS)))
        if key != self._key:
            self.chat = widget_chat_source()
            self.chat_version = hashlib.sha256(self.chat).hexdigest()[:12]
            self.loader = loader.read_bytes().replace(b"{{CHAT_VERSION}}", self.chat_version.encode())
            self._key = key


_widget = _WidgetAssets()


@router.get("/widget.js")
async def widget_loader() -> Response:
    _widget.refresh()
    # short cache: the loader is tiny and must pick up new releases quickly
    return Response(_widget.loader, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})


@router.get("/static/widget/chat.js")
async def widget_chat(request: Request, v: str = "") -> Response:
    _widget.refresh()
    cache = "public, max-age=31536000, immutable" if v == _widget.chat_version else "no-cache"
    etag = f'"{_widget.chat_version}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"Cache-Control": cache, "ETag": etag})
    return Response(_widget.chat, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": cache, "ETag": etag})


@router.get("/panel")
async def panel_redirect() -> Response:
    return Response(status_code=307, headers={"Location": "/panel/"})


@router.get("/panel/{path:path}")
async def panel(path: str) -> Response:
    candidate = (STATIC / "panel" / path).resolve()
    if path and candidate.is_file() and (STATIC / "panel") in candidate.parents:
        return _file(candidate)
    page = STATIC / "panel" / ("login.html" if path.startswith("login") else "index.html")
    if not page.is_file():
        page = STATIC / "panel" / "index.html"
    resp = _file(page, "text/html; charset=utf-8")
    resp.headers["Content-Security-Policy"] = PANEL_CSP
    resp.headers["X-Frame-Options"] = "DENY"
    return resp


@router.get("/demo")
async def demo_redirect() -> Response:
    return Response(status_code=307, headers={"Location": "/demo/"})


@router.get("/demo/{path:path}")
async def demo(path: str, request: Request) -> Response:
    rt = request.app.state.rt
    if not rt.settings.demo:
        raise ActionError("not_found", "the demo runs only with serve --demo", 404)
    root = STATIC / "demo"
    candidate = (root / (path or "index.html")).resolve()
    if root not in candidate.parents or not candidate.is_file():
        raise ActionError("not_found", "not found", 404)
    if candidate.suffix == ".html":
        site_key = getattr(request.app.state, "demo_site_key", "")
        html = candidate.read_text(encoding="utf-8").replace("{{SITE_KEY}}", site_key)
        return HTMLResponse(html, headers={"Cache-Control": "no-cache"})
    return _file(candidate)
