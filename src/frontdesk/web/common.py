"""Small request helpers shared by the routers."""
from __future__ import annotations

import json

from fastapi import Request

from frontdesk.actions.errors import ActionError

# A form or settings body is a few KB of JSON (4,000 characters of text, even all escaped
# as \uXXXX, is 24 KB); anything bigger is refused before it is read.
BODY_MAX = 64 * 1024


def json_body_doc(schema: dict, description: str = "") -> dict:
    """``openapi_extra`` documenting the JSON body of a route that reads it itself (``json_object``),
    so its own checks keep their specific error codes (``invalid_name``, ``invalid_email`` …)."""
    body: dict = {"required": True, "content": {"application/json": {"schema": schema}}}
    if description:
        body["description"] = description
    return {"requestBody": body}


_PAGE = {"type": ["object", "null"], "properties": {"url": {"type": "string"}, "title": {"type": "string"}}}
_TEXT_OR_NULL = {"type": ["string", "null"]}

OFFLINE_BODY = json_body_doc({
    "type": "object", "required": ["name", "email", "message"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "email": {"type": "string", "minLength": 3, "maxLength": 254},
        "message": {"type": "string", "minLength": 1},
        "client_id": {"type": ["string", "null"], "pattern": "^[A-Za-z0-9_.:-]{1,64}$"},
        "page": _PAGE, "lang": {"type": ["string", "null"], "maxLength": 16},
        "website": {"type": ["string", "null"], "description": "honeypot: left empty by people"},
        "form_token": {"type": ["string", "null"], "description": "from GET /widget/form-token"}}})

CONTACTS_BODY = json_body_doc({
    "type": "object", "description": "at least one of email and phone",
    "properties": {"email": _TEXT_OR_NULL, "phone": _TEXT_OR_NULL, "name": _TEXT_OR_NULL}})

_INTERVAL = {"type": "array", "prefixItems": [{"type": "string"}, {"type": "string"}], "minItems": 2, "maxItems": 2}
HOURS_BODY = json_body_doc({
    "type": "object", "required": ["hours"], "additionalProperties": False,
    "properties": {"hours": {"anyOf": [{"type": "null"}, {
        "type": "object", "required": ["timezone", "days"], "additionalProperties": False,
        "properties": {"timezone": {"type": "string", "minLength": 1, "maxLength": 64},
                       "days": {"type": "object", "additionalProperties": False, "properties": {
                           d: {"type": "array", "items": _INTERVAL}
                           for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}}}]}}})

PHOTO_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["photo"],
    "properties": {"photo": {"type": "string", "format": "binary", "description": "PNG, JPEG or WebP"}}}}}}}


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
