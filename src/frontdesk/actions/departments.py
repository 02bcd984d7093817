"""Departments of a site and how its new conversations find an operator.

* **Departments** ("Продажи", "Поддержка") belong to one site and have members (operators who
  work on the site). A conversation carries at most one department: the one the visitor chose in
  the widget before the first message (when the site offers the choice) or the one it was
  transferred to (``actions/routing.py``).
* **Routing settings per site** (``site_routing``; no row = the defaults): ``mode`` manual (every
  online operator is offered a new conversation, the first to take it has it — the default) or
  auto (``actions/routing.py`` gives it to the least busy online operator under their limit), and
  ``choose_department`` (the widget offers the site's departments before the first message).
* **Chat limits per operator** (``operator_routing``; no row = ``DEFAULT_CHAT_LIMIT``): how many
  open conversations automatic routing gives one operator at most.

Admin actions check the admin role themselves too (the web layer already asked for it).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.actions import conversations, queries
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef, SiteRef, VisitorRef
from frontdesk.actions.validate import check_id, check_name
from frontdesk.models import (
    DEFAULT_CHAT_LIMIT,
    Conversation,
    Department,
    DepartmentMember,
    Operator,
    OperatorRouting,
    Site,
    SiteMember,
    SiteRouting,
)

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

MODES = ("manual", "auto")
MAX_DEPARTMENTS = 50
CHAT_LIMIT_MAX = 100


def _admin(operator: OperatorRef) -> None:
    if not operator.is_admin:
        raise ActionError("forbidden", "only an administrator may do this", 403)


def routing_json(row: SiteRouting | None) -> dict:
    return {"mode": row.mode if row else "manual", "choose_department": bool(row and row.choose_department)}


async def site_routing(session: AsyncSession, site_id: int) -> dict:
    return routing_json(await session.get(SiteRouting, site_id))


async def _members(session: AsyncSession, department_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {d: [] for d in department_ids}
    if department_ids:
        rows = await session.execute(select(DepartmentMember.department_id, DepartmentMember.operator_id).where(
            DepartmentMember.department_id.in_(department_ids)).order_by(DepartmentMember.operator_id))
        for dep_id, op_id in rows:
            out[dep_id].append(op_id)
    return out


async def _departments_of(session: AsyncSession, site_ids: set[int]) -> list[dict]:
    deps = list((await session.execute(select(Department).where(Department.site_id.in_(site_ids))
                                       .order_by(Department.site_id, Department.position, Department.id))).scalars())
    members = await _members(session, [d.id for d in deps])
    return [{"id": d.id, "site_id": d.site_id, "name": d.name, "members": members[d.id]} for d in deps]


async def _site(session: AsyncSession, site_id: object) -> Site:
    site = await session.get(Site, check_id(site_id, "site"))
    if site is None:
        raise not_found("site")
    return site


async def list_departments(rt: Runtime, operator: OperatorRef, site_id: object) -> dict:
    """Admin: a site's routing settings and departments with their members."""
    _admin(operator)
    async with rt.sessions() as session:
        site = await _site(session, site_id)
        return {"routing": await site_routing(session, site.id),
                "departments": await _departments_of(session, {site.id})}


async def operator_departments(rt: Runtime, operator: OperatorRef) -> list[dict]:
    """The departments of the sites the operator works on (the panel's labels and transfer list)."""
    async with rt.sessions() as session:
        return await _departments_of(session, await queries.operator_site_ids(session, operator))


async def _check_members(session: AsyncSession, site_id: int, members: object) -> list[int]:
    if not isinstance(members, list) or len(members) > 1000:
        raise ActionError("invalid_input", "members must be a list of operator ids")
    ids = sorted({check_id(m, "operator") for m in members})
    if not ids:
        return []
    site_members = set((await session.execute(select(SiteMember.operator_id).where(
        SiteMember.site_id == site_id, SiteMember.operator_id.in_(ids)))).scalars())
    admins = set((await session.execute(select(Operator.id).where(
        Operator.id.in_(ids), Operator.role == "admin"))).scalars())
    if set(ids) - site_members - admins:
        raise ActionError("invalid_input", "members must be operators who work on this site")
    return ids


