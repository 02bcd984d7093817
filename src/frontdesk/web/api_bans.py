"""REST for bans in the panel: list, create (from a dialog, the visitors list or the bans page), lift.
docs/protocol.md § Bans; docs/moderation.md."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from frontdesk.actions import bans
from frontdesk.actions.identity import OperatorRef
from frontdesk.web.auth import current_operator
from frontdesk.web.common import json_body_doc, json_object
from frontdesk.web.errors import API_ERRORS

router = APIRouter(prefix="/api/v1", tags=["bans"], responses=API_ERRORS)

_ID = {"type": ["integer", "null"], "minimum": 1, "maximum": 2**63 - 1}
BAN_BODY = json_body_doc({
    "type": "object", "required": ["kind", "expiry"],
    "properties": {
        "kind": {"enum": ["visitor", "ip", "subnet"]},
        "value": {"type": ["string", "null"], "maxLength": 256},
        "reason": {"type": ["string", "null"], "maxLength": 500},
        "expiry": {"type": "string", "description": "1h | 1d | 1w | permanent | custom"},
        "custom": {"type": ["string", "null"], "description": "ISO 8601 date-time when expiry is custom"},
        "tz": {"type": ["string", "null"], "description": "IANA zone a custom time without offset is read in"},
        "site_id": _ID, "visitor_id": _ID, "conversation_id": _ID}},
    "a ban; from a dialog or the visitors list the site (and an empty value) come from the visitor")


@router.get("/bans")
async def list_bans(request: Request, q: str | None = Query(None, max_length=100),
                    status: str = Query("active", pattern="^(active|ended|all)$"),
                    site_id: str | None = None, op: OperatorRef = Depends(current_operator)) -> dict:
    """Bans of the sites you work on, newest first (at most 500); ``q`` searches value, reason and names."""
    return await bans.list_bans(request.app.state.rt, op, q=q, status=status, site_id=site_id)


@router.post("/bans", status_code=201, openapi_extra=BAN_BODY)
async def create_ban(request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    """Ban a visitor, an IP address or a subnet on a site; takes effect at once on every node."""
    data = await json_object(request)
    return {"ban": await bans.create_ban(request.app.state.rt, op, data)}


@router.post("/bans/{ban_id}/lift")
async def lift_ban(ban_id: str, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    """Lift a ban at once on every node."""
    return {"ban": await bans.lift_ban(request.app.state.rt, op, ban_id)}
