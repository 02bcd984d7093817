"""REST for the operator panel: login, profile, status, conversations, history."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from frontdesk import serialize
from frontdesk.actions import conversations, operators, sites, visits
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef
from frontdesk.web.auth import CSRF_COOKIE, SESSION_COOKIE, current_operator, current_session, set_session_cookies
from frontdesk.web.common import client_ip, site_out
from frontdesk.web.errors import API_ERRORS
from frontdesk.web.limits import retry_after

router = APIRouter(prefix="/api/v1", tags=["operator"], responses=API_ERRORS)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=256)


class ProfileIn(Strict):
    name: str | None = Field(None, min_length=1, max_length=100)
    language: str | None = Field(None, pattern="^(ru|en)$")


class StatusIn(Strict):
    status: str = Field(pattern="^(online|away|offline)$")


class ReplyIn(Strict):
    client_id: str = Field(pattern="^[A-Za-z0-9_.:-]{1,64}$")
    text: str = Field(max_length=100_000)
    kind: str = Field("operator", pattern="^(operator|note)$")


@router.post("/auth/login")
async def login(body: LoginIn, request: Request, response: Response) -> dict:
    rt = request.app.state.rt
    limiter = request.app.state.login_limiter
    ip = client_ip(request)
    email = body.email.strip().lower()
    wait = await limiter.check(ip, email)
    if wait:
        raise ActionError("rate_limited", "too many failed logins; wait a minute", 429, retry_after(wait))
    found = await operators.login(rt, email, body.password, request.headers.get("user-agent", ""))
    if found is None:
        raise ActionError("invalid_credentials", "wrong e-mail or password", 401)
    await limiter.succeeded(ip, email)
    op, token, csrf = found
    set_session_cookies(request, response, token, csrf)
    return {"operator": serialize.operator_private(op), "csrf_token": csrf}


@router.post("/auth/logout")
async def logout(request: Request, response: Response, found: tuple = Depends(current_session)) -> dict:
    await operators.end_session(request.app.state.rt, found[0].id, request.cookies.get(SESSION_COOKIE, ""))
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return {"ok": True}


@router.get("/me")
async def me(request: Request, found: tuple = Depends(current_session)) -> dict:
    op, csrf = found
    return await operators.profile(request.app.state.rt, op, csrf)


@router.patch("/me")
async def update_me(body: ProfileIn, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return {"operator": await operators.update_profile(request.app.state.rt, op, name=body.name,
                                                       language=body.language)}


@router.put("/me/status")
async def put_status(body: StatusIn, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return {"status": await operators.set_status(request.app.state.rt, op.id, body.status)}


@router.get("/conversations")
async def list_conversations(request: Request, status: str = Query("open", pattern="^(open|closed)$"),
                             limit: int = Query(50, ge=1, le=200),
                             before_id: int | None = Query(None, ge=1, le=2**63 - 1),
                             op: OperatorRef = Depends(current_operator)) -> dict:
    items = await conversations.list_for_operator(request.app.state.rt, op, status, limit, before_id)
    return {"conversations": items, "has_more": len(items) == limit}


@router.get("/conversations/{conversation_id}")
async def get_conversation(conversation_id: str, request: Request,
                           op: OperatorRef = Depends(current_operator)) -> dict:
    return {"conversation": await conversations.get_for_operator(request.app.state.rt, op, conversation_id)}


@router.get("/conversations/{conversation_id}/messages")
async def conversation_messages(conversation_id: str, request: Request, after_seq: str = "0", limit: str = "100",
                                op: OperatorRef = Depends(current_operator)) -> dict:
    return await conversations.operator_messages(request.app.state.rt, op, conversation_id, after_seq, limit)


@router.post("/conversations/{conversation_id}/messages")
async def reply(conversation_id: str, body: ReplyIn, request: Request,
                op: OperatorRef = Depends(current_operator)) -> dict:
    message = await conversations.send_operator_message(
        request.app.state.rt, op, conversation_id, body.client_id, body.text, body.kind)
    return {"message": message}


class TakeIn(Strict):
    force: bool = False  # take a conversation another operator holds (the panel confirms first)


@router.post("/conversations/{conversation_id}/take")
async def take(conversation_id: str, request: Request, body: TakeIn | None = None,
               op: OperatorRef = Depends(current_operator)) -> dict:
    return {"conversation": await conversations.take_conversation(
        request.app.state.rt, op, conversation_id, force=bool(body and body.force))}


@router.post("/conversations/{conversation_id}/close")
async def close(conversation_id: str, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return {"conversation": await conversations.close_conversation(request.app.state.rt, op, conversation_id)}


@router.post("/conversations/{conversation_id}/reopen")
async def reopen(conversation_id: str, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return {"conversation": await conversations.reopen_conversation(request.app.state.rt, op, conversation_id)}


@router.get("/sites")
async def list_sites(request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return {"sites": [site_out(request, s) for s in await sites.list_sites(request.app.state.rt, op)]}


@router.get("/visitors/online")
async def visitors_online(request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    """Visitors on the operator's sites now (an open visit), for the visitors list."""
    return await visits.online_visitors(request.app.state.rt, op)


@router.get("/visitors/{visitor_id}")
async def visitor_context(visitor_id: str, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    """A visitor's context beside the dialog: this visit, its pages, visits, conversations."""
    return await visits.visitor_context(request.app.state.rt, op, visitor_id)


class CardFieldsIn(Strict):
    order: list[str] = Field(max_length=50)
    hidden: list[str] = Field(max_length=50)


@router.get("/me/card-fields")
async def my_card_fields(request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    """Which visitor fields this operator sees beside the dialog, in its order."""
    return await visits.card_fields(request.app.state.rt, op)


@router.put("/me/card-fields")
async def set_my_card_fields(body: CardFieldsIn, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    """``{order: [field…], hidden: [field…]}``: saved for this operator (every device)."""
    return await visits.set_card_fields(request.app.state.rt, op, body.order, body.hidden)
