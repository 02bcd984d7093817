"""Administration and the own profile: photo, password, operators' accounts, site membership.

``check_*`` validates untrusted input and raises ``ActionError``; the verbs
trust what they are given. Session ends are committed before anything else
happens, so a refused request leaves every session as it was.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk import serialize
from frontdesk.actions import operators as ops
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef
from frontdesk.actions.validate import check_id, check_name, check_password
from frontdesk.models import Operator, OperatorSession, Site, SiteMember

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

# What an uploaded photo may be, recognised by its first bytes (never by the
# file name or the browser's Content-Type, both chosen by the uploader).
PHOTO_TYPES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def sniff_photo_type(head: bytes) -> str | None:
    """The MIME type of a PNG, JPEG or WebP image from its magic bytes, else None."""
    for magic, mime in PHOTO_TYPES:
        if head.startswith(magic):
            return mime
    # WebP: "RIFF" <4-byte size> "WEBP"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_photo(data: bytes, max_bytes: int) -> str:
    """The photo's MIME type; 413 when larger than ``max_bytes``, 415 when not PNG/JPEG/WebP."""
    if len(data) > max_bytes:
        raise ActionError("too_large", f"the photo must be at most {max_bytes // 1024} KiB", 413)
    if not data:
        raise ActionError("invalid_input", "the photo file is empty")
    mime = sniff_photo_type(data[:16])
    if mime is None:
        raise ActionError("unsupported_media_type", "the photo must be a PNG, JPEG or WebP image", 415)
    return mime


def photo_path(photo_dir: Path, operator_id: int) -> Path:
    return Path(photo_dir) / str(operator_id)


