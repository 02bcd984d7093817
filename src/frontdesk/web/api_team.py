"""REST for team work in the panel: transfer a conversation to a colleague, accept an offer."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from frontdesk.actions import departments, team
from frontdesk.actions.identity import OperatorRef
from frontdesk.web.auth import current_operator
from frontdesk.web.errors import API_ERRORS

router = APIRouter(prefix="/api/v1", tags=["team"], responses=API_ERRORS)


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_operator_id: int = Field(ge=1, le=2**63 - 1)
    note: str = Field("", max_length=100_000)


@router.get("/conversations/{conversation_id}/transfer-targets")
async def transfer_targets(conversation_id: str, request: Request,
                           op: OperatorRef = Depends(current_operator)) -> dict:
    rt = request.app.state.rt
    return {"operators": await team.transfer_targets(rt, op, conversation_id),
            "departments": await departments.department_targets(rt, op, conversation_id)}


@router.post("/conversations/{conversation_id}/transfer")
async def transfer(conversation_id: str, body: TransferIn, request: Request,
                   op: OperatorRef = Depends(current_operator)) -> dict:
    return {"transfer": await team.offer_transfer(request.app.state.rt, op, conversation_id, body.to_operator_id,
                                                  body.note)}


@router.post("/transfers/{transfer_id}/accept")
async def accept(transfer_id: str, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return {"conversation": await team.accept_transfer(request.app.state.rt, op, transfer_id)}
