"""Admin REST: sites (create, origins, widget settings, embed snippet) and operators."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from frontdesk import serialize
from frontdesk.actions import ActionError, operators, sites
from frontdesk.models import Operator, Site
from frontdesk.web.auth import current_admin, current_operator

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
    admin: bool = False


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


@router.get("/operators")
async def list_operators(request: Request, _op: Operator = Depends(current_operator)) -> dict:
    async with request.app.state.rt.sessions() as session:
        rows = (await session.execute(select(Operator).order_by(Operator.id))).scalars().all()
    return {"operators": [serialize.operator_private(o) for o in rows]}


@router.post("/operators", status_code=201)
async def create_operator(body: OperatorIn, request: Request, _admin: Operator = Depends(current_admin)) -> dict:
    async with request.app.state.rt.sessions() as session, session.begin():
        op = await operators.create_operator(session, email=body.email, name=body.name,
                                             password=body.password, admin=body.admin)
    return {"operator": serialize.operator_private(op)}


@router.get("/operators/{operator_id}/photo", include_in_schema=True)
async def operator_photo(operator_id: int, request: Request) -> FileResponse:
    rt = request.app.state.rt
    async with rt.sessions() as session:
        op = await session.get(Operator, operator_id)
    path = Path(rt.settings.photo_dir) / str(operator_id)
    if op is None or not op.photo_type or not path.exists():
        raise ActionError("not_found", "no photo", 404)
    return FileResponse(path, media_type=op.photo_type, headers={"Cache-Control": "public, max-age=86400"})