async def store_photo(rt: Runtime, operator_id: int, data: bytes) -> dict:
    """Write the photo (atomically: a reader never sees half a file), then record its type and version."""
    mime = check_photo(data, rt.settings.photo_max_bytes)
    path = photo_path(rt.settings.photo_dir, operator_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.upload")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    async with rt.sessions() as session, session.begin():
        op = await _operator(session, operator_id)
        op.photo_type = mime
        op.photo_version = (op.photo_version or 0) + 1  # new URL, so caches pick the new photo up
        return serialize.operator_private(op)


async def remove_photo(rt: Runtime, operator_id: int) -> dict:
    async with rt.sessions() as session, session.begin():
        op = await _operator(session, operator_id)
        op.photo_type = None
        op.photo_version = (op.photo_version or 0) + 1
        out = serialize.operator_private(op)
    photo_path(rt.settings.photo_dir, operator_id).unlink(missing_ok=True)
    return out


async def photo_file(rt: Runtime, operator_id: object) -> tuple[Path, str]:
    """The file and MIME type of an operator's photo (public: the widget shows it)."""
    oid = check_id(operator_id, "photo")
    async with rt.sessions() as session:
        op = await session.get(Operator, oid)
    path = photo_path(rt.settings.photo_dir, oid)
    if op is None or not op.photo_type or not path.exists():
        raise not_found("photo")
    return path, op.photo_type


async def change_password(rt: Runtime, operator_id: int, current: object, new: object,
                          keep_token: str | None) -> None:
    """Needs the current password; ends every other session of the operator (other browsers, stolen cookies)."""
    new = check_password(new)
    async with rt.sessions() as session:
        op = await _operator(session, operator_id)
    if not await ops.verify_hash(op.password_hash, current):
        raise ActionError("wrong_password", "the current password is wrong", 403)
    new_hash = await ops.hash_password(new)
    async with rt.sessions() as session, session.begin():
        op = await _operator(session, operator_id)
        op.password_hash = new_hash
        await ops.end_other_sessions(session, operator_id, keep_token)
    await ops.access_changed(rt, operator_id)


async def reset_password(rt: Runtime, operator_id: object, new: object) -> dict:
    """An administrator sets a new password: every session of that operator ends."""
    oid = check_id(operator_id, "operator")
    new_hash = await ops.hash_password(check_password(new))
    async with rt.sessions() as session, session.begin():
        op = await _operator(session, oid)
        op.password_hash = new_hash
        await ops.end_other_sessions(session, oid, None)
        out = serialize.operator_private(op)
    await ops.access_changed(rt, oid)
    return out


async def create_operator(rt: Runtime, *, email: object, name: object, password: object, admin: bool = False,
                          site_ids: list[int] | None = None) -> dict:
    async with rt.sessions() as session, session.begin():
        if site_ids is not None:
            known = set((await session.execute(select(Site.id).where(Site.id.in_(site_ids)))).scalars())
            if known != set(site_ids):
                raise ActionError("invalid_input", f"unknown site ids: {sorted(set(site_ids) - known)}")
        op = await ops.add_operator(session, email=email, name=name, password=password, admin=admin,
                                    site_ids=None if site_ids is None else sorted(set(site_ids)))
        members = await memberships(session)
        return {**serialize.operator_private(op), "site_ids": members.get(op.id, [])}


async def list_operators(rt: Runtime) -> list[dict]:
    """Admin: every operator with its sites."""
    async with rt.sessions() as session:
        rows = (await session.execute(select(Operator).order_by(Operator.id))).scalars().all()
        members = await memberships(session)
    return [{**serialize.operator_private(o), "site_ids": members.get(o.id, [])} for o in rows]


async def update_operator(rt: Runtime, admin: OperatorRef, operator_id: object, *, name: object = None,
                          role: object = None, is_active: object = None) -> dict:
    """Rename, change role, deactivate or reactivate. An administrator cannot lock themself out."""
    oid = check_id(operator_id, "operator")
    deactivated = role_changed = False
    async with rt.sessions() as session, session.begin():
        op = await _operator(session, oid)
        if name is not None:
            op.name = check_name(name)
        if role is not None:
            if role not in ("admin", "operator"):
                raise ActionError("invalid_input", "role must be admin or operator")
            if op.id == admin.id and role != "admin":
                raise ActionError("conflict", "you cannot take the administrator role from yourself", 409)
            role_changed = op.role != role
            op.role = role
        if is_active is not None:
            if not isinstance(is_active, bool):
                raise ActionError("invalid_input", "is_active must be true or false")
            if op.id == admin.id and not is_active:
                raise ActionError("conflict", "you cannot deactivate yourself", 409)
            deactivated = op.is_active and not is_active
            op.is_active = is_active
            if deactivated:
                await session.execute(delete(OperatorSession).where(OperatorSession.operator_id == op.id))
    if deactivated:
        # offline first, so visitors' availability and offers are right at once
        await ops.set_status(rt, oid, "offline")
    if deactivated or role_changed:
        await ops.access_changed(rt, oid)
    async with rt.sessions() as session:
        return serialize.operator_private(await _operator(session, oid))


async def set_memberships(rt: Runtime, operator_id: object, site_ids: object) -> list[int]:
    """Which sites an operator works on (administrators see every site regardless)."""
    if not isinstance(site_ids, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in site_ids):
        raise ActionError("invalid_input", "site_ids must be a list of site ids")
    oid = check_id(operator_id, "operator")
    wanted = set(site_ids)
    async with rt.sessions() as session, session.begin():
        await _operator(session, oid)
        existing = set((await session.execute(select(Site.id).where(Site.id.in_(wanted)))).scalars())
        if existing != wanted:
            raise ActionError("invalid_input", f"unknown site ids: {sorted(wanted - existing)}")
        await session.execute(delete(SiteMember).where(SiteMember.operator_id == oid))
        for sid in sorted(wanted):
            session.add(SiteMember(site_id=sid, operator_id=oid))
    await ops.access_changed(rt, oid)  # open panels now see exactly the new sites
    return sorted(wanted)


async def memberships(session: AsyncSession) -> dict[int, list[int]]:
    """operator id → the site ids it is a member of."""
    out: dict[int, list[int]] = {}
    for sid, oid in (await session.execute(select(SiteMember.site_id, SiteMember.operator_id))).all():
        out.setdefault(oid, []).append(sid)
    return {oid: sorted(sids) for oid, sids in out.items()}


async def _operator(session: AsyncSession, operator_id: int) -> Operator:
    op = await session.get(Operator, operator_id)
    if op is None:
        raise not_found("operator")
    return op