async def _set_members(session: AsyncSession, department_id: int, ids: list[int]) -> None:
    await session.execute(delete(DepartmentMember).where(DepartmentMember.department_id == department_id))
    session.add_all([DepartmentMember(department_id=department_id, operator_id=i) for i in ids])


async def create_department(rt: Runtime, operator: OperatorRef, site_id: object, name: object,
                            members: object = None) -> dict:
    _admin(operator)
    clean = check_name(name, "department name", 100)
    async with rt.sessions() as session:
        async with session.begin():
            site = await _site(session, site_id)
            count = (await session.execute(select(func.count()).select_from(Department).where(
                Department.site_id == site.id))).scalar_one()
            if count >= MAX_DEPARTMENTS:
                raise ActionError("invalid_input", f"a site has at most {MAX_DEPARTMENTS} departments")
            ids = await _check_members(session, site.id, members or [])
            dep = Department(site_id=site.id, name=clean, position=count, created_at=rt.clock())
            session.add(dep)
            await session.flush()
            await _set_members(session, dep.id, ids)
    rt.routing_wake()
    return {"id": dep.id, "site_id": dep.site_id, "name": dep.name, "members": ids}


async def update_department(rt: Runtime, operator: OperatorRef, department_id: object, *, name: object = None,
                            members: object = None) -> dict:
    _admin(operator)
    clean = check_name(name, "department name", 100) if name is not None else None
    async with rt.sessions() as session:
        async with session.begin():
            dep = await session.get(Department, check_id(department_id, "department"))
            if dep is None:
                raise not_found("department")
            if clean is not None:
                dep.name = clean
            if members is not None:
                await _set_members(session, dep.id, await _check_members(session, dep.site_id, members))
            current = (await _members(session, [dep.id]))[dep.id]
    rt.routing_wake()
    return {"id": dep.id, "site_id": dep.site_id, "name": dep.name, "members": current}


async def delete_department(rt: Runtime, operator: OperatorRef, department_id: object) -> dict:
    """Its conversations keep going without a department (they join the site's queue)."""
    _admin(operator)
    async with rt.sessions() as session:
        async with session.begin():
            dep = await session.get(Department, check_id(department_id, "department"))
            if dep is None:
                raise not_found("department")
            await session.delete(dep)
    rt.routing_wake()
    return {"id": dep.id, "deleted": True}


async def set_routing(rt: Runtime, operator: OperatorRef, site_id: object, *, mode: object = None,
                      choose_department: object = None) -> dict:
    """Admin: the site's routing mode (manual | auto) and whether the widget offers departments."""
    _admin(operator)
    if mode is not None and mode not in MODES:
        raise ActionError("invalid_input", "mode must be manual or auto")
    if choose_department is not None and not isinstance(choose_department, bool):
        raise ActionError("invalid_input", "choose_department must be true or false")
    async with rt.sessions() as session:
        async with session.begin():
            site = await _site(session, site_id)
            row = await session.get(SiteRouting, site.id)
            if row is None:
                row = SiteRouting(site_id=site.id, mode="manual", choose_department=False)
                session.add(row)
            if mode is not None:
                row.mode = str(mode)
            if choose_department is not None:
                row.choose_department = choose_department
            out = routing_json(row)
    rt.routing_wake()
    return out


async def chat_limits(rt: Runtime, operator: OperatorRef) -> dict:
    """Admin: every operator's chat limit and how many open conversations each holds now."""
    _admin(operator)
    async with rt.sessions() as session:
        ops = list((await session.execute(select(Operator.id).order_by(Operator.id))).scalars())
        limits = dict((await session.execute(select(OperatorRouting.operator_id, OperatorRouting.chat_limit))).all())
        active = await active_chats(session, ops)
    return {"default": DEFAULT_CHAT_LIMIT,
            "operators": [{"id": i, "chat_limit": limits.get(i, DEFAULT_CHAT_LIMIT), "active_chats": active.get(i, 0)}
                          for i in ops]}


