"""The life of one client socket, shared by visitor and operator sockets:
hello with a deadline, a heartbeat, an idle timeout, inbound rate limiting,
frame decoding and one error vocabulary. Subclasses implement ``handle``."""
from __future__ import annotations

import asyncio
import logging
import time

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from frontdesk.actions import ActionError
from frontdesk.realtime import protocol as p
from frontdesk.realtime.hub import Connection

log = logging.getLogger(__name__)


class SocketSession:
    conn: Connection

    def __init__(self, rt, ws: WebSocket) -> None:  # noqa: ANN001
        self.rt = rt
        self.ws = ws
        self.bucket = p.TokenBucket()

    async def close(self, code: int, frame: dict | None = None) -> None:
        try:
            if frame is not None:
                await self.ws.send_text(p.dumps(frame))
            await self.ws.close(code)
        except Exception:  # noqa: BLE001 - already gone
            pass

    async def receive_hello(self) -> dict | None:
        """The first frame, which must be a valid hello; closes 4400 otherwise."""
        try:
            raw = await asyncio.wait_for(self._receive_text(), p.HELLO_TIMEOUT)
        except (asyncio.TimeoutError, WebSocketDisconnect):
            await self.close(p.CLOSE_BAD_HELLO)
            return None
        try:
            frame = p.decode(raw) if raw is not None else None
        except p.FrameError as exc:
            await self.close(p.CLOSE_BAD_HELLO, p.error_frame(exc.code, exc.message))
            return None
        if frame is None or frame.get("type") != "hello":
            await self.close(p.CLOSE_BAD_HELLO, p.error_frame("invalid_frame", "the first frame must be hello"))
            return None
        return frame

    async def _receive_text(self) -> str | None:
        """Next text frame; None for a binary frame; raises WebSocketDisconnect when gone."""
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if message.get("text") is not None:
            return message["text"]
        return None

    async def serve(self) -> None:
        """Run writer + heartbeat + reader until the socket ends."""
        writer = asyncio.create_task(self.conn.writer())
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            await self._read_loop()
        finally:
            heartbeat.cancel()
            if not writer.done():
                self.conn.close(1000)
                try:
                    await asyncio.wait_for(writer, 2)
                except (asyncio.TimeoutError, Exception):  # noqa: BLE001
                    writer.cancel()

    async def _heartbeat(self) -> None:
        interval = self.rt.settings.ws_ping_interval
        while True:
            await asyncio.sleep(interval)
            self.conn.push({"type": "ping", "t": int(time.time())})

    async def _read_loop(self) -> None:
        idle = self.rt.settings.ws_idle_timeout
        while self.conn.close_code is None:
            try:
                raw = await asyncio.wait_for(self._receive_text(), idle)
            except asyncio.TimeoutError:
                self.conn.close(1000)
                return
            except (WebSocketDisconnect, RuntimeError):
                return
            if self.ws.application_state is WebSocketState.DISCONNECTED:
                return
            if not self.bucket.allow():
                if self.bucket.dropped >= p.FLOOD_CLOSE_AFTER:
                    self.conn.close(p.CLOSE_FLOOD)
                    return
                self.conn.push(p.error_frame("rate_limited", "too many frames; slow down"))
                continue
            if raw is None:
                self.conn.push(p.error_frame("invalid_frame", "binary frames are not accepted"))
                continue
            frame: dict | None = None
            try:
                frame = p.decode(raw)
                kind = frame["type"]
                if kind == "ping":
                    self.conn.push({"type": "pong"})
                elif kind == "pong":
                    pass
                else:
                    await self.handle(kind, frame)
            except p.FrameError as exc:
                self.conn.push(p.error_frame(exc.code, exc.message, exc.ref))
            except ActionError as exc:
                self.conn.push(p.error_frame(exc.code, exc.message, p.ref_of(frame or {})))
            except Exception:  # noqa: BLE001 - never let one frame kill the server or the socket
                log.exception("handling a frame failed")
                self.conn.push(p.error_frame("internal", "the server failed; retry", p.ref_of(frame or {})))

    async def handle(self, kind: str, frame: dict) -> None:
        raise NotImplementedError

    def unknown(self, kind: str, frame: dict) -> None:
        raise p.FrameError("unknown_type", f"unknown frame type {kind[:40]!r}", p.ref_of(frame))

    async def replay(self, conversation_id: int, after_seq: int, last_seq: int, *, include_notes: bool) -> None:
        """Send what the client misses of one conversation, from the database, or ``reset``."""
        from frontdesk.actions.conversations import REPLAY_MAX, messages_after

        if after_seq > last_seq:
            await self.conn.send_now({"type": "reset", "conversation_id": conversation_id, "reason": "unknown_seq"})
            return
        if last_seq - after_seq > REPLAY_MAX:
            await self.conn.send_now({"type": "reset", "conversation_id": conversation_id, "reason": "gap_too_large"})
            return
        self.conn.mark_delivered(conversation_id, after_seq)
        if after_seq == last_seq:
            return
        async with self.rt.sessions() as session:
            msgs = await messages_after(session, conversation_id, after_seq, REPLAY_MAX, include_notes=include_notes)
        for m in msgs:
            await self.conn.send_now({"type": "message.created", "message": m}, (conversation_id, m["seq"]))
        self.conn.mark_delivered(conversation_id, last_seq)

    async def sync(self, frame: dict, conversation_id: int, *, include_notes: bool) -> None:
        from frontdesk.actions.conversations import check_page_args, messages_after

        try:
            after, limit = check_page_args(frame.get("after_seq", 0), frame.get("limit", 200))
        except ActionError as exc:
            raise p.FrameError("invalid_frame", exc.message, p.ref_of(frame)) from None
        async with self.rt.sessions() as session:
            msgs = await messages_after(session, conversation_id, after, limit, include_notes=include_notes)
            from frontdesk.models import Conversation

            conv = await session.get(Conversation, conversation_id)
        self.conn.push({"type": "sync.result", "ref": frame.get("ref"), "conversation_id": conversation_id,
                        "messages": msgs, "last_seq": conv.last_seq, "has_more": len(msgs) == limit})
