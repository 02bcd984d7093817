"""Operators: create, authenticate, sessions, status, site membership."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk import events as ev
from frontdesk.actions import ActionError
from frontdesk.events import Event
from frontdesk.models import Operator, OperatorSession, Site, SiteMember

_hasher = PasswordHasher()
# Computed once so that a login with an unknown e-mail costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
EMAIL_RE = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
STATUSES = ("online", "away", "offline")
MIN_PASSWORD = 8


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_email(email: object) -> str:
    if not isinstance(email, str) or not EMAIL_RE.match(email.strip()):
        raise ActionError("invalid_input", "a valid e-mail address is required")
    return email.strip().lower()


def check_name(name: object, what: str = "name", max_len: int = 100) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > max_len:
        raise ActionError("invalid_input", f"{what} must be 1-{max_len} characters")
    if any(ch in name for ch in "\r\n\x00"):
        raise ActionError("invalid_input", f"{what} must be one line")
    return name.strip()


def check_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD or len(password) > 256:
        raise ActionError("invalid_input", f"password must be {MIN_PASSWORD}-256 characters")
    return password


async def create_operator(session: AsyncSession, *, email: object, name: object, password: object,
                          admin: bool = False, site_ids: list[int] | None = None) -> Operator:
    """Create an operator; ``site_ids`` None = member of every existing site."""
    email = check_email(email)
    name = check_name(name)
    password = check_password(password)
    if (await session.execute(select(Operator.id).where(Operator.email == email))).first():
        raise ActionError("conflict", f"an operator with e-mail {email} exists", 409)
    op = Operator(email=email, name=name, password_hash=_hasher.hash(password),
                  role="admin" if admin else "operator")
    session.add(op)
    await session.flush()
    if site_ids is None:
        site_ids = list((await session.execute(select(Site.id))).scalars())
    for sid in site_ids:
        session.add(SiteMember(site_id=sid, operator_id=op.id))
    return op


async def authenticate(session: AsyncSession, email: str, password: str) -> Operator | None:
    op = (await session.execute(select(Operator).where(Operator.email == email.strip().lower()))).scalar_one_or_none()
    try:
        _hasher.verify(op.password_hash if op else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if op is None or not op.is_active:
        return None
    return op


def set_password(op: Operator, password: object) -> None:
    op.password_hash = _hasher.hash(check_password(password))


def verify_password(op: Operator, password: object) -> bool:
    try:
        return isinstance(password, str) and _hasher.verify(op.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def start_session(rt, op: Operator, user_agent: str = "") -> tuple[str, str]:  # noqa: ANN001
    """Returns (session token, csrf token); both 256-bit."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    async with rt.sessions() as session, session.begin():
        session.add(OperatorSession(
            token_hash=token_hash(token), csrf_token=csrf, operator_id=op.id,
            expires_at=rt.clock() + timedelta(days=rt.settings.session_days), user_agent=user_agent[:300]))
    return token, csrf


async def session_operator(rt, token: str | None) -> tuple[Operator, OperatorSession] | None:  # noqa: ANN001
    if not token or len(token) > 200:
        return None
    async with rt.sessions() as session:
        row = (await session.execute(
            select(OperatorSession, Operator).join(Operator, Operator.id == OperatorSession.operator_id)
            .where(OperatorSession.token_hash == token_hash(token)))).first()
    if row is None:
        return None
    sess, op = row
    if sess.expires_at < rt.clock() or not op.is_active:
        return None
    return op, sess


async def end_session(rt, token: str) -> None:  # noqa: ANN001
    async with rt.sessions() as session, session.begin():
        await session.execute(delete(OperatorSession).where(OperatorSession.token_hash == token_hash(token)))


async def end_other_sessions(session: AsyncSession, op: Operator, keep_token: str | None) -> None:
    q = delete(OperatorSession).where(OperatorSession.operator_id == op.id)
    if keep_token:
        q = q.where(OperatorSession.token_hash != token_hash(keep_token))
    await session.execute(q)


async def operator_site_ids(session: AsyncSession, op: Operator) -> set[int]:
    if op.is_admin:
        return set((await session.execute(select(Site.id))).scalars())
    return set((await session.execute(
        select(SiteMember.site_id).where(SiteMember.operator_id == op.id))).scalars())


async def sites_online(session: AsyncSession, site_ids: set[int]) -> dict[int, bool]:
    """Per site: is any active operator working on it online?"""
    online = (await session.execute(select(Operator).where(
        Operator.status == "online", Operator.is_active.is_(True)))).scalars().all()
    result = {sid: False for sid in site_ids}
    if not online:
        return result
    if any(o.is_admin for o in online):
        return {sid: True for sid in site_ids}
    members = (await session.execute(select(SiteMember.site_id).where(
        SiteMember.operator_id.in_([o.id for o in online]), SiteMember.site_id.in_(site_ids)))).scalars()
    for sid in members:
        result[sid] = True
    return result


async def set_status(rt, operator_id: int, status: object) -> str:  # noqa: ANN001
    if status not in STATUSES:
        raise ActionError("invalid_input", "status must be online, away or offline")
    async with rt.sessions() as session:
        async with session.begin():
            op = await session.get(Operator, operator_id)
            if op is None:
                raise ActionError("not_found", "operator not found", 404)
            site_ids = await operator_site_ids(session, op)
            before = await sites_online(session, site_ids)
            changed = op.status != status
            op.status = status
        after = await sites_online(session, site_ids) if changed else before
    if changed:
        events = [Event(ev.OPERATOR_STATUS_CHANGED, None, {"status": status}, operator_id=operator_id)]
        # issue 6: the availability frame also carries within_hours/available (actions/offline.py)
        from frontdesk.actions.offline import availability_events

        events += await availability_events(rt, {sid: after[sid] for sid in site_ids if after[sid] != before[sid]})
        await rt.publish(*events)
    return status
