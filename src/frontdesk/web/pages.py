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


class _WidgetAssets:
    """The loader names the chat code by a hash of its content, so chat.js can be
    cached for a year and a new release is still picked up within the loader's 5 minutes."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self.loader = b""
        self.chat_version = ""

    def refresh(self) -> None:
        loader, chat = STATIC / "widget" / "loader.js", STATIC / "widget" / "chat.js"
        key = (loader.stat().st_mtime_ns, chat.stat().st_mtime_ns)
        if key != self._key:
            self.chat_version = hashlib.sha256(chat.read_bytes()).hexdigest()[:12]
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
async def widget_chat(v: str = "") -> Response:
    _widget.refresh()
    cache = "public, max-age=31536000, immutable" if v == _widget.chat_version else "no-cache"
    return _file(STATIC / "widget" / "chat.js", "text/javascript; charset=utf-8", cache)


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
