"""One error shape for the whole API: {"error": {"code", "message"}} with a 4xx status."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from frontdesk.actions.errors import ActionError

log = logging.getLogger(__name__)

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid_input", 429: "rate_limited"}


class ErrorDetail(BaseModel):
    code: str
    message: str
    retry_after: int | None = None  # on a 429 from a limiter: seconds to wait (also the Retry-After header)


class ErrorOut(BaseModel):
    """Every 4xx/5xx of the API: ``{"error": {"code", "message"}}`` (docs/protocol.md lists the codes)."""
    error: ErrorDetail


_WHY = {400: "malformed request (e.g. an unreadable body)", 401: "not logged in / no visitor token",
        403: "forbidden (not an administrator, CSRF or Origin check failed)", 404: "no such object (or not yours)",
        409: "conflict with the current state", 413: "request body too large",
        415: "unsupported media type", 422: "invalid input", 429: "rate limited"}


def error_responses(*statuses: int) -> dict[int | str, dict]:
    """``responses=`` for a router or a route: the error shape under each status it can answer."""
    return {s: {"model": ErrorOut, "description": _WHY.get(s, "error")} for s in statuses}


# What any API route may answer besides its success (the OpenAPI document says so for each).
API_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """The methods some route serves at this path (for ``Allow`` on a 405): several routers can
    serve one path (GET /sites and POST /sites), and the router names only the first one's."""
    allowed = [method for method in _METHODS
               if any(route.matches({**request.scope, "type": "http", "method": method})[0] == Match.FULL
                      for route in request.app.router.routes)]
    return ", ".join(allowed)


def error_response(status: int, code: str, message: str, headers: dict | None = None,
                   retry_after: int | None = None) -> JSONResponse:
    error: dict = {"code": code, "message": message}
    if retry_after is not None:
        error["retry_after"] = retry_after
        headers = {**(headers or {}), "Retry-After": str(retry_after)}
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ActionError)
    async def _action_error(_req: Request, exc: ActionError) -> JSONResponse:
        status = exc.status if 400 <= exc.status < 600 else 422
        return error_response(status, exc.code, exc.message, retry_after=exc.retry_after)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return error_response(422, "invalid_input", f"{where}: {first.get('msg', 'invalid')}".strip(": "))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(_req) or headers.get("Allow", "")
        return error_response(exc.status_code, code, message, headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc)
        return error_response(500, "internal", "internal error")
