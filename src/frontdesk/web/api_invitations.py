"""REST for proactive invitations (docs/invitations.md): rules per site (admins edit, operators
of the site read, with counts), a manual invitation from the visitors list, and the widget's
reports and wait for a manual invitation."""
from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from frontdesk.actions import invitations, visitors
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef
from frontdesk.web.auth import current_admin, current_operator
from frontdesk.web.common import client_ip, json_object
from frontdesk.web.errors import API_ERRORS

router = APIRouter(prefix="/api/v1", tags=["invitations"], responses=API_ERRORS)

WAIT_SECONDS = 25.0  # a held wait answers {"invitation": null} after this; the widget asks again


class InviteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=100_000)


@router.get("/sites/{site_id}/invitations")
async def list_rules(site_id: str, request: Request, op: OperatorRef = Depends(current_operator)) -> dict:
    """The site's invitation rules with shown / accepted / dismissed counts (operators of the site)."""
    return await invitations.list_rules(request.app.state.rt, op, site_id)


@router.post("/sites/{site_id}/invitations", status_code=201)
async def create_rule(site_id: str, request: Request, _admin: OperatorRef = Depends(current_admin)) -> dict:
    """Admin: ``{name, enabled?, priority?, conditions?, action, caps?}`` (shapes in docs/invitations.md)."""
    return {"rule": await invitations.create_rule(request.app.state.rt, site_id, await json_object(request))}


@router.patch("/invitations/{rule_id}")
async def update_rule(rule_id: str, request: Request, _admin: OperatorRef = Depends(current_admin)) -> dict:
    """Admin: change the fields given."""
    return {"rule": await invitations.update_rule(request.app.state.rt, rule_id, await json_object(request))}


@router.delete("/invitations/{rule_id}")
async def delete_rule(rule_id: str, request: Request, _admin: OperatorRef = Depends(current_admin)) -> dict:
    return await invitations.delete_rule(request.app.state.rt, rule_id)


@router.post("/visitors/{visitor_id}/invite")
async def invite_visitor(visitor_id: str, body: InviteIn, request: Request,
                         op: OperatorRef = Depends(current_operator)) -> dict:
    """A manual invitation ``{text}`` to one visitor of the operator's sites: it appears in the
    visitor's widget within a second or two (docs/protocol.md § Invitations)."""
    return await invitations.send_manual(request.app.state.rt, op, visitor_id, body.text)


# --- the widget: text/plain bodies with the token inside (CORS "simple" requests, no preflight) ----

@router.post("/widget/invitations/record")
async def record(request: Request, site: str | None = None) -> dict:
    """``{token?, kind: shown|dismissed, rule_id}`` or ``{token, kind, manual_id}``."""
    rt = request.app.state.rt
    row = await visitors.site_for_widget(rt, site, request.headers.get("origin"))
    return await invitations.record(rt, row, await json_object(request))


class _Waiter:
    """Stands in this node's hub beside the visitor's sockets while a wait is held: the hub pushes
    the visitor's frames to it as to a socket, and the first ``invitation`` frame answers."""

    def __init__(self, site_id: int, visitor_id: int, ip: str = "") -> None:
        self.site_id, self.visitor_id = site_id, visitor_id
        self.ip = ip  # a ban of this address ends the wait like a socket (realtime/hub.py _close_banned)
        self.state: Any = None
        self.delivered: dict[int, int] = {}
        self.found: asyncio.Future[dict | None] = asyncio.get_running_loop().create_future()

    def push(self, frame: dict | str, seq_key: object = None) -> None:
        if self.found.done():
            return
        if isinstance(frame, str):
            if '"invitation"' not in frame:
                return
            frame = json.loads(frame)
        if isinstance(frame, dict) and frame.get("type") == "invitation":
            self.found.set_result(frame.get("invitation"))

    def close(self, code: int, last: str | None = None) -> None:
        if not self.found.done():
            self.found.set_result(None)


@router.post("/widget/invitations/wait")
async def wait(request: Request, site: str | None = None) -> dict:
    """``{token}``: held until an operator invites this visitor (at most 25 s), then
    ``{"invitation": {manual_id, text, sender, created_at} | null}``. A manual invitation sent
    while no wait was held is answered at once (sent in the last 10 minutes, not shown yet)."""
    rt = request.app.state.rt
    row = await visitors.site_for_widget(rt, site, request.headers.get("origin"))
    data = await json_object(request)
    token = data.get("token")
    if not isinstance(token, str):
        raise ActionError("unauthorized", "visitor token required", 401)
    visitor = await visitors.visitor_by_token(rt, row, token)
    visitors.check_not_banned(rt, row.id, visitor.id, client_ip(request))
    hub = request.app.state.hub
    # a held wait counts as one of the address's open visitor sockets (the same cap, on every node)
    lease = await hub.addresses.open_socket(client_ip(request), rt.settings.visitor_sockets_per_address)
    if lease is None:
        raise ActionError("rate_limited", "too many open chats from this address", 429)
    waiter = _Waiter(row.id, visitor.id, client_ip(request))
    hub.add_visitor(waiter)  # first register, then read the DB: nothing falls between
    try:
        pending = await invitations.pending_manual(rt, row, visitor)
        if pending is not None:
            return {"invitation": pending}
        gone = asyncio.ensure_future(_disconnected(request))  # the page went away: stop holding
        try:
            both: set[asyncio.Future[Any]] = {waiter.found, gone}
            await asyncio.wait(both, timeout=WAIT_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        return {"invitation": waiter.found.result() if waiter.found.done() else None}
    finally:
        hub.remove_visitor(waiter)
        await hub.addresses.close_socket(client_ip(request), lease)


async def _disconnected(request: Request) -> None:
    """Returns when the client closes the connection (the body was read already)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