async def active_chats(session: AsyncSession, operator_ids: list[int] | set[int]) -> dict[int, int]:
    """Open conversations each operator holds (every site)."""
    if not operator_ids:
        return {}
    rows = await session.execute(select(Conversation.assignee_id, func.count()).where(
        Conversation.status == "open", Conversation.assignee_id.in_(operator_ids)).group_by(Conversation.assignee_id))
    return {int(a or 0): int(n) for a, n in rows}


async def set_chat_limit(rt: Runtime, operator: OperatorRef, operator_id: object, chat_limit: object) -> dict:
    _admin(operator)
    if isinstance(chat_limit, bool) or not isinstance(chat_limit, int) or not 1 <= chat_limit <= CHAT_LIMIT_MAX:
        raise ActionError("invalid_input", f"chat_limit must be a whole number from 1 to {CHAT_LIMIT_MAX}")
    async with rt.sessions() as session:
        async with session.begin():
            target = await session.get(Operator, check_id(operator_id, "operator"))
            if target is None:
                raise not_found("operator")
            row = await session.get(OperatorRouting, target.id)
            if row is None:
                session.add(OperatorRouting(operator_id=target.id, chat_limit=chat_limit))
            else:
                row.chat_limit = chat_limit
    rt.routing_wake()
    return {"id": target.id, "chat_limit": chat_limit}


# --- the widget ---------------------------------------------------------------------------

async def widget_departments(rt: Runtime, site: SiteRef) -> list[dict]:
    """The departments the widget offers before the first message (``[]`` when the site does not
    offer a choice): ``[{"id", "name"}]``."""
    async with rt.sessions() as session:
        routing = await session.get(SiteRouting, site.id)
        if routing is None or not routing.choose_department:
            return []
        rows = await session.execute(select(Department.id, Department.name).where(Department.site_id == site.id)
                                     .order_by(Department.position, Department.id))
        return [{"id": i, "name": n} for i, n in rows]


async def choose_department(rt: Runtime, visitor: VisitorRef, department_id: object) -> dict:
    """The visitor picks a department before its first message: the (still unannounced) open
    conversation carries it. After the first message the choice is refused (``invalid_input``)."""
    dep_id = check_id(department_id, "department")
    cid = await conversations.open_conversation_id(rt, visitor)
    async with rt.sessions() as session:
        async with session.begin():
            dep = await session.get(Department, dep_id)
            routing = await session.get(SiteRouting, visitor.site_id)
            if dep is None or dep.site_id != visitor.site_id or routing is None or not routing.choose_department:
                raise not_found("department")
            conv = await session.get(Conversation, cid)
            if conv is None or conv.visitor_id != visitor.id:
                raise not_found()
            if conv.last_seq > 0 and conv.department_id != dep.id:
                raise ActionError("invalid_input", "the department is chosen before the first message")
            conv.department_id = dep.id
    return {"conversation_id": cid, "department": {"id": dep.id, "name": dep.name}}


async def department_targets(rt: Runtime, operator: OperatorRef, conversation_id: object) -> list[dict]:
    """The departments of a conversation's site it can be transferred to, with how many of their
    members are online now: ``[{"id", "name", "online"}]``."""
    async with rt.sessions() as session:
        conv = await queries.operator_conversation(session, operator, conversation_id)
        deps = await _departments_of(session, {conv.site_id})
        member_ids = {m for d in deps for m in d["members"]}
        online = set((await session.execute(select(Operator.id).where(
            Operator.id.in_(member_ids), Operator.status == "online", Operator.is_active.is_(True)))).scalars()) \
            if member_ids else set()
    return [{"id": d["id"], "name": d["name"], "online": len([m for m in d["members"] if m in online
                                                              and m != operator.id])} for d in deps]
