"""``/ws/operator``: one panel tab of an operator (docs/protocol.md § Operator socket)."""
from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocket

from frontdesk import serialize
from frontdesk.actions import conversations, operators, team
from frontdesk.actions.errors import ActionError
from frontdesk.realtime import frames as f
from frontdesk.realtime import protocol as p
from frontdesk.realtime.hub import OperatorConnection
from frontdesk.realtime.socket import SocketSession
from frontdesk.web.auth import SESSION_COOKIE, origin_ok


class OperatorSocket(SocketSession):
    decode = staticmethod(f.decode_operator)
    viewing: int | None = None  # the conversation this tab shows (operator.viewing)

    async def run(self) -> None:
        rt, ws = self.rt, self.ws
        hub = ws.app.state.hub
        await ws.accept()
        if not origin_ok(rt, ws.headers.get("origin"), ws.headers.get("host"), required=True):
            await self.close(p.CLOSE_FORBIDDEN_ORIGIN, p.error_frame("forbidden", "origin not allowed"))
            return
        found = await operators.session_operator(rt, ws.cookies.get(SESSION_COOKIE))
        if found is None:
            await self.close(p.CLOSE_UNAUTHORIZED, p.error_frame("unauthorized", "log in first"))
            return
        self.operator, _csrf = found
        hello = await self.receive_hello()
        if hello is None:
            return
        site_ids = await operators.site_ids_of(rt, self.operator)
        self.conn = OperatorConnection(ws, rt.settings.ws_queue_size, self.operator.id,
                                       None if self.operator.is_admin else frozenset(site_ids),
                                       self.operator.status)
        hub.add_operator(self.conn)  # first register, then read the DB: no conversation falls between
        try:
            open_convs = await conversations.list_for_operator(rt, self.operator)
            offers = await team.pending_offers(rt, self.operator)
            await self.conn.send_now({"type": "welcome", "operator": serialize.operator_private(self.operator),
                                      "conversations": open_convs, "transfers": offers,
                                      "heartbeat": rt.settings.ws_ping_interval})
            await self.resume(self.operator, f.parse_resume(hello.resume))
            await self.serve()
        finally:
            hub.remove_operator(self.conn)
            if self.viewing is not None:
                try:
                    await team.view_conversation(rt, self.operator, None, self.viewing)
                except Exception:  # noqa: BLE001 - best effort: the others' panels also forget stale viewers
                    pass

    async def handle(self, frame: Any) -> None:
        rt, op = self.rt, self.operator
        if isinstance(frame, f.OperatorSend):
            message = await conversations.send_operator_message(
                rt, op, frame.conversation_id, frame.client_id, frame.text, frame.kind)
            self.conn.push({"type": "message.ack", "client_id": frame.client_id, "message": message})
        elif isinstance(frame, f.OperatorTyping):
            await conversations.operator_typing(rt, op, frame.conversation_id, frame.is_typing)
        elif isinstance(frame, f.View):
            try:
                self.viewing = await team.view_conversation(rt, op, frame.conversation_id, self.viewing)
            except ActionError:
                self.viewing = None
                raise
        elif isinstance(frame, (f.Take, f.Close, f.Reopen)):
            try:
                if isinstance(frame, f.Take):
                    result = await conversations.take_conversation(rt, op, frame.conversation_id, frame.force)
                else:
                    action = {f.Close: conversations.close_conversation,
                              f.Reopen: conversations.reopen_conversation}[type(frame)]
                    result = await action(rt, op, frame.conversation_id)
                self.conn.push({"type": "action.result", "ref": frame.ref, "ok": True, "conversation": result})
            except ActionError as exc:
                self.conn.push({"type": "action.result", "ref": frame.ref, "ok": False,
                                "error": {"code": exc.code, "message": exc.message}})
        elif isinstance(frame, f.StatusSet):
            op.status = await operators.set_status(rt, op.id, frame.status)
        elif isinstance(frame, f.Sync):
            await self.sync(op, frame)
        elif isinstance(frame, f.Read):
            await conversations.operator_read(rt, op, frame.conversation_id, frame.seq)
        else:  # a frame type of the other socket's vocabulary cannot reach here: decoding refused it
            raise p.FrameError("unknown_type", f"unknown frame type {type(frame).__name__}", f.ref_of(frame))


async def operator_socket(ws: WebSocket) -> None:
    await OperatorSocket(ws.app.state.rt, ws).run()
