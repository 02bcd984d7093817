"""REST for the operator panel: login, profile, status, conversations, history."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from frontdesk import serialize
from frontdesk.actions import ActionError, conversations, operators
from frontdesk.models import Operator, Site
from frontdesk.web.auth import CSRF_COOKIE, SESSION_COOKIE, current_operator, current_session

router = APIRouter(prefix="/api/v1", tags=["operator"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=256)


class ProfileIn(Strict):
    name: str | None = Field(None, max_length=100)
    language: str | None = Field(None, pattern="^(ru|en)$")


class StatusIn(Strict):
    status: str = Field(pattern="^(online|away|offline)$")


class ReplyIn(Strict):
    client_id: str = Field(min_length=1, max_length=64)
    text: str = Field(max_length=100_000)
    kind: str = Field("operator", pattern="^(operator|note)$")


def _cookie_secure(request: Request) -> bool:
    rt = request.app.state.rt
    return (rt.settings.public_url or str(request.base_url)).startswith("https")


@router.post("/auth/login")
async def login(body: LoginIn, request: Request, response: Response) -> dict:
    rt = request.app.state.rt
    limiter = request.app.state.login_limiter
    ip = request.client.host if request.client else ""
    email = body.email.strip().lower()
    if limiter.blocked(ip, email):
        raise ActionError("rate_limited", "too many failed logins; wait a minute", 429)
    async with rt.sessions() as session:
        op = await operators.authenticate(session, email, body.password)
    if op is None:
        limiter.failed(ip, email)
        raise ActionError("invalid_credentials", "wrong e-mail or password", 401)
    limiter.succeeded(ip, email)
    token, csrf = await operators.start_session(rt, op, request.headers.get("user-agent", ""))
    secure = _cookie_secure(request)
    max_age = rt.settings.session_days * 86400
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax",
                        secure=secure, path="/")
    # readable by the panel's script, echoed back in X-CSRF-Token (double submit)
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="strict",
                        secure=secure, path="/")
    return {"operator": serialize.operator_private(op), "csrf_token": csrf}


@router.post("/auth/logout")
async def logout(request: Request, response: Response, _found: tuple = Depends(current_session)) -> dict:
    await operators.end_session(request.app.state.rt, request.cookies.get(SESSION_COOKIE, ""))
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return {"ok": True}


@router.get("/me")
async def me(request: Request, found: tuple = Depends(current_session)) -> dict:
    op, sess = found
    rt = request.app.state.rt
    async with rt.sessions() as session:
        site_ids = await operators.operator_site_ids(session, op)
    return {"operator": serialize.operator_private(op), "csrf_token": sess.csrf_token,
            "site_ids": sorted(site_ids), "smtp_enabled": bool(rt.settings.smtp_url),
            "settings": {"offer_repeat": rt.settings.offer_repeat,
                         "max_message_chars": rt.settings.max_message_chars,
                         "photo_max_bytes": rt.settings.photo_max_bytes}}


@router.patch("/me")
async def update_me(body: ProfileIn, request: Request, op: Operator = Depends(current_operator)) -> dict:
    rt = request.app.state.rt
    async with rt.sessions() as session, session.begin():
        row = await session.get(Operator, op.id)
        if body.name is not None:
            row.name = operators.check_name(body.name)
        if body.language is not None:
            row.language = body.language
    return {"operator": serialize.operator_private(row)}


@router.put("/me/status")
async def put_status(body: StatusIn, request: Request, op: Operator = Depends(current_operator)) -> dict:
    status = await operators.set_status(request.app.state.rt, op.id, body.status)
    return {"status": status}


@router.get("/conversations")
async def list_conversations(request: Request, status: str = Query("open", pattern="^(open|closed)$"),
                             limit: int = Query(50, ge=1, le=200), before_id: int | None = Query(None, ge=1),
                             op: Operator = Depends(current_operator)) -> dict:
    async with request.app.state.rt.sessions() as session:
        items = await conversations.list_open_for_operator(session, op, status, limit, before_id)
    return {"conversations": items, "has_more": len(items) == limit}


@router.get("/conversations/{conversation_id}")
async def get_conversation(conversation_id: str, request: Request, op: Operator = Depends(current_operator)) -> dict:
    async with request.app.state.rt.sessions() as session:
        conv = await conversations.check_operator_conversation(session, op, conversation_id)
        return {"conversation": await conversations.load_conversation(session, conv)}


@router.get("/conversations/{conversation_id}/messages")
async def conversation_messages(conversation_id: str, request: Request, after_seq: str = "0", limit: str = "100",
                                op: Operator = Depends(current_operator)) -> dict:
    after, lim = conversations.check_page_args(after_seq, limit)
    async with request.app.state.rt.sessions() as session:
        conv = await conversations.check_operator_conversation(session, op, conversation_id)
        msgs = await conversations.messages_after(session, conv.id, after, lim, include_notes=True)
    return {"messages": msgs, "last_seq": conv.last_seq, "has_more": len(msgs) == lim}


@router.post("/conversations/{conversation_id}/messages")
async def reply(conversation_id: str, body: ReplyIn, request: Request, op: Operator = Depends(current_operator)) -> dict:
    message = await conversations.send_operator_message(
        request.app.state.rt, op, conversation_id, body.client_id, body.text, body.kind)
    return {"message": message}


@router.post("/conversations/{conversation_id}/take")
async def take(conversation_id: str, request: Request, op: Operator = Depends(current_operator)) -> dict:
    return {"conversation": await conversations.take_conversation(request.app.state.rt, op, conversation_id)}


@router.post("/conversations/{conversation_id}/close")
async def close(conversation_id: str, request: Request, op: Operator = Depends(current_operator)) -> dict:
    return {"conversation": await conversations.close_conversation(request.app.state.rt, op, conversation_id)}


@router.post("/conversations/{conversation_id}/reopen")
async def reopen(conversation_id: str, request: Request, op: Operator = Depends(current_operator)) -> dict:
    return {"conversation": await conversations.reopen_conversation(request.app.state.rt, op, conversation_id)}


@router.get("/sites")
async def list_sites(request: Request, op: Operator = Depends(current_operator)) -> dict:
    from frontdesk.web.api_admin import site_out

    async with request.app.state.rt.sessions() as session:
        ids = await operators.operator_site_ids(session, op)
        rows = (await session.execute(select(Site).where(Site.id.in_(ids)).order_by(Site.id))).scalars().all()
    return {"sites": [site_out(request, s) for s in rows]}

