"""``/ws/visitor?site=KEY``: one visitor's live connection (docs/protocol.md § Visitor socket)."""
from __future__ import annotations

import time
from typing import Any

from starlette.datastructures import QueryParams
from starlette.websockets import WebSocket

from frontdesk.actions import contacts, conversations, departments, hellos, invitations, ratings, sites, visitors
from frontdesk.actions.errors import ActionError
from frontdesk.realtime import frames as f
from frontdesk.realtime import protocol as p
from frontdesk.realtime.hub import VisitorConnection
from frontdesk.realtime.socket import SocketSession

_SITE_KEYS: dict[bytes, str | None] = {}  # raw query string -> its ``site`` (every widget sends the same one)


def _site_key(ws: WebSocket) -> str | None:
    """``ws.query_params.get("site")`` without parsing the same query string again per socket
    (Starlette parses it into a ``QueryParams`` each time: ≈ 8 % of a hello's own CPU)."""
    raw = ws.scope.get("query_string", b"")
    try:
        return _SITE_KEYS[raw]
    except KeyError:
        pass
    key = QueryParams(raw).get("site")
    if len(raw) <= 256 and len(_SITE_KEYS) < 1024:  # bounded: query strings come from the visitor
        _SITE_KEYS[raw] = key
    return key


class VisitorSession(SocketSession):
    decode = staticmethod(f.decode_visitor)

    async def run(self) -> None:
        rt, ws = self.rt, self.ws
        await ws.accept()
        try:
            site = await visitors.site_for_widget(rt, _site_key(ws), ws.headers.get("origin"))
        except ActionError as exc:
            code = p.CLOSE_FORBIDDEN_ORIGIN if exc.code == "forbidden" else p.CLOSE_UNAUTHORIZED
            await self.close(code, p.error_frame("unauthorized" if code == p.CLOSE_UNAUTHORIZED else exc.code,
                                                 exc.message))
            return
        client = ws.client
        caps, ip = ws.app.state.hub.addresses, client.host if client else ""
        if not await self.allowed(site.id, None, ip):
            return
        token = await caps.open_socket(ip, rt.settings.visitor_sockets_per_address)
        if token is None:
            await self.close(p.CLOSE_FLOOD, p.error_frame("rate_limited", "too many open chats from this address"))
            return
        try:
            await self.run_open(site, ip)
        finally:
            await caps.close_socket(ip, token)

    async def run_open(self, site: Any, ip: str) -> None:
        rt, ws = self.rt, self.ws
        hello = await self.receive_hello()
        if hello is None:
            return
        if hello.visitor_token is None and not await ws.app.state.hub.addresses.allow_new_visitor(
                ip, rt.settings.new_visitors_per_address, time.monotonic()):
            await self.close(p.CLOSE_FLOOD, p.error_frame("rate_limited", "too many new visitors from this address"))
            return
        page = {"url": hello.page.url, "title": hello.page.title, "referrer": hello.page.referrer} \
            if hello.page is not None else None
        hub = ws.app.state.hub
        async with hub.hello_gate:  # a bounded number of hellos at once, first come first served
            try:  # batched with the other hellos arriving now (actions/hellos.py)
                visitor, token = await hellos.identify(
                    rt, site, hello.visitor_token, page=page, user_agent=ws.headers.get("user-agent", ""),
                    ip=ip, lang=hello.lang or "")
            except ActionError as exc:
                await self.close(p.CLOSE_UNAUTHORIZED, p.error_frame(exc.code, exc.message))
                return
            if not await self.allowed(site.id, visitor.id, ip):
                return
            self.site, self.visitor, self.ip = site, visitor, ip
            self.conn = VisitorConnection(ws, rt.settings.ws_queue_size, site.id, visitor.id)
            self.conn.ip = ip
            hub.add_visitor(self.conn)  # first register, then read the DB: nothing falls between
            try:
                wanted = f.parse_resume(hello.resume)
                state = await hellos.welcome_state(rt, visitor, wanted)
                current = state.conversation
                self.conversation_id = current["id"] if current else None
                await self.conn.send_now({"type": "welcome", "visitor_token": token, "visitor_id": visitor.id,
                                          "visitor": visitor.contacts(), "conversation": current,
                                          **await visitors.availability(rt, site),
                                          "heartbeat": rt.settings.ws_ping_interval})
                await self.send_replays(state.replays, wanted)
                if state.queue_position is not None and current is not None:
                    self.conn.push({"type": "queue.position", "conversation_id": current["id"],
                                    "position": state.queue_position})
            except BaseException:
                hub.remove_visitor(self.conn)
                raise
        try:
            await self.serve()
        finally:
            hub.remove_visitor(self.conn)


    async def allowed(self, site_id: int, visitor_id: int | None, ip: str) -> bool:
        """False (and the socket closed with ``banned``) when an active ban covers the visitor or address."""
        try:
            visitors.check_not_banned(self.rt, site_id, visitor_id, ip)
        except ActionError as exc:
            await self.close(p.CLOSE_BANNED, p.error_frame(exc.code, exc.message))
            return False
        return True

    async def handle(self, frame: Any) -> None:
        rt = self.rt
        try:  # a ban made meanwhile (the hub closes the socket too; this covers the frames in between)
            visitors.check_not_banned(rt, self.site.id, self.visitor.id, self.ip)
        except ActionError as exc:
            self.conn.close(p.CLOSE_BANNED, p.dumps(p.error_frame(exc.code, exc.message, f.ref_of(frame))))
            return
        if isinstance(frame, f.VisitorSend):
            profanity = sites.profanity_mode(self.site.widget)
            if frame.invite is not None:  # the first message answering an invitation
                invite = {"rule_id": frame.invite.rule_id, "manual_id": frame.invite.manual_id}
                message = await invitations.send_invited_message(rt, self.visitor, frame.client_id, frame.text,
                                                                 self.conversation_id, invite, profanity=profanity)
            else:
                message = await conversations.send_visitor_message(rt, self.visitor, frame.client_id, frame.text,
                                                                   self.conversation_id, profanity=profanity)
            self.conversation_id = message["conversation_id"]
            self.conn.push({"type": "message.ack", "client_id": frame.client_id, "message": message})
        elif isinstance(frame, f.VisitorTyping):
            if self.conversation_id is None:
                # another tab may have started the conversation since this socket's welcome
                current = await conversations.visitor_open_conversation(rt, self.visitor)
                self.conversation_id = current["id"] if current else None
            await conversations.visitor_typing(rt, self.visitor, self.conversation_id, frame.text)
        elif isinstance(frame, f.PageView):
            await visitors.record_page(rt, self.visitor, frame.url, frame.title)
        elif isinstance(frame, f.Sync):
            await self.sync(self.visitor, frame)
        elif isinstance(frame, f.Read):
            await conversations.visitor_read(rt, self.visitor, frame.conversation_id, frame.seq)
        elif isinstance(frame, f.Contacts):
            saved = await contacts.save_contacts(rt, self.visitor, email=frame.email, phone=frame.phone,
                                                 name=frame.name)
            self.conn.push({"type": "contacts.saved", "ref": frame.ref, **saved})
        elif isinstance(frame, f.EndConversation):
            await conversations.end_by_visitor(rt, self.visitor, frame.conversation_id)
            if self.conversation_id == frame.conversation_id:
                self.conversation_id = None
        elif isinstance(frame, f.Rate):
            rating = await ratings.rate_conversation(rt, self.visitor, frame.conversation_id, frame.value,
                                                     frame.comment)
            self.conn.push({"type": "rating.saved", "ref": frame.ref, "conversation_id": frame.conversation_id,
                            "rating": rating})
        elif isinstance(frame, f.ChooseDepartment):
            chosen = await departments.choose_department(rt, self.visitor, frame.department_id)
            self.conversation_id = chosen["conversation_id"]
            self.conn.push({"type": "department.chosen", "ref": frame.ref, **chosen})
        else:  # a frame type of the other socket's vocabulary cannot reach here: decoding refused it
            raise p.FrameError("unknown_type", f"unknown frame type {type(frame).__name__}", f.ref_of(frame))


async def visitor_socket(ws: WebSocket) -> None:
    await VisitorSession(ws.app.state.rt, ws).run()
