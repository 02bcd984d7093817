"""Contacts a visitor leaves (e-mail, phone, name), from the widget's contacts form."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.actions import queries
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import VisitorRef
from frontdesk.actions.validate import check_phone, check_visitor_email, check_visitor_name
from frontdesk.actions.visitors import visitor_updated_event
from frontdesk.models import Message, Visitor

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime


async def _waiting_for_reply(session: AsyncSession, conversation_id: int) -> bool:
    last = (await session.execute(
        select(Message.kind).where(Message.conversation_id == conversation_id,
                                   Message.kind.in_(("visitor", "operator")))
        .order_by(Message.seq.desc()).limit(1))).scalar_one_or_none()
    return last == "visitor"


async def save_contacts(rt: Runtime, visitor: VisitorRef, *, email: object = None, phone: object = None,
                        name: object = None) -> dict:
    """Store contacts a visitor left (at least one of e-mail and phone; name optional).

    When the visitor leaves an e-mail while its open conversation waits for an
    answer, that conversation becomes ``is_offline``: the operator's reply is then
    e-mailed too (the visitor asked to be answered later)."""
    given = {k: v for k, v in (("email", email), ("phone", phone), ("name", name)) if v not in (None, "")}
    if not given.get("email") and not given.get("phone"):
        raise ActionError("invalid_input", "leave an e-mail or a phone number")
    values = {}
    if "email" in given:
        values["email"] = check_visitor_email(given["email"])
    if "phone" in given:
        values["phone"] = check_phone(given["phone"])
    if "name" in given:
        values["name"] = check_visitor_name(given["name"])
    async with rt.sessions() as session:
        async with session.begin():
            await session.execute(update(Visitor).where(Visitor.id == visitor.id).values(**values))
            conv = await queries.find_open(session, visitor.id)
            if conv is not None and "email" in values and not conv.is_offline \
                    and await _waiting_for_reply(session, conv.id):
                conv.is_offline = True
        row = await session.get(Visitor, visitor.id)
        assert row is not None
        event = await queries.updated_event(session, conv) if conv is not None and conv.last_seq > 0 else None
        listed = await visitor_updated_event(session, visitor.id)  # the visitors list names it too
    if event is not None:
        await rt.publish(event)
    if listed is not None:
        await rt.publish(listed)
    full = event.payload["conversation"] if event is not None else None
    return {"visitor": {"name": row.name, "email": row.email, "phone": row.phone},
            "conversation_id": full["id"] if full is not None else None,
            "is_offline": bool(full and full["is_offline"])}
