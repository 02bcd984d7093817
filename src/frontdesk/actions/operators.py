"""Operators: accounts, passwords, sessions, status."""
from __future__ import annotations

import asyncio
import functools
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk import events as ev
from frontdesk import serialize
from frontdesk.actions import hours, queries
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef
from frontdesk.actions.validate import check_email, check_name, check_password
from frontdesk.actions.visitors import token_hash
from frontdesk.events import Event
from frontdesk.models import Operator, OperatorSession, Site, SiteMember

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified instead of a real hash when the e-mail is unknown, so that such a login costs the
    same time as a wrong password. Computed once, on first use, in the hashing pool (not at import:
    every process start would pay ~0.2 s of CPU for it)."""
    return _hasher.hash("not-a-real-password")

# argon2 costs ~50 ms of CPU on purpose: never on the event loop, and never more than two at a
# time (a flood of logins queues here instead of starving every socket).
_HASH_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")
STATUSES = ("online", "away", "offline")


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_HASH_POOL, _hasher.hash, password)


async def verify_hash(password_hash: str | None, password: object) -> bool:
    """None: no such account (a dummy hash is verified, for the same cost, and the answer is False)."""
    if not isinstance(password, str):
        return False

    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.get_running_loop().run_in_executor(_HASH_POOL, verify)


async def add_operator(session: AsyncSession, *, email: object, name: object, password: object,
                       admin: bool = False, site_ids: list[int] | None = None) -> Operator:
    """Inside the caller's transaction (the CLI, the demo, ``admin.create_operator``);
    ``site_ids`` None = member of every existing site."""
    email = check_email(email)
    name = check_name(name)
    clean_password = check_password(password)
    if (await session.execute(select(Operator.id).where(Operator.email == email))).first():
        raise ActionError("conflict", f"an operator with e-mail {email} exists", 409)
    op = Operator(email=email, name=name, password_hash=await hash_password(clean_password),
                  role="admin" if admin else "operator")
    session.add(op)
    await session.flush()
    if site_ids is None:
        site_ids = list((await session.execute(select(Site.id))).scalars())
    for sid in site_ids:
        session.add(SiteMember(site_id=sid, operator_id=op.id))
    return op


async def login(rt: Runtime, email: str, password: str, user_agent: str = "") -> tuple[OperatorRef, str, str] | None:
    """Check the password (argon2 off the event loop) and start a session:
    (operator, session token, csrf token), or None for a wrong e-mail or password."""
    async with rt.sessions() as session:
        op = (await session.execute(select(Operator).where(
            Operator.email == email.strip().lower()))).scalar_one_or_none()
    ok = await verify_hash(op.password_hash if op else None, password)
    if not ok or op is None or not op.is_active:
        return None
    token, csrf = await start_session(rt, op.id, user_agent)
    return OperatorRef.of(op), token, csrf


async def start_session(rt: Runtime, operator_id: int, user_agent: str = "") -> tuple[str, str]:
    """Returns (session token, csrf token); both 256-bit."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    async with rt.sessions() as session, session.begin():
        session.add(OperatorSession(
            token_hash=token_hash(token), csrf_token=csrf, operator_id=operator_id,
            expires_at=rt.clock() + timedelta(days=rt.settings.session_days), user_agent=user_agent[:300]))
    return token, csrf


# A session's expiry moves forward on use, written at most once per this interval.
SESSION_TOUCH = timedelta(hours=1)


async def session_operator(rt: Runtime, token: str | None) -> tuple[OperatorRef, str] | None:
    """The operator of a session token and the session's csrf token, or None."""
    if not token or len(token) > 200 or not token.isascii():
        return None
    async with rt.sessions() as session:
        row = (await session.execute(
            select(OperatorSession, Operator).join(Operator, Operator.id == OperatorSession.operator_id)
            .where(OperatorSession.token_hash == token_hash(token)))).first()
    if row is None:
        return None
    sess, op = row
    now = rt.clock()
    if sess.expires_at < now or not op.is_active:
        return None
    lifetime = timedelta(days=rt.settings.session_days)
    if sess.expires_at - now < lifetime - SESSION_TOUCH:  # sliding: it lasts session_days without activity
        async with rt.sessions() as session, session.begin():
            await session.execute(update(OperatorSession).where(OperatorSession.id == sess.id)
                                  .values(expires_at=now + lifetime))
    return OperatorRef.of(op), sess.csrf_token


async def end_session(rt: Runtime, operator_id: int, token: str) -> None:
    """Log out this session; this operator's sockets are closed on every node (they re-check)."""
    async with rt.sessions() as session, session.begin():
        await session.execute(delete(OperatorSession).where(OperatorSession.token_hash == token_hash(token)))
    await access_changed(rt, operator_id)


async def end_other_sessions(session: AsyncSession, operator_id: int, keep_token: str | None) -> None:
    q = delete(OperatorSession).where(OperatorSession.operator_id == operator_id)
    if keep_token:
        q = q.where(OperatorSession.token_hash != token_hash(keep_token))
    await session.execute(q)


async def access_changed(rt: Runtime, operator_id: int) -> None:
    """The operator's sessions, role or sites changed: every node closes its panel sockets (4401);
    they reconnect and are authorised afresh."""
    await rt.publish(Event(ev.OPERATOR_ACCESS_CHANGED, None, {}, operator_id=operator_id))


async def site_ids_of(rt: Runtime, operator: OperatorRef) -> set[int]:
    async with rt.sessions() as session:
        return await queries.operator_site_ids(session, operator)


async def profile(rt: Runtime, operator: OperatorRef, csrf: str) -> dict:
    """``GET /me``: the operator, its sites and the settings the panel needs."""
    async with rt.sessions() as session:
        op = await session.get(Operator, operator.id)
        site_ids = await queries.operator_site_ids(session, operator)
    assert op is not None
    return {"operator": serialize.operator_private(op), "csrf_token": csrf,
            "site_ids": sorted(site_ids), "smtp_enabled": bool(rt.settings.smtp_url),
            "settings": {"offer_repeat": rt.settings.offer_repeat,
                         "max_message_chars": rt.settings.max_message_chars,
                         "photo_max_bytes": rt.settings.photo_max_bytes}}


async def update_profile(rt: Runtime, operator: OperatorRef, *, name: object = None,
                         language: object = None) -> dict:
    async with rt.sessions() as session, session.begin():
        row = await session.get(Operator, operator.id)
        assert row is not None
        if name is not None:
            row.name = check_name(name)
        if language is not None:
            if language not in ("ru", "en"):
                raise ActionError("invalid_input", "language must be ru or en")
            row.language = language
        return serialize.operator_private(row)


async def set_status(rt: Runtime, operator_id: int, status: object) -> str:
    """online / away / offline. Tells every panel and, when a site's availability changes, its visitors."""
    if status not in STATUSES:
        raise ActionError("invalid_input", "status must be online, away or offline")
    assert isinstance(status, str)
    rt.presence_changed(operator_id, status)
    async with rt.sessions() as session:
        async with session.begin():
            op = await session.get(Operator, operator_id)
            if op is None:
                raise ActionError("not_found", "operator not found", 404)
            site_ids = await queries.operator_site_ids(session, op)
            before = await queries.sites_online(session, site_ids)
            changed = op.status != status
            op.status = status
        after = await queries.sites_online(session, site_ids) if changed else before
    if changed:
        events = [Event(ev.OPERATOR_STATUS_CHANGED, None, {"status": status}, operator_id=operator_id)]
        events += await hours.availability_events(
            rt, {sid: after[sid] for sid in site_ids if after[sid] != before[sid]})
        await rt.publish(*events)
    return status
