"""REST for departments and routing: a site's departments and members, its routing settings,
every operator's chat limit (admin), the departments an operator works with, transfer to a department."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from frontdesk.actions import departments, routing
from frontdesk.actions.identity import OperatorRef
from frontdesk.web.auth import current_admin, current_operator
from frontdesk.web.errors import API_ERRORS

router = APIRouter(prefix="/api/v1", tags=["departments"], responses=API_ERRORS)
OpId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DepartmentIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    members: list[OpId] = Field(default_factory=list, max_length=1000)


class DepartmentPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=100)
    members: list[OpId] | None = Field(None, max_length=1000)


class RoutingIn(Strict):
    mode: str | None = Field(None, pattern="^(manual|auto)$")
    choose_department: StrictBool | None = None


class ChatLimitIn(Strict):
    chat_limit: StrictInt = Field(ge=1, le=departments.CHAT_LIMIT_MAX)


class DepartmentTransferIn(Strict):
    department_id: OpId
    note: str = Field("", max_length=100_000)


@router.get("/sites/{site_id}/departments")
async def site_departments(site_id: str, request: Request, op: OperatorRef = Depends(current_admin)) -> dict:
    return await departments.list_departments(request.app.state.rt, op, site_id)


@router.post("/sites/{site_id}/departments", status_code=201)
async def create_department(site_id: str, body: DepartmentIn, request: Request,
                            op: OperatorRef = Depends(current_admin)) -> dict:
    return {"department": await departments.create_department(request.app.state.rt, op, site_id, body.name,
                                                              body.members)}


@router.patch("/departments/{department_id}")
async def update_department(department_id: str, body: DepartmentPatch, request: Request,
                            op: OperatorRef = Depends(current_admin)) -> dict:
    return {"department": await departments.update_department(request.app.state.rt, op, department_id,
                                                              name=body.name, members=body.members)}


@router.delete("/departments/{department_id}")
async def delete_department(department_id: str, request: Request, op: OperatorRef = Depends(current_admin)) -> dict:
    return await departments.delete_department(request.app.state.rt, op, department_id)


@router.put("/sites/{site_id}/routing")
async def set_routing(site_id: str, body: RoutingIn, request: Request,
                      op: OperatorRef = Depends(current_admin)) -> dict:
    return {"routing": await departments.set_routing(request.app.state.rt, op, site_id, mode=body.mode,
                                                     choose_department=body.choose_department)}


@router.get("/chat-limits")
async def chat_limits(request: Request, op: OperatorRef = Depends(current_admin)) -> dict:
    return await departments.chat_limits(request.app.state.rt, op)


@router.put("/operators/{operator_id}/chat-limit")
async def set_chat_limit(operator_id: str, body: ChatLimitIn, request: Request,
                         op: OperatorRef = Depends(current_admin)) -> dict:
    return await departments.set_chat_limit(request.app.state.rt, op, operator_id, body.chat_limit)


@router.get("/departments")
async def my_departments(request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return {"departments": await departments.operator_departments(request.app.state.rt, op)}


@router.post("/conversations/{conversation_id}/transfer-department")
async def transfer_to_department(conversation_id: str, body: DepartmentTransferIn, request: Request,
                                 op: OperatorRef = Depends(current_operator)) -> dict:
    return await routing.transfer_to_department(request.app.state.rt, op, conversation_id, body.department_id,
                                                body.note)
