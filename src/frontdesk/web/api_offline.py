"""REST of offline mode for operators: working hours (admin) and the e-mail outbox.
The widget's side (offline form, contacts) is in api_widget.py. docs/protocol.md § Offline mode and e-mail."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from frontdesk.actions import hours, outbox
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef
from frontdesk.web.auth import current_admin, current_operator
from frontdesk.web.common import HOURS_BODY, json_object
from frontdesk.web.errors import API_ERRORS

router = APIRouter(prefix="/api/v1", tags=["offline"], responses=API_ERRORS)


@router.get("/sites/{site_id}/hours", tags=["admin"])
async def get_hours(site_id: str, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return await hours.get_site_hours(request.app.state.rt, op, site_id)


@router.put("/sites/{site_id}/hours", tags=["admin"], openapi_extra=HOURS_BODY)
async def put_hours(site_id: str, request: Request, _admin: OperatorRef = Depends(current_admin)) -> dict:
    """Body ``{"hours": null}`` (24×7) or
    ``{"hours": {"timezone": "Europe/Moscow", "days": {"mon": [["09:00","18:00"]]}}}``."""
    data = await json_object(request)
    if set(data) != {"hours"}:
        raise ActionError("invalid_input", 'the body must be {"hours": null | {...}}')
    return await hours.set_site_hours(request.app.state.rt, site_id, data["hours"])


@router.get("/outbox", tags=["operator"])
async def list_outbox(request: Request, conversation_id: int | None = Query(None, ge=1, le=2**63 - 1),
                      status: str | None = Query(None, pattern="^(queued|sending|sent|failed)$"),
                      limit: int = Query(50, ge=1, le=200), before_id: int | None = Query(None, ge=1, le=2**63 - 1),
                      op: OperatorRef = Depends(current_operator)) -> dict:
    """E-mails of the sites you work on, newest first; filter by conversation and status."""
    return await outbox.list_outbox(request.app.state.rt, op, conversation_id=conversation_id, status=status,
                                    limit=limit, before_id=before_id)


@router.post("/outbox/{email_id}/retry", tags=["operator"])
async def retry_email(email_id: str, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    """Send a ``failed`` e-mail again (attempts start over)."""
    return await outbox.retry_email(request.app.state.rt, op, email_id)
