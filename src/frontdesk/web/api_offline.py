"""REST of offline mode (issue 6): the offline form and contacts (widget, public), working hours
(admin) and the e-mail outbox (operators). docs/protocol.md § Offline mode and e-mail."""
from __future__ import annotations

import json
import time
from collections import defaultdict, deque

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select, update

from frontdesk.actions import ActionError, offline, operators, visitors
from frontdesk.mail.outbox import outbox_json
from frontdesk.mail.smtp import parse_smtp_url
from frontdesk.models import Operator, OutboxEmail, OutboxStatus, Site
from frontdesk.web.api_widget import _site as widget_site
from frontdesk.web.auth import current_admin, current_operator

router = APIRouter(prefix="/api/v1", tags=["offline"])

# An offline form is a few KB of JSON (4,000 characters of text, even all escaped
# as \uXXXX, is 24 KB); anything bigger is refused before it is read.
BODY_MAX = 64 * 1024


class OfflineLimiter:
    """At most N accepted offline messages per hour per (client address, site); bounded memory."""

    WINDOW = 3600.0
    MAX_KEYS = 10_000  # past this the table is cleared: a flood of addresses costs memory, not correctness

    def __init__(self) -> None:
        self._hits: dict[tuple[str, int], deque] = defaultdict(deque)

    def _recent(self, key: tuple[str, int]) -> deque:
        q = self._hits[key]
        cutoff = time.monotonic() - self.WINDOW
        while q and q[0] < cutoff:
            q.popleft()
        return q

    def blocked(self, ip: str, site_id: int, limit: int) -> bool:
        return len(self._recent((ip, site_id))) >= limit

    def hit(self, ip: str, site_id: int) -> None:
        if len(self._hits) > self.MAX_KEYS:
            self._hits.clear()
        self._recent((ip, site_id)).append(time.monotonic())


def _limiter(request: Request) -> OfflineLimiter:
    state = request.app.state
    if not hasattr(state, "offline_limiter"):
        state.offline_limiter = OfflineLimiter()
    return state.offline_limiter


