"""Admin REST: sites (create, origins, widget settings, embed snippet), operators
(create, reset password, deactivate, site membership) and every operator's own
profile extras (photo upload, password change)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt
from starlette.datastructures import UploadFile

from frontdesk.actions import admin, sites
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef
from frontdesk.web.auth import SESSION_COOKIE, current_admin, current_operator, current_session
from frontdesk.web.common import PHOTO_BODY, client_ip, site_out
from frontdesk.web.errors import API_ERRORS
from frontdesk.web.limits import retry_after

router = APIRouter(prefix="/api/v1", tags=["admin"], responses=API_ERRORS)
SiteId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SiteIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    allowed_origins: list[str] = Field(default_factory=list, max_length=50)
    notify_emails: list[str] = Field(default_factory=list, max_length=20)
    widget: dict = Field(default_factory=dict)


class SitePatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    allowed_origins: list[str] | None = Field(None, max_length=50)
    notify_emails: list[str] | None = Field(None, max_length=20)
    widget: dict | None = None


class OperatorIn(Strict):
    email: str = Field(max_length=320)
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=256)
    admin: StrictBool = False
    site_ids: list[SiteId] | None = Field(None, max_length=1000)


class OperatorPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=100)
    role: str | None = Field(None, pattern="^(admin|operator)$")
    is_active: StrictBool | None = None


class PasswordChangeIn(Strict):
    current_password: str = Field(max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


class PasswordResetIn(Strict):
    password: str = Field(min_length=8, max_length=256)


class MembershipIn(Strict):
    site_ids: list[SiteId] = Field(max_length=1000)


@router.post("/sites", status_code=201)
async def create_site(body: SiteIn, request: Request, _admin: OperatorRef = Depends(current_admin)) -> dict:
    site = await sites.create_site(request.app.state.rt, name=body.name, origins=body.allowed_origins,
                                   notify=body.notify_emails, widget=body.widget)
    return {"site": site_out(request, site)}


@router.get("/sites/{site_id}")
async def get_site(site_id: str, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return {"site": site_out(request, await sites.get_site(request.app.state.rt, op, site_id))}


@router.patch("/sites/{site_id}")
async def update_site(site_id: str, body: SitePatch, request: Request,
                      _admin: OperatorRef = Depends(current_admin)) -> dict:
    site = await sites.update_site(request.app.state.rt, site_id, name=body.name, origins=body.allowed_origins,
                                   notify=body.notify_emails, widget=body.widget)
    return {"site": site_out(request, site)}


@router.get("/operators")
async def list_operators(request: Request, _admin: OperatorRef = Depends(current_admin)) -> dict:
    """Administrators only: every operator with its e-mail and sites."""
    return {"operators": await admin.list_operators(request.app.state.rt)}


@router.post("/operators", status_code=201)
async def create_operator(body: OperatorIn, request: Request, _admin: OperatorRef = Depends(current_admin)) -> dict:
    op = await admin.create_operator(request.app.state.rt, email=body.email, name=body.name, password=body.password,
                                     admin=body.admin, site_ids=body.site_ids)
    return {"operator": op}


@router.patch("/operators/{operator_id}")
async def update_operator(operator_id: str, body: OperatorPatch, request: Request,
                          me: OperatorRef = Depends(current_admin)) -> dict:
    op = await admin.update_operator(request.app.state.rt, me, operator_id, name=body.name, role=body.role,
                                     is_active=body.is_active)
    return {"operator": op}


@router.post("/operators/{operator_id}/password")
async def reset_operator_password(operator_id: str, body: PasswordResetIn, request: Request,
                                  _admin: OperatorRef = Depends(current_admin)) -> dict:
    """Set a new password for an operator (who forgot theirs); all of its sessions end."""
    return {"operator": await admin.reset_password(request.app.state.rt, operator_id, body.password)}


@router.put("/operators/{operator_id}/sites")
async def set_operator_sites(operator_id: str, body: MembershipIn, request: Request,
                             _admin: OperatorRef = Depends(current_admin)) -> dict:
    return {"site_ids": await admin.set_memberships(request.app.state.rt, operator_id, body.site_ids)}


# --- the own profile (every operator) ----------------------------------------------

# Multipart overhead (boundaries, part headers) allowed on top of the photo itself.
_MULTIPART_SLACK = 16 * 1024


@router.post("/me/photo", openapi_extra=PHOTO_BODY)
async def upload_photo(request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    """multipart/form-data with one file field ``photo``: PNG, JPEG or WebP, at most FRONTDESK_PHOTO_MAX_BYTES."""
    rt = request.app.state.rt
    limit = rt.settings.photo_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _MULTIPART_SLACK:
        # refuse before reading: a client announcing 1 GB is not read at all
        raise ActionError("too_large", f"the photo must be at most {limit // 1024} KiB", 413)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ActionError("unsupported_media_type", "send the photo as multipart/form-data, field 'photo'", 415)
    # Counted while it streams in (a chunked body announces no length): reading stops at the limit.
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit + _MULTIPART_SLACK:
            raise ActionError("too_large", f"the photo must be at most {limit // 1024} KiB", 413)
    request._body = bytes(body)  # the form parser reads the body from here, not the consumed stream
    try:
        form = await request.form(max_files=1, max_fields=4, max_part_size=4096)
    except Exception as exc:  # noqa: BLE001 - a malformed body is the client's error, never a 500
        raise ActionError("invalid_input", f"unreadable multipart body: {str(exc)[:100]}") from None
    try:
        upload = form.get("photo")
        if not isinstance(upload, UploadFile):
            raise ActionError("invalid_input", "the form needs one file field 'photo'")
        data = await upload.read(limit + 1)  # one byte more than allowed tells "too big" without reading it all
    finally:
        await form.close()
    return {"operator": await admin.store_photo(rt, op.id, data)}


@router.delete("/me/photo")
async def delete_photo(request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    return {"operator": await admin.remove_photo(request.app.state.rt, op.id)}


@router.post("/me/password")
async def change_password(body: PasswordChangeIn, request: Request, found: tuple = Depends(current_session)) -> dict:
    """Needs the current password; every other session of this operator ends (this one stays)."""
    op, _csrf = found
    limiter, ip = request.app.state.password_limiter, client_ip(request)
    wait = await limiter.check(ip, op.id)
    if wait:
        raise ActionError("rate_limited", "too many wrong passwords; wait a minute", 429, retry_after(wait))
    try:
        await admin.change_password(request.app.state.rt, op.id, body.current_password, body.new_password,
                                    request.cookies.get(SESSION_COOKIE))
    except ActionError as exc:
        if exc.code != "wrong_password":  # only wrong passwords count (not a weak new one)
            await limiter.succeeded(ip, op.id)
        raise
    await limiter.succeeded(ip, op.id)
    return {"ok": True}


@router.get("/operators/{operator_id}/photo", include_in_schema=True)
async def operator_photo(operator_id: str, request: Request) -> FileResponse:
    path, media_type = await admin.photo_file(request.app.state.rt, operator_id)
    # The URL carries ?v=<photo_version>, so a long cache is safe; the CSP makes sure
    # the bytes are only ever an image, even opened directly.
    return FileResponse(path, media_type=media_type, headers={
        "Cache-Control": "public, max-age=86400", "Content-Security-Policy": "default-src 'none'; sandbox"})
