"""HTML and static files: the start page, the widget loader, the panel, the demo shop."""
from __future__ import annotations

import hashlib
import re
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


# The start page has no script at all.
ROOT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


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


def strip_comments(source: bytes) -> bytes:
    """The loader as served: without its leading ``/* … */`` block and its whole-line ``//``
    comments (a line that starts with ``//`` cannot be inside a string or the CSS template), so
    the file can stay documented and still fit its 5 KB gzipped budget. Code is not touched."""
    text = re.sub(r"\A/\*.*?\*/\n", "", source.decode("utf-8"), flags=re.S)
    return "".join(line for line in text.splitlines(True) if not line.lstrip().startswith("//")).encode("utf-8")


def widget_loader_source() -> bytes:
    """/widget.js as served (before the chat version is filled in)."""
    return strip_comments((STATIC / "widget" / "loader.js").read_bytes())


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
            self.loader = widget_loader_source().replace(b"{{CHAT_VERSION}}", self.chat_version.encode())
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


# --- the start page ("/"): what this server is and where to go --------------------------------

_ROOT_TEXT = {
    "ru": {
        "title": "frontdesk — онлайн-консультант",
        "lead": "Это сервер frontdesk: чат для сайта (виджет) и панель, в которой операторы отвечают посетителям.",
        "panel": "Панель оператора",
        "demo": "Демо-магазин «Уютный дом»",
        "api": "API (OpenAPI)",
        "admin": "Администратору",
        "embed": "Виджет на сайте: в панели на странице «Сайты» — код для вставки, цвет, тексты и график работы.",
        "email_title": "Настройка e-mail",
        "email": "Письма (офлайн-сообщения посетителей, ответы им на почту) уходят через ваш SMTP-сервер. "
                 "Задайте переменную окружения <code>FRONTDESK_SMTP_URL</code>, например "
                 "<code>smtp://user:pass@smtp.example.com:587</code>, и перезапустите сервер. Пока e-mail не "
                 "настроен, письма ждут в очереди и уйдут после настройки. Подробно — <code>docs/email.md</code>.",
        "data_title": "Где лежат данные",
        "data": "База SQLite, секретный ключ и фото операторов хранятся в каталоге данных "
                "(<code>--data-dir</code> или <code>FRONTDESK_DATA_DIR</code>; по умолчанию "
                "<code>./frontdesk-data</code> от текущего каталога). Полный путь сервер печатает при запуске.",
        "other": "English",
    },
    "en": {
        "title": "frontdesk — live chat",
        "lead": "This is a frontdesk server: a chat for your website (the widget) and a panel where operators answer visitors.",
        "panel": "Operator panel",
        "demo": "Demo shop «Уютный дом»",
        "api": "API (OpenAPI)",
        "admin": "For the administrator",
        "embed": "The widget on your site: the panel's Sites page has the embed code, colour, texts and working hours.",
        "email_title": "Setting up e-mail",
        "email": "E-mail (visitors' offline messages, replies sent to their mailbox) goes out through your SMTP server. "
                 "Set the environment variable <code>FRONTDESK_SMTP_URL</code>, e.g. "
                 "<code>smtp://user:pass@smtp.example.com:587</code>, and restart the server. Until then e-mail waits "
                 "in the outbox and goes out once it is set. Details: <code>docs/email.md</code>.",
        "data_title": "Where the data lives",
        "data": "The SQLite database, the secret key and operators' photos are kept in the data directory "
                "(<code>--data-dir</code> or <code>FRONTDESK_DATA_DIR</code>; by default <code>./frontdesk-data</code> "
                "under the current directory). The server prints its full path when it starts.",
        "other": "Русский",
    },
}


def _root_language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in _ROOT_TEXT:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in _ROOT_TEXT:
            return code
    return "ru"


@router.get("/")
async def start_page(request: Request) -> Response:
    lang = _root_language(request)
    x = _ROOT_TEXT[lang]
    demo = request.app.state.settings.demo
    other = "en" if lang == "ru" else "ru"
    demo_link = f'<a class="btn" href="/demo/" data-testid="start-demo">{x["demo"]}</a>' if demo else ""
    html = f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{x["title"]}</title>
<link rel="icon" href="data:,">
<style>
html{{background:#f3f5f8}}
body{{margin:0;min-height:100vh;font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1f2328;
background:linear-gradient(180deg,#eaf1fb 0%,#f3f5f8 50%) no-repeat}}
main{{max-width:680px;margin:0 auto;padding:48px 20px}}
.brand{{display:flex;align-items:center;gap:10px;font-weight:700;font-size:22px}}
.mark{{width:26px;height:26px;border-radius:8px 8px 8px 3px;background:#1f6feb}}
h1{{font-size:20px;font-weight:600;margin:18px 0 8px}}
h2{{font-size:16px;margin:28px 0 6px}} h3{{font-size:14px;margin:16px 0 4px}}
.links{{display:flex;flex-wrap:wrap;gap:10px;margin:20px 0}}
.btn{{display:inline-block;padding:9px 16px;border-radius:8px;border:1px solid #d8dee4;background:#fff;
color:#0b4fb3;text-decoration:none;font-weight:600}}
.btn--primary{{background:#1f6feb;border-color:#1f6feb;color:#fff}}
code{{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#fff;border:1px solid #e8ecf0;
border-radius:4px;padding:0 4px;overflow-wrap:anywhere}}
.muted{{color:#59636e}} a{{color:#0b4fb3}}
</style>
</head>
<body>
<main>
<div class="brand"><span class="mark" aria-hidden="true"></span>frontdesk</div>
<h1>{x["title"]}</h1>
<p class="muted">{x["lead"]}</p>
<nav class="links">
<a class="btn btn--primary" href="/panel/" data-testid="start-panel">{x["panel"]}</a>
{demo_link}
<a class="btn" href="/api/openapi.json" data-testid="start-api">{x["api"]}</a>
</nav>
<h2>{x["admin"]}</h2>
<p>{x["embed"]}</p>
<h3 id="email">{x["email_title"]}</h3>
<p>{x["email"]}</p>
<h3 id="data">{x["data_title"]}</h3>
<p>{x["data"]}</p>
<p><a href="/?lang={other}" lang="{other}" data-testid="start-language">{x["other"]}</a></p>
</main>
</body>
</html>
"""
    return HTMLResponse(html, headers={"Cache-Control": "no-cache", "Content-Security-Policy": ROOT_CSP,
                                       "Vary": "Accept-Language", "Content-Language": lang})
