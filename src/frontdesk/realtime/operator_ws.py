"""``/ws/operator``: one panel tab of an operator (docs/protocol.md § Operator socket)."""
from __future__ import annotations

from starlette.websockets import WebSocket

from frontdesk import serialize
from frontdesk.actions import ActionError, conversations, operators
from frontdesk.realtime import protocol as p
from frontdesk.realtime.hub import OperatorConnection
from frontdesk.realtime.socket import SocketSession
from frontdesk.web.auth import SESSION_COOKIE, origin_ok


class OperatorSession(SocketSession):
    async def run(self) -> None:
        rt, ws = self.rt, self.ws
        await ws.accept()
        if not origin_ok(rt, ws.headers.get("origin"), ws.headers.get("host"), ws.url.scheme, required=True):
            await self.close(p.CLOSE_FORBIDDEN_ORIGIN, p.error_frame("forbidden", "origin not allowed"))
            return
        found = await operators.session_operator(rt, ws.cookies.get(SESSION_COOKIE))
        if found is None:
            await self.close(p.CLOSE_UNAUTHORIZED, p.error_frame("unauthorized", "log in first"))
            return
        self.operator, _ = found
        hello = await self.receive_hello()
        if hello is None:
            return
        async with rt.sessions() as session:
            site_ids = await operators.operator_site_ids(session, self.operator)
        self.conn = OperatorConnection(ws, rt.settings.ws_queue_size, self.operator.id,
                                       None if self.operator.is_admin else frozenset(site_ids),
                                       self.operator.status)
        rt.hub.add_operator(self.conn)  # first register, then read the DB: no conversation falls between
        try:
            async with rt.sessions() as session:
                open_convs = await conversations.list_open_for_operator(session, self.operator)
            await self.conn.send_now({"type": "welcome", "operator": serialize.operator_private(self.operator),
                                      "conversations": open_convs, "heartbeat": rt.settings.ws_ping_interval})
            await self._resume(p.parse_resume(hello.get("resume")))
            await self.serve()
        finally:
            rt.hub.remove_operator(self.conn)

    async def _resume(self, wanted: dict[int, int]) -> None:
        async with self.rt.sessions() as session:
            for cid, after in wanted.items():
                try:
                    conv = await conversations.check_operator_conversation(session, self.operator, cid)
                except ActionError:
                    await self.conn.send_now(p.error_frame("not_found", "conversation not found", str(cid)))
                    continue
                last_seq = conv.last_seq
                await self.replay(cid, after, last_seq, include_notes=True)

    async def handle(self, kind: str, frame: dict) -> None:
        rt, op = self.rt, self.operator
        if kind == "message.send":
            client_id = frame.get("client_id")
            message = await conversations.send_operator_message(
                rt, op, _cid(frame), client_id, frame.get("text"), frame.get("kind", "operator"))
            self.conn.push({"type": "message.ack", "client_id": client_id, "message": message})
        elif kind == "typing":
            cid = _cid(frame)
            async with rt.sessions() as session:
                conv = await conversations.check_operator_conversation(session, op, cid)
            from frontdesk import events as ev
            from frontdesk.events import Event

            await rt.publish(Event(ev.OPERATOR_TYPING, conv.site_id,
                                   {"is_typing": bool(frame.get("is_typing")), "operator": serialize.operator_public(op)},
                                   conversation_id=conv.id, visitor_id=conv.visitor_id, operator_id=op.id))
        elif kind in ("conversation.take", "conversation.close", "conversation.reopen"):
            action = {"conversation.take": conversations.take_conversation,
                      "conversation.close": conversations.close_conversation,
                      "conversation.reopen": conversations.reopen_conversation}[kind]
            try:
                result = await action(rt, op, _cid(frame))
                self.conn.push({"type": "action.result", "ref": frame.get("ref"), "ok": True, "conversation": result})
            except ActionError as exc:
                self.conn.push({"type": "action.result", "ref": frame.get("ref"), "ok": False,
                                "error": {"code": exc.code, "message": exc.message}})
        elif kind == "status.set":
            status = await operators.set_status(rt, op.id, frame.get("status"))
            op.status = status
        elif kind == "sync":
            cid = _cid(frame)
            async with rt.sessions() as session:
                await conversations.check_operator_conversation(session, op, cid)
            await self.sync(frame, cid, include_notes=True)
        elif kind == "read":
            cid = _cid(frame)
            seq = frame.get("seq")
            if isinstance(seq, int) and not isinstance(seq, bool):
                async with rt.sessions() as session, session.begin():
                    conv = await conversations.check_operator_conversation(session, op, cid)
                    conv.operator_read_seq = max(conv.operator_read_seq, min(seq, conv.last_seq))
        else:
            self.unknown(kind, frame)


def _cid(frame: dict) -> int:
    return p.conversation_id_of(frame)


async def operator_socket(ws: WebSocket) -> None:
    await OperatorSession(ws.app.state.rt, ws).run()

