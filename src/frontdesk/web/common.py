"""Small request helpers shared by the routers."""
from __future__ import annotations

import json

from fastapi import Request

from frontdesk.actions.errors import ActionError

# A form or settings body is a few KB of JSON (4,000 characters of text, even all escaped
# as \uXXXX, is 24 KB); anything bigger is refused before it is read.
BODY_MAX = 64 * 1024


def public_base(request: Request) -> str:
    rt = request.app.state.rt
    return (rt.settings.public_url or str(request.base_url)).rstrip("/")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def embed_snippet(request: Request, site: dict) -> str:
    return f'<script src="{public_base(request)}/widget.js" data-site="{site["site_key"]}" async></script>'


def site_out(request: Request, site: dict) -> dict:
    """A site as the panel shows it: with its embed snippet for this server's public URL."""
    return {**site, "embed": embed_snippet(request, site)}


async def json_object(request: Request, body_max: int = BODY_MAX) -> dict:
    """The request body as a JSON object, read with a size cap."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > body_max:
        raise ActionError("too_large", f"request body is larger than {body_max} bytes", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > body_max:
            raise ActionError("too_large", f"request body is larger than {body_max} bytes", 413)
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ActionError("invalid_input", "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ActionError("invalid_input", "the body must be a JSON object")
    return data
