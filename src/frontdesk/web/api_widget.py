"""Public REST for the widget, keyed by site; the visitor is its Bearer token."""
from __future__ import annotations

from fastapi import APIRouter, Request

from frontdesk.actions import ActionError, conversations, not_found, sites, visitors
from frontdesk.actions.offline import site_availability
from frontdesk.models import Site

router = APIRouter(prefix="/api/v1/widget", tags=["widget"])


async def _site(request: Request, site_key: str | None) -> Site:
    async with request.app.state.rt.sessions() as session:
        site = await sites.site_by_key(session, site_key)
    if site is None:
        raise ActionError("not_found", "unknown site", 404)
    if not sites.origin_allowed(site, request.headers.get("origin")):
        raise ActionError("forbidden", "origin not allowed for this site", 403)
    return site


@router.get("/config")
async def widget_config(request: Request, site: str | None = None) -> dict:
    row = await _site(request, site)
    rt = request.app.state.rt
    async with rt.sessions() as session:  # issue 6: + within_hours, available
        availability = await site_availability(session, row, rt.clock())
    return {"site": {"name": row.name}, "widget": sites.widget_settings(row), **availability,
            "max_message_chars": rt.settings.max_message_chars}


@router.get("/conversations/{conversation_id}/messages")
async def visitor_history(conversation_id: str, request: Request, site: str | None = None,
                          after_seq: str = "0", limit: str = "100") -> dict:
    rt = request.app.state.rt
    row = await _site(request, site)
    auth = request.headers.get("authorization", "")
    token = auth[7:] if auth.lower().startswith("bearer ") else None
    if token is None:
        raise ActionError("unauthorized", "visitor token required", 401)
    try:
        visitor, _ = await visitors.identify_visitor(rt, row, token)
    except ActionError:
        raise not_found() from None  # a foreign token learns nothing
    after, lim = conversations.check_page_args(after_seq, limit)
    if not conversation_id.isdigit() or len(conversation_id) > 18:
        raise not_found()
    owned = await visitors.visitor_conversation_ids(rt, visitor, [int(conversation_id)])
    if not owned:
        raise not_found()
    cid = int(conversation_id)
    async with rt.sessions() as session:
        msgs = await conversations.messages_after(session, cid, after, lim, include_notes=False)
    return {"messages": msgs, "last_seq": owned[cid], "has_more": len(msgs) == lim}
