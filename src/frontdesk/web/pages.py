"""HTML and static files: the widget loader, the panel, the demo shop."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from frontdesk.actions import ActionError

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


@router.get("/widget.js")
async def widget_loader() -> Response:
    # short cache: the loader is tiny and must pick up new versions quickly
    return _file(STATIC / "widget" / "loader.js", "text/javascript; charset=utf-8", "public, max-age=300")


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
