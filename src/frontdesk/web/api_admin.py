"""Admin REST: sites (create, origins, widget settings, embed snippet), operators
(create, reset password, deactivate, site membership) and every operator's own
profile extras (photo upload, password change)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy import select
from starlette.datastructures import UploadFile

from frontdesk import serialize
from frontdesk.actions import ActionError, admin, operators, sites
from frontdesk.models import Operator, Site
from frontdesk.web.auth import SESSION_COOKIE, current_admin, current_operator, current_session

router = APIRouter(prefix="/api/v1", tags=["admin"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SiteIn(Strict):
    name: str = Field(max_length=200)
    allowed_origins: list[str] = Field(default_factory=list, max_length=50)
    notify_emails: list[str] = Field(default_factory=list, max_length=20)
    widget: dict = Field(default_factory=dict)


class SitePatch(Strict):
    name: str | None = Field(None, max_length=200)
    allowed_origins: list[str] | None = Field(None, max_length=50)
    notify_emails: list[str] | None = Field(None, max_length=20)
    widget: dict | None = None


class OperatorIn(Strict):
    email: str = Field(max_length=320)
    name: str = Field(max_length=100)
    password: str = Field(max_length=256)
    admin: StrictBool = False
    site_ids: list[int] | None = Field(None, max_length=1000)


class OperatorPatch(Strict):
    name: str | None = Field(None, max_length=100)
    role: str | None = Field(None, pattern="^(admin|operator)$")
    is_active: StrictBool | None = None


class PasswordChangeIn(Strict):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class PasswordResetIn(Strict):
    password: str = Field(max_length=256)


class MembershipIn(Strict):
    site_ids: list[int] = Field(max_length=1000)


def public_base(request: Request) -> str:
    rt = request.app.state.rt
    return (rt.settings.public_url or str(request.base_url)).rstrip("/")


def embed_snippet(request: Request, site: Site) -> str:
    return f'<script src="{public_base(request)}/widget.js" data-site="{site.site_key}" async></script>'


def site_out(request: Request, site: Site) -> dict:
    return {"id": site.id, "name": site.name, "site_key": site.site_key,
            "allowed_origins": site.allowed_origins, "notify_emails": site.notify_emails,
            "widget": sites.widget_settings(site), "embed": embed_snippet(request, site),
            "created_at": serialize.iso(site.created_at)}


@router.post("/sites", status_code=201)
async def create_site(body: SiteIn, request: Request, _admin: Operator = Depends(current_admin)) -> dict:
    async with request.app.state.rt.sessions() as session, session.begin():
        site = await sites.create_site(session, name=body.name, origins=body.allowed_origins,
                                       notify=body.notify_emails, widget=body.widget)
    return {"site": site_out(request, site)}


@router.get("/sites/{site_id}")
async def get_site(site_id: int, request: Request, op: Operator = Depends(current_operator)) -> dict:
    async with request.app.state.rt.sessions() as session:
        if site_id not in await operators.operator_site_ids(session, op):
            raise ActionError("not_found", "site not found", 404)
        site = await session.get(Site, site_id)
    return {"site": site_out(request, site)}


@router.patch("/sites/{site_id}")
async def update_site(site_id: int, body: SitePatch, request: Request, _admin: Operator = Depends(current_admin)) -> dict:
    async with request.app.state.rt.sessions() as session, session.begin():
        site = await session.get(Site, site_id)
        if site is None:
            raise ActionError("not_found", "site not found", 404)
        if body.name is not None:
            site.name = operators.check_name(body.name, "site name", 200)
        if body.allowed_origins is not None:
            site.allowed_origins = sorted({sites.check_origin(o) for o in body.allowed_origins})
        if body.notify_emails is not None:
            site.notify_emails = [operators.check_email(e) for e in body.notify_emails]
        if body.widget is not None:
            site.widget = sites.check_widget({**_overrides(site.widget), **body.widget})
    return {"site": site_out(request, site)}


def _overrides(widget: dict | None) -> dict:
    return dict(widget or {})


def _operator_out(op: Operator, site_ids: list[int] | None = None) -> dict:
    out = serialize.operator_private(op)
    if site_ids is not None:
        out["site_ids"] = site_ids
    return out


@router.get("/operators")
async def list_operators(request: Request, op: Operator = Depends(current_operator)) -> dict:
    async with request.app.state.rt.sessions() as session:
        rows = (await session.execute(select(Operator).order_by(Operator.id))).scalars().all()
        members = await admin.memberships(session) if op.is_admin else None
    return {"operators": [_operator_out(o, None if members is None else members.get(o.id, []))
                          for o in rows]}


@router.post("/operators", status_code=201)
async def create_operator(body: OperatorIn, request: Request, _admin: Operator = Depends(current_admin)) -> dict:
    rt = request.app.state.rt
    if body.site_ids is not None:
        async with rt.sessions() as session:
            known = set((await session.execute(select(Site.id).where(Site.id.in_(body.site_ids)))).scalars())
        if known != set(body.site_ids):
            raise ActionError("invalid_input", f"unknown site ids: {sorted(set(body.site_ids) - known)}")
    async with rt.sessions() as session, session.begin():
        op = await operators.create_operator(session, email=body.email, name=body.name,
                                             password=body.password, admin=body.admin,
                                             site_ids=None if body.site_ids is None else sorted(set(body.site_ids)))
    async with rt.sessions() as session:
        members = await admin.memberships(session)
    return {"operator": _operator_out(op, members.get(op.id, []))}


@router.patch("/operators/{operator_id}")
async def update_operator(operator_id: int, body: OperatorPatch, request: Request,
                          me: Operator = Depends(current_admin)) -> dict:
    op = await admin.update_operator(request.app.state.rt, me, operator_id, name=body.name, role=body.role,
                                     is_active=body.is_active)
    return {"operator": _operator_out(op)}


@router.post("/operators/{operator_id}/password")
async def reset_operator_password(operator_id: int, body: PasswordResetIn, request: Request,
                                  _admin: Operator = Depends(current_admin)) -> dict:
    """Set a new password for an operator (who forgot theirs); all of its sessions end."""
    op = await admin.reset_password(request.app.state.rt, operator_id, body.password)
    return {"operator": _operator_out(op)}


@router.put("/operators/{operator_id}/sites")
async def set_operator_sites(operator_id: int, body: MembershipIn, request: Request,
                             _admin: Operator = Depends(current_admin)) -> dict:
    return {"site_ids": await admin.set_memberships(request.app.state.rt, operator_id, body.site_ids)}


# --- the own profile (every operator) ----------------------------------------------

# Multipart overhead (boundaries, part headers) allowed on top of the photo itself.
_MULTIPART_SLACK = 16 * 1024


@router.post("/me/photo")
async def upload_photo(request: Request, op: Operator = Depends(current_operator)) -> dict:
    """multipart/form-data with one file field ``photo``: PNG, JPEG or WebP, at most FRONTDESK_PHOTO_MAX_BYTES."""
    rt = request.app.state.rt
    limit = rt.settings.photo_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _MULTIPART_SLACK:
        # refuse before reading: a client announcing 1 GB is not read at all
        raise ActionError("too_large", f"the photo must be at most {limit // 1024} KiB", 413)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ActionError("unsupported_media_type", "send the photo as multipart/form-data, field 'photo'", 415)
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
    updated = await admin.store_photo(rt, op.id, data)
    return {"operator": serialize.operator_private(updated)}


@router.delete("/me/photo")
async def delete_photo(request: Request, op: Operator = Depends(current_operator)) -> dict:
    updated = await admin.remove_photo(request.app.state.rt, op.id)
    return {"operator": serialize.operator_private(updated)}


@router.post("/me/password")
async def change_password(body: PasswordChangeIn, request: Request, found: tuple = Depends(current_session)) -> dict:
    """Needs the current password; every other session of this operator ends (this one stays)."""
    op, _sess = found
    await admin.change_password(request.app.state.rt, op.id, body.current_password, body.new_password,
                                request.cookies.get(SESSION_COOKIE))
    return {"ok": True}


@router.get("/operators/{operator_id}/photo", include_in_schema=True)
async def operator_photo(operator_id: int, request: Request) -> FileResponse:
    rt = request.app.state.rt
    async with rt.sessions() as session:
        op = await session.get(Operator, operator_id)
    path = admin.photo_path(rt.settings.photo_dir, operator_id)
    if op is None or not op.photo_type or not path.exists():
        raise ActionError("not_found", "no photo", 404)
    # The URL carries ?v=<photo_version>, so a long cache is safe; the CSP makes sure
    # the bytes are only ever an image, even opened directly.
    return FileResponse(path, media_type=op.photo_type, headers={
        "Cache-Control": "public, max-age=86400", "Content-Security-Policy": "default-src 'none'; sandbox"})