async def _json_object(request: Request) -> dict:
    """The request body as a JSON object, read with a size cap."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > BODY_MAX:
        raise ActionError("too_large", f"request body is larger than {BODY_MAX} bytes", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > BODY_MAX:
            raise ActionError("too_large", f"request body is larger than {BODY_MAX} bytes", 413)
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ActionError("invalid_input", "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ActionError("invalid_input", "the body must be a JSON object")
    return data


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def _public_base(request: Request) -> str:
    rt = request.app.state.rt
    return (rt.settings.public_url or str(request.base_url)).rstrip("/")


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


# --- widget (public, keyed by site) ----------------------------------------------------

@router.post("/widget/offline", status_code=201, tags=["widget"])
async def offline_message(request: Request, site: str | None = None) -> dict:
    """The offline form. Body ``{name, email, message, client_id?, page?: {url, title}, lang?}``;
    optional ``Authorization: Bearer <visitor token>`` attaches it to that visitor."""
    rt = request.app.state.rt
    row = await widget_site(request, site)
    data = await _json_object(request)
    ip = _client_ip(request)
    limiter = _limiter(request)
    if limiter.blocked(ip, row.id, rt.settings.offline_rate_limit):
        raise ActionError("rate_limited", "too many offline messages from this address; try again later", 429)
    result = await offline.submit_offline_message(
        rt, row, token=_bearer(request), name=data.get("name"), email=data.get("email"),
        message=data.get("message"), client_id=data.get("client_id"), page=data.get("page"),
        lang=data.get("lang"), user_agent=request.headers.get("user-agent", ""), ip=ip,
        public_base=_public_base(request))
    if not result["duplicate"]:
        limiter.hit(ip, row.id)
    return result


@router.post("/widget/contacts", tags=["widget"])
async def visitor_contacts(request: Request, site: str | None = None) -> dict:
    """The visitor leaves contacts: ``{email?, phone?, name?}`` (at least e-mail or phone); Bearer token required."""
    rt = request.app.state.rt
    row = await widget_site(request, site)
    token = _bearer(request)
    if token is None:
        raise ActionError("unauthorized", "visitor token required", 401)
    data = await _json_object(request)
    visitor, _ = await visitors.identify_visitor(rt, row, token, user_agent=request.headers.get("user-agent", ""),
                                                 ip=_client_ip(request))
    return await offline.save_contacts(rt, visitor, email=data.get("email"), phone=data.get("phone"),
                                       name=data.get("name"))


# --- working hours (admin) -------------------------------------------------------------

@router.get("/sites/{site_id}/hours", tags=["admin"])
async def get_hours(site_id: int, request: Request, op: Operator = Depends(current_operator)) -> dict:
    rt = request.app.state.rt
    async with rt.sessions() as session:
        if site_id not in await operators.operator_site_ids(session, op):
            raise ActionError("not_found", "site not found", 404)
        site = await session.get(Site, site_id)
        availability = await offline.site_availability(session, site, rt.clock())
    return {"site_id": site_id, "hours": site.hours, "availability": availability}


@router.put("/sites/{site_id}/hours", tags=["admin"])
async def put_hours(site_id: int, request: Request, _admin: Operator = Depends(current_admin)) -> dict:
    """Body ``{"hours": null}`` (24×7) or ``{"hours": {"timezone": "Europe/Moscow", "days": {"mon": [["09:00","18:00"]]}}}``."""
    data = await _json_object(request)
    if set(data) != {"hours"}:
        raise ActionError("invalid_input", 'the body must be {"hours": null | {...}}')
    return await offline.set_site_hours(request.app.state.rt, site_id, data["hours"])


# --- outbox (operators of the site) ----------------------------------------------------

def _smtp_state(settings) -> dict:  # noqa: ANN001
    try:
        cfg = parse_smtp_url(settings.smtp_url)
    except ValueError as exc:
        return {"smtp_configured": False, "smtp_problem": str(exc)}
    if cfg is None:
        return {"smtp_configured": False,
                "smtp_problem": "FRONTDESK_SMTP_URL is not set: e-mail waits in the outbox until it is"}
    return {"smtp_configured": True, "smtp_problem": None}


@router.get("/outbox", tags=["operator"])
async def list_outbox(request: Request, conversation_id: int | None = Query(None, ge=1),
                      status: str | None = Query(None, pattern="^(queued|sending|sent|failed)$"),
                      limit: int = Query(50, ge=1, le=200), before_id: int | None = Query(None, ge=1),
                      op: Operator = Depends(current_operator)) -> dict:
    """E-mails of the sites you work on, newest first; filter by conversation and status."""
    rt = request.app.state.rt
    smtp = _smtp_state(rt.settings)
    q = select(OutboxEmail)
    async with rt.sessions() as session:
        if not op.is_admin:
            q = q.where(OutboxEmail.site_id.in_(await operators.operator_site_ids(session, op)))
        if conversation_id is not None:
            q = q.where(OutboxEmail.conversation_id == conversation_id)
        if status is not None:
            q = q.where(OutboxEmail.status == status)
        if before_id is not None:
            q = q.where(OutboxEmail.id < before_id)
        rows = (await session.execute(q.order_by(OutboxEmail.id.desc()).limit(limit))).scalars().all()
    emails = [outbox_json(r, smtp_configured=smtp["smtp_configured"], max_attempts=rt.settings.mail_max_attempts)
              for r in rows]
    return {**smtp, "emails": emails, "has_more": len(rows) == limit}


@router.post("/outbox/{email_id}/retry", tags=["operator"])
async def retry_email(email_id: int, request: Request, op: Operator = Depends(current_operator)) -> dict:
    """Send a ``failed`` e-mail again (attempts start over)."""
    rt = request.app.state.rt
    async with rt.sessions() as session:
        async with session.begin():
            row = await session.get(OutboxEmail, email_id)
            if row is None or row.site_id not in await operators.operator_site_ids(session, op):
                raise ActionError("not_found", "e-mail not found", 404)
            result = await session.execute(
                update(OutboxEmail).where(OutboxEmail.id == email_id, OutboxEmail.status == OutboxStatus.failed.value)
                .values(status=OutboxStatus.queued.value, attempts=0, next_attempt_at=rt.clock())
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                raise ActionError("conflict", "only a failed e-mail can be retried", 409)
        await session.refresh(row)
    smtp = _smtp_state(rt.settings)
    return {"email": outbox_json(row, smtp_configured=smtp["smtp_configured"],
                                 max_attempts=rt.settings.mail_max_attempts)}
