"""The life of one client socket, shared by visitor and operator sockets:
hello with a deadline, a heartbeat, an idle timeout, inbound rate limiting,
frame decoding and one error vocabulary. Subclasses implement ``handle``."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from frontdesk.actions import conversations
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef, VisitorRef
from frontdesk.realtime import frames as f
from frontdesk.realtime import protocol as p
from frontdesk.realtime.hub import Connection

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

log = logging.getLogger(__name__)


class SocketSession:
    conn: Connection
    decode: Callable[[str], Any]

    def __init__(self, rt: Runtime, ws: WebSocket) -> None:
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

    async def receive_hello(self) -> Any:
        """The first frame, which must be a valid hello; closes 4400 (with an error frame) otherwise."""
        try:
            async with asyncio.timeout(p.HELLO_TIMEOUT):  # a timer, not a task per hello (wait_for's)
                raw = await self._receive_text()
        except (TimeoutError, WebSocketDisconnect):
            await self.close(p.CLOSE_BAD_HELLO)
            return None
        if raw is None:
            await self.close(p.CLOSE_BAD_HELLO, p.error_frame("invalid_frame", "binary frames are not accepted"))
            return None
        try:
            frame = self.decode(raw)
        except p.FrameError as exc:
            await self.close(p.CLOSE_BAD_HELLO, p.error_frame(exc.code, exc.message, exc.ref))
            return None
        if not isinstance(frame, (f.VisitorHello, f.OperatorHello)):
            await self.close(p.CLOSE_BAD_HELLO, p.error_frame("invalid_frame", "the first frame must be hello",
                                                              f.ref_of(frame)))
            return None
        return frame

    async def _receive_text(self) -> str | None:
        """Next text frame; None for a binary frame; raises WebSocketDisconnect when gone.
        Straight from the ASGI ``receive`` (Starlette's ``WebSocket.receive`` adds only state checks;
        its client state is kept here)."""
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.ws.client_state = WebSocketState.DISCONNECTED
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        return text if isinstance(text, str) else None

    @property
    def _receive(self) -> Callable[[], Awaitable[MutableMapping[str, Any]]]:
        return self.ws._receive  # the ASGI receive

    async def serve(self) -> None:
        """Read until the socket ends; frames go out through the connection's writer, which runs
        only while something is queued. The heartbeat and the idle deadline are one timer per
        socket (no task per received frame, no heartbeat task)."""
        loop = asyncio.get_running_loop()
        self._reader = asyncio.current_task()
        self._receiving = False
        self._idle_closed = False
        self._last_rx = loop.time()
        self._next_ping = self._last_rx + self.rt.settings.ws_ping_interval
        self._timer = loop.call_at(min(self._next_ping, self._last_rx + self.rt.settings.ws_idle_timeout),
                                   self._on_timer)
        self.conn.open()
        try:
            await self._read_loop()
        finally:
            self._timer.cancel()
            await self.conn.finish()

    def _on_timer(self) -> None:
        """Heartbeat ping when due; close the socket when nothing arrived for ``ws_idle_timeout``."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        settings = self.rt.settings
        if self.conn.close_code is not None:
            return
        deadline = self._last_rx + settings.ws_idle_timeout
        if now >= deadline and self._receiving and self._reader is not None:
            self._idle_closed = True
            self.conn.close(1000)
            self._reader.cancel()
            return
        if now >= self._next_ping:
            self.conn.push({"type": "ping", "t": int(time.time())})
            self._next_ping = now + settings.ws_ping_interval
        self._timer = loop.call_at(max(min(self._next_ping, deadline), now + 0.05), self._on_timer)

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        receive = self._receive
        conn = self.conn
        while conn.close_code is None:
            self._receiving = True
            try:
                message = await receive()
            except asyncio.CancelledError:
                if self._idle_closed and self._reader is not None:
                    self._reader.uncancel()  # our own idle deadline, not a shutdown
                    return
                raise
            except RuntimeError:
                return
            finally:
                self._receiving = False
            if message["type"] == "websocket.disconnect":
                self.ws.client_state = WebSocketState.DISCONNECTED
                return
            text = message.get("text")
            raw = text if isinstance(text, str) else None
            self._last_rx = loop.time()
            if self.ws.application_state is WebSocketState.DISCONNECTED:
                return
            await self.on_raw(raw)
            # Frames already buffered are returned without suspending: yield once per frame, so
            # one busy socket never holds the loop and this socket's writer sends what we queued
            # (e.g. the rate_limited errors before a flood close).
            await asyncio.sleep(0)

    async def on_raw(self, raw: str | None) -> None:
        """One inbound frame: rate limit, decode, handle; every refusal is one ``error`` frame."""
        if not self.bucket.allow():
            if self.bucket.dropped >= p.FLOOD_CLOSE_AFTER:
                self.conn.close(p.CLOSE_FLOOD)
                return
            ref: object = None
            if raw is not None:
                try:
                    ref = f.ref_of(self.decode(raw))
                except p.FrameError as exc:
                    ref = exc.ref
            self.conn.push(p.error_frame("rate_limited", "too many frames; slow down", ref))
            return
        if raw is None:
            self.conn.push(p.error_frame("invalid_frame", "binary frames are not accepted"))
            return
        frame = None
        try:
            frame = self.decode(raw)
            if isinstance(frame, f.Ping):
                self.conn.push({"type": "pong"})
            elif isinstance(frame, f.Pong):
                pass
            elif isinstance(frame, (f.VisitorHello, f.OperatorHello)):
                raise p.FrameError("invalid_frame", "hello was already received", frame.ref)
            else:
                await self.handle(frame)
        except p.FrameError as exc:
            log.info("frame refused: %s %s", exc.code, exc.message[:120])
            self.conn.push(p.error_frame(exc.code, exc.message, exc.ref))
        except ActionError as exc:
            self.conn.push(p.error_frame(exc.code, exc.message, f.ref_of(frame)))
        except Exception:
            log.exception("handling a frame failed")
            self.conn.push(p.error_frame("internal", "the server failed; retry", f.ref_of(frame)))

    async def handle(self, frame: Any) -> None:
        raise NotImplementedError

    async def resume(self, who: OperatorRef | VisitorRef, wanted: dict[int, int],
                     include_current: int | None = None) -> None:
        """Send what the client misses, from the database (``message.created`` frames, in seq
        order), or ``reset``; a conversation that is not the client's gets ``not_found``."""
        await self.send_replays(await conversations.resume(self.rt, who, wanted, include_current), wanted)

    async def send_replays(self, replays: list[conversations.Replay], wanted: dict[int, int]) -> None:
        """Replays read from the database (by ``resume`` or with a batch of hellos), sent in order."""
        for item in replays:
            cid = item.conversation_id
            if not item.found:
                await self.conn.send_now(p.error_frame("not_found", "conversation not found", str(cid)))
            elif item.reset:
                await self.conn.send_now({"type": "reset", "conversation_id": cid, "reason": item.reset})
            else:
                self.conn.mark_delivered(cid, wanted.get(cid, 0))
                for m in item.messages:
                    await self.conn.send_now({"type": "message.created", "message": m}, (cid, m["seq"]))
                self.conn.mark_delivered(cid, item.last_seq)

    async def sync(self, who: OperatorRef | VisitorRef, frame: f.Sync) -> None:
        page = await conversations.sync(self.rt, who, frame.conversation_id, frame.after_seq, frame.limit)
        self.conn.push({"type": "sync.result", "ref": frame.ref, "conversation_id": frame.conversation_id, **page})
