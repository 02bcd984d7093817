"""Administration and the own profile: photo, password, operators' accounts, site membership.

``check_*`` validates untrusted input and raises ``ActionError``; the verbs
trust what they are given. Session ends are committed before anything else
happens, so a refused request leaves every session as it was.
"""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.actions import ActionError
from frontdesk.actions import operators as ops
from frontdesk.models import Operator, OperatorSession, Site, SiteMember

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


async def store_photo(rt, operator_id: int, data: bytes) -> Operator:  # noqa: ANN001
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
    return op


async def remove_photo(rt, operator_id: int) -> Operator:  # noqa: ANN001
    async with rt.sessions() as session, session.begin():
        op = await _operator(session, operator_id)
        op.photo_type = None
        op.photo_version = (op.photo_version or 0) + 1
    photo_path(rt.settings.photo_dir, operator_id).unlink(missing_ok=True)
    return op


async def change_password(rt, operator_id: int, current: object, new: object, keep_token: str | None) -> None:  # noqa: ANN001
    """Needs the current password; ends every other session of the operator (other browsers, stolen cookies)."""
    async with rt.sessions() as session, session.begin():
        op = await _operator(session, operator_id)
        if not ops.verify_password(op, current):
            raise ActionError("wrong_password", "the current password is wrong", 403)
        ops.set_password(op, new)
        await ops.end_other_sessions(session, op, keep_token)
    _close_sockets(rt, operator_id)


async def reset_password(rt, operator_id: int, new: object) -> Operator:  # noqa: ANN001
    """An administrator sets a new password: every session of that operator ends."""
    async with rt.sessions() as session, session.begin():
        op = await _operator(session, operator_id)
        ops.set_password(op, new)
        await ops.end_other_sessions(session, op, None)
    _close_sockets(rt, operator_id)
    return op


async def update_operator(rt, admin: Operator, operator_id: int, *, name: object = None, role: object = None,  # noqa: ANN001
                          is_active: object = None) -> Operator:
    """Rename, change role, deactivate or reactivate. An administrator cannot lock themself out."""
    deactivated = False
    async with rt.sessions() as session, session.begin():
        op = await _operator(session, operator_id)
        if name is not None:
            op.name = ops.check_name(name)
        if role is not None:
            if role not in ("admin", "operator"):
                raise ActionError("invalid_input", "role must be admin or operator")
            if op.id == admin.id and role != "admin":
                raise ActionError("conflict", "you cannot take the administrator role from yourself", 409)
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
        await ops.set_status(rt, operator_id, "offline")
        _close_sockets(rt, operator_id)
        async with rt.sessions() as session:
            op = await _operator(session, operator_id)
    return op


async def set_memberships(rt, operator_id: int, site_ids: object) -> list[int]:  # noqa: ANN001
    """Which sites an operator works on (administrators see every site regardless)."""
    if not isinstance(site_ids, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in site_ids):
        raise ActionError("invalid_input", "site_ids must be a list of site ids")
    wanted = set(site_ids)
    async with rt.sessions() as session, session.begin():
        await _operator(session, operator_id)
        existing = set((await session.execute(select(Site.id).where(Site.id.in_(wanted)))).scalars())
        if existing != wanted:
            raise ActionError("invalid_input", f"unknown site ids: {sorted(wanted - existing)}")
        await session.execute(delete(SiteMember).where(SiteMember.operator_id == operator_id))
        for sid in sorted(wanted):
            session.add(SiteMember(site_id=sid, operator_id=operator_id))
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
        raise ActionError("not_found", "operator not found", 404)
    return op


def _close_sockets(rt, operator_id: int) -> None:  # noqa: ANN001
    """Close this node's panel sockets of the operator; their reconnect meets the session check.

    Other nodes' sockets close at their next reconnect (see the report: a
    cross-node "sessions ended" event is needed to close them at once)."""
    for conn in list(rt.hub.operators.get(operator_id, ())):
        conn.close(4401)
