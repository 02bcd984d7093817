"""REST for supervision and missed chats: decline/cancel a transfer offer, a supervisor's whisper,
each site's escalation settings and the missed-chat count of the reports."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from frontdesk.actions import escalation, team
from frontdesk.actions.identity import OperatorRef
from frontdesk.web.auth import current_admin, current_operator
from frontdesk.web.errors import API_ERRORS

router = APIRouter(prefix="/api/v1", tags=["supervision"], responses=API_ERRORS)
Delay = Annotated[StrictInt, Field(ge=1, le=escalation.MAX_DELAY)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WhisperIn(Strict):
    text: str = Field(max_length=100_000)


class StepsIn(Strict):
    """Seconds after the conversation started; null = the step is off; left out = its default."""
    alert: Delay | None = None
    offer_all: Delay | None = None
    email: Delay | None = None
    contacts: Delay | None = None


class EscalationIn(Strict):
    enabled: StrictBool = False
    steps: StepsIn | None = None
    emails: list[Annotated[str, Field(max_length=320)]] = Field(default_factory=list, max_length=escalation.MAX_EMAILS)
    language: str = Field("ru", pattern="^(ru|en)$")


@router.post("/transfers/{transfer_id}/decline")
async def decline(transfer_id: str, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return await team.decline_transfer(request.app.state.rt, op, transfer_id)


@router.post("/transfers/{transfer_id}/cancel")
async def cancel(transfer_id: str, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return await team.cancel_transfer(request.app.state.rt, op, transfer_id)


@router.post("/conversations/{conversation_id}/whisper")
async def whisper(conversation_id: str, body: WhisperIn, request: Request,
                  op: OperatorRef = Depends(current_operator)) -> dict:
    """Supervisors (administrators) only: a note for the operator, never for the visitor."""
    return {"message": await team.whisper(request.app.state.rt, op, conversation_id, body.text)}


@router.get("/sites/{site_id}/escalation")
async def get_escalation(site_id: str, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return {"escalation": await escalation.get_settings(request.app.state.rt, op, site_id)}


@router.put("/sites/{site_id}/escalation")
async def put_escalation(site_id: str, body: EscalationIn, request: Request,
                         _admin: OperatorRef = Depends(current_admin)) -> dict:
    value = body.model_dump(exclude_unset=True)
    if body.steps is not None:
        value["steps"] = body.steps.model_dump(exclude_unset=True)
    return {"escalation": await escalation.put_settings(request.app.state.rt, site_id, value)}


@router.get("/reports/{site_id}/missed")
async def missed(site_id: str, request: Request, op: OperatorRef = Depends(current_operator), to: str = "") -> dict:
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD``: conversations that escalated to their site's last step unanswered."""
    return await escalation.missed_report(request.app.state.rt, op, site_id,
                                          request.query_params.get("from", ""), to)
