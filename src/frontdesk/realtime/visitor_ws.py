"""``/ws/visitor?site=KEY``: one visitor's live connection (docs/protocol.md § Visitor socket)."""
from __future__ import annotations

from starlette.websockets import WebSocket

from frontdesk.actions import ActionError, conversations, offline, sites, visitors
from frontdesk.actions.offline import site_availability
from frontdesk.realtime import protocol as p
from frontdesk.realtime.hub import VisitorConnection
from frontdesk.realtime.socket import SocketSession


class VisitorSession(SocketSession):
    async def run(self) -> None:
        rt, ws = self.rt, self.ws
        async with rt.sessions() as session:
            site = await sites.site_by_key(session, ws.query_params.get("site"))
        await ws.accept()
        if site is None:
            await self.close(p.CLOSE_UNAUTHORIZED, p.error_frame("unauthorized", "unknown site"))
            return
        if not sites.origin_allowed(site, ws.headers.get("origin")):
            await self.close(p.CLOSE_FORBIDDEN_ORIGIN, p.error_frame("forbidden", "origin not allowed for this site"))
            return
        hello = await self.receive_hello()
        if hello is None:
            return
        try:
            visitor, token = await visitors.identify_visitor(
                rt, site, hello.get("visitor_token"), page=hello.get("page"),
                user_agent=ws.headers.get("user-agent", ""), ip=_client_ip(ws), lang=hello.get("lang"))
        except ActionError as exc:
            await self.close(p.CLOSE_UNAUTHORIZED, p.error_frame(exc.code, exc.message))
            return
        self.site, self.visitor = site, visitor
        self.conn = VisitorConnection(ws, rt.settings.ws_queue_size, site.id, visitor.id)
        rt.hub.add_visitor(self.conn)  # first register, then read the DB: nothing falls between
        try:
            current = await visitors.visitor_state(rt, visitor)
            self.conversation_id = current["id"] if current else None
            async with rt.sessions() as session:  # issue 6: + within_hours, available
                availability = await site_availability(session, site, rt.clock())
            await self.conn.send_now({"type": "welcome", "visitor_token": token, "visitor_id": visitor.id,
                                      "visitor": {"name": visitor.name, "email": visitor.email,
                                                  "phone": visitor.phone},
                                      "conversation": current, **availability,
                                      "heartbeat": rt.settings.ws_ping_interval})
            await self._resume(p.parse_resume(hello.get("resume")), hello.get("resume"), current)
            await self.serve()
        finally:
            rt.hub.remove_visitor(self.conn)

    async def _resume(self, wanted: dict[int, int], raw: object, current: dict | None) -> None:
        owned = await visitors.visitor_conversation_ids(self.rt, self.visitor, list(wanted))
        if isinstance(raw, dict) and len(owned) < len(raw):
            await self.conn.send_now(p.error_frame("not_found", "conversation not found"))
        if current is not None and current["id"] not in owned:
            # a fresh tab holds nothing yet: send the open conversation from the start
            wanted[current["id"]] = 0
            owned[current["id"]] = current["last_seq"]
        for cid, last_seq in owned.items():
            await self.replay(cid, wanted[cid], last_seq, include_notes=False)

    async def handle(self, kind: str, frame: dict) -> None:
        rt = self.rt
        if kind == "message.send":
            client_id = frame.get("client_id")
            message = await conversations.send_visitor_message(rt, self.visitor, client_id, frame.get("text"),
                                                               self.conversation_id)
            self.conversation_id = message["conversation_id"]
            self.conn.push({"type": "message.ack", "client_id": client_id, "message": message})
        elif kind == "typing":
            text = frame.get("text", "")
            if not isinstance(text, str):
                raise p.FrameError("invalid_frame", "field 'text' must be a string")
            if self.conversation_id is None:
                # another tab may have started the conversation since this socket's welcome
                current = await visitors.visitor_state(rt, self.visitor)
                self.conversation_id = current["id"] if current else None
            await visitors.visitor_typing(rt, self.visitor, self.conversation_id, text)
        elif kind == "page":
            await visitors.record_page(rt, self.visitor, frame.get("url"), frame.get("title"))
        elif kind == "sync":
            cid = p.conversation_id_of(frame)
            if not await visitors.visitor_conversation_ids(rt, self.visitor, [cid]):
                raise p.FrameError("not_found", "conversation not found", p.ref_of(frame))
            await self.sync(frame, cid, include_notes=False)
        elif kind == "read":
            seq = frame.get("seq")
            if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
                raise p.FrameError("invalid_frame", "field 'seq' must be a non-negative integer", p.ref_of(frame))
            await visitors.mark_read(rt, self.visitor, p.conversation_id_of(frame), seq)
        elif kind == "contacts":  # issue 6: the visitor leaves an e-mail/phone (actions/offline.py)
            saved = await offline.save_contacts(rt, self.visitor, email=frame.get("email"),
                                                phone=frame.get("phone"), name=frame.get("name"))
            self.conn.push({"type": "contacts.saved", "ref": frame.get("ref"), **saved})
        else:
            self.unknown(kind, frame)


def _client_ip(ws: WebSocket) -> str:
    return ws.client.host if ws.client else ""


async def visitor_socket(ws: WebSocket) -> None:
    await VisitorSession(ws.app.state.rt, ws).run()
