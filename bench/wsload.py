"""Load generator shared by bench/relay.py and bench/reconnect.py.

A deliberately lean WebSocket client (RFC 6455 framing over an asyncio
Protocol on uvloop) so that, on a 2-core machine where the client competes
with the server for CPU, as little CPU as possible goes to the client.
Client frames are masked with an all-zero key: legal framing, and the
server still runs its unmasking pass over every payload like for a browser.
Server frames are parsed without JSON decoding; only the few frames whose
content matters (welcome, timestamps) are looked into.

Each load process is a ``Worker`` driven by the orchestrator over a
``multiprocessing`` pipe (a command ``x`` runs ``Worker.cmd_x``: setup, throughput,
latency, idle_open, rc_setup, rc_reconnect, …; ``quit`` ends it). Worker 0 holds the
operator sockets; visitors are split over the workers.
"""
from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import time
import traceback

MASK0 = b"\x00\x00\x00\x00"
PONG = b'{"type":"pong"}'
WS_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile() -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def encode_text(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((0x81, 0x80 | n)) + MASK0 + payload
    if n < 65536:
        return b"\x81\xfe" + n.to_bytes(2, "big") + MASK0 + payload
    return b"\x81\xff" + n.to_bytes(8, "big") + MASK0 + payload


class WS(asyncio.Protocol):
    """One client WebSocket. ``handler(ws, payload)`` gets every text frame (bytes)."""

    def __init__(self, request: bytes, handler) -> None:
        loop = asyncio.get_running_loop()
        self.request = request
        self.handler = handler
        self.buf = bytearray()
        self.open = False
        self.ready: asyncio.Future = loop.create_future()
        self.lost: asyncio.Future = loop.create_future()
        self.close_code: int | None = None
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc) -> None:
        self.open = False
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed during handshake"))
        if not self.lost.done():
            self.lost.set_result(self.close_code)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.open:
            i = buf.find(b"\r\n\r\n")
            if i < 0:
                return
            head = bytes(buf[:i])
            del buf[: i + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
                self.transport.close()
                return
            self.open = True
            self.ready.set_result(True)
        pos, n = 0, len(buf)
        handler = self.handler
        while n - pos >= 2:
            b0, ln = buf[pos], buf[pos + 1] & 0x7F
            hdr = 2
            if ln == 126:
                if n - pos < 4:
                    break
                ln = (buf[pos + 2] << 8) | buf[pos + 3]
                hdr = 4
            elif ln == 127:
                if n - pos < 10:
                    break
                ln = int.from_bytes(buf[pos + 2: pos + 10], "big")
                hdr = 10
            end = pos + hdr + ln
            if end > n:
                break
            payload = bytes(buf[pos + hdr: end])
            pos = end
            op = b0 & 0x0F
            if op == 1:
                handler(self, payload)
            elif op == 9:  # ping → pong (control frame, same payload)
                self.transport.write(bytes((0x8A, 0x80 | len(payload))) + MASK0 + payload)
            elif op == 8:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                if not self.transport.is_closing():
                    self.transport.write(b"\x88\x82" + MASK0 + payload[:2])
                    self.transport.close()
        if pos:
            del buf[:pos]

    def send(self, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode_text(payload))

    def send_many(self, payloads: list[bytes]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(encode_text(p) for p in payloads))

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.close()


def upgrade_request(port: int, path: str, headers: dict | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {WS_KEY.decode()}", "Sec-WebSocket-Version: 13"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def connect(port: int, path: str, handler, headers: dict | None = None, timeout: float = 15) -> WS:
    loop = asyncio.get_running_loop()
    req = upgrade_request(port, path, headers)
    _, proto = await asyncio.wait_for(
        loop.create_connection(lambda: WS(req, handler), "127.0.0.1", port), timeout)
    await asyncio.wait_for(proto.ready, timeout)
    return proto


# --- frames the load generator sends ------------------------------------------------

PAD = "x" * 400


def send_frame(client_id: str, ts_ns: int, size: int = 200) -> bytes:
    """``message.send`` of ``size`` bytes whose text starts with ``t=<monotonic ns> ``."""
    head = f'{{"type":"message.send","client_id":"{client_id}","text":"t={ts_ns} '
    fill = max(1, size - len(head) - 2)
    return (head + PAD[:fill] + '"}').encode()


TEXT_TS = b'"text":"t='


def ts_of(payload: bytes) -> int:
    i = payload.find(TEXT_TS)
    if i < 0:
        return -1
    i += len(TEXT_TS)
    j = payload.find(b" ", i)
    return int(payload[i:j])


# --- clients --------------------------------------------------------------------

class Visitor:
    __slots__ = ("w", "idx", "ws", "welcome", "token", "outstanding", "acked", "sent", "n",
                 "tokens", "t", "timer", "errors", "ack_waiter", "closed_code", "conversation_id", "last_seq",
                 "seqs", "seq_waiter")

    def __init__(self, worker: Worker, idx: int) -> None:
        self.w, self.idx = worker, idx
        self.ws: WS | None = None
        self.welcome: asyncio.Future = asyncio.get_running_loop().create_future()
        self.token = None
        self.outstanding = self.acked = self.sent = self.n = 0
        self.tokens = 0.0
        self.t = 0.0
        self.timer = None
        self.errors: dict[str, int] = {}
        self.ack_waiter: asyncio.Future | None = None
        self.closed_code = None
        self.conversation_id = None
        self.last_seq = 0
        self.seqs: set[int] | None = None
        self.seq_waiter: tuple[int, asyncio.Future] | None = None  # (seq, resolved once it is held)

    def on_frame(self, ws: WS, p: bytes) -> None:
        w = self.w
        if p.startswith(b'{"type":"message.ack"') or (w.baseline and p.startswith(b'{"type":"message.send"')):
            self.outstanding -= 1
            self.acked += 1
            w.acked += 1
            if self.ack_waiter is not None and not self.ack_waiter.done() and self.outstanding <= 0:
                if not w.baseline:
                    self.conversation_id = json.loads(p)["message"]["conversation_id"]
                self.ack_waiter.set_result(True)
            if w.track_seq and not w.baseline:
                m = json.loads(p)["message"]
                self.conversation_id = m["conversation_id"]
                self._seen(m["seq"])
            if w.pumping:
                self.pump()
            return
        if p.startswith(b'{"type":"message.created"'):
            if w.track_seq:
                m = json.loads(p)["message"]
                self.conversation_id = m["conversation_id"]
                self._seen(m["seq"])
            return
        if p.startswith(b'{"type":"ping"'):
            ws.send(PONG)
            return
        if p.startswith(b'{"type":"welcome"'):
            if not self.welcome.done():
                self.welcome.set_result(p)
            return
        if p.startswith(b'{"type":"error"'):
            code = json.loads(p).get("code", "?")
            self.errors[code] = self.errors.get(code, 0) + 1
            w.errors[code] = w.errors.get(code, 0) + 1
            # a refused (or rate-limited, i.e. dropped) send is answered by this error instead of an ack
            self.outstanding = max(0, self.outstanding - 1)
            if self.ack_waiter is not None and not self.ack_waiter.done() and self.outstanding <= 0:
                self.ack_waiter.set_result(code)  # the reconnect storm's sends: retried like the widget
            if w.pumping:
                self.pump()
            return
        if p.startswith(b'{"type":"reset"'):
            w.resets += 1

    def _seen(self, seq: int) -> None:
        if seq > self.last_seq:
            self.last_seq = seq
            if self.seq_waiter is not None and seq >= self.seq_waiter[0] and not self.seq_waiter[1].done():
                self.seq_waiter[1].set_result(True)
        if self.seqs is not None:
            self.seqs.add(seq)

    def next_frame(self, ts_ns: int) -> bytes:
        self.n += 1
        self.sent += 1
        self.w.sent += 1
        return send_frame(f"b{self.w.wid}-{self.idx}-{self.n}-{self.w.run_tag}", ts_ns, self.w.frame_size)

    def pump(self) -> None:
        """Throughput mode: keep ``window`` sends outstanding, within the client-side rate budget."""
        w = self.w
        if not w.pumping or self.ws is None or not self.ws.open:
            return
        now = time.monotonic()
        if w.pace_rate:
            self.tokens = min(w.pace_burst, self.tokens + (now - self.t) * w.pace_rate)
            self.t = now
        frames = []
        ts = time.monotonic_ns()
        while self.outstanding < w.window and (not w.pace_rate or self.tokens >= 1):
            frames.append(self.next_frame(ts))
            self.outstanding += 1
            if w.pace_rate:
                self.tokens -= 1
        if frames:
            self.ws.send_many(frames)
        if w.pace_rate and self.outstanding < w.window and self.timer is None:
            delay = (1 - self.tokens) / w.pace_rate
            self.timer = asyncio.get_running_loop().call_later(max(delay, 0.001), self._tick)

    def _tick(self) -> None:
        self.timer = None
        self.pump()


class Operator:
    __slots__ = ("w", "idx", "ws", "welcome", "received", "in_window", "lat", "take", "taken", "created_convs",
                 "closed_code")

    def __init__(self, worker: Worker, idx: int, take: bool) -> None:
        self.w, self.idx = worker, idx
        self.ws: WS | None = None
        self.welcome: asyncio.Future = asyncio.get_running_loop().create_future()
        self.received = 0
        self.in_window = 0
        self.lat: list[int] | None = None
        self.take = take
        self.taken = 0
        self.created_convs = 0
        self.closed_code = None

    def on_frame(self, ws: WS, p: bytes) -> None:
        w = self.w
        if p.startswith(b'{"type":"message.created"') or (w.baseline and p.startswith(b'{"type":"message.send"')):
            self.received += 1
            now = time.monotonic()
            if w.win0 <= now < w.win1:
                self.in_window += 1
            if self.lat is not None:
                ts = ts_of(p)
                if ts > 0:
                    self.lat.append(time.monotonic_ns() - ts)
            return
        if p.startswith(b'{"type":"ping"'):
            ws.send(PONG)
            return
        if p.startswith(b'{"type":"conversation.created"'):
            self.created_convs += 1
            if self.take:
                cid = json.loads(p)["conversation"]["id"]
                ws.send(json.dumps({"type": "conversation.take", "conversation_id": cid,
                                    "ref": f"t{cid}"}).encode())
            return
        if p.startswith(b'{"type":"action.result"'):
            self.taken += 1
            return
        if p.startswith(b'{"type":"welcome"'):
            if not self.welcome.done():
                self.welcome.set_result(p)
            return
        if p.startswith(b'{"type":"error"'):
            code = json.loads(p).get("code", "?")
            w.errors["operator:" + code] = w.errors.get("operator:" + code, 0) + 1


class Worker:
    def __init__(self, wid: int, cfg: dict) -> None:
        self.wid = wid
        self.cfg = cfg
        self.baseline = cfg["kind"] == "baseline"
        self.port = cfg["port"]
        self.operator_port = cfg.get("operator_port", self.port)  # two nodes: operators on the other one
        self.frame_size = cfg.get("frame_size", 200)
        self.run_tag = cfg.get("run_tag", "0")
        self.visitors: list[Visitor] = []
        self.operators: list[Operator] = []
        self.idle: list[Visitor] = []
        self.pumping = False
        self.window = 4
        self.pace_rate = 0.0
        self.pace_burst = 0.0
        self.win0 = self.win1 = 0.0
        self.sent = self.acked = 0
        self.errors: dict[str, int] = {}
        self.resets = 0
        self.track_seq = False

    # --- connections ---------------------------------------------------------------
    def visitor_path(self) -> str:
        return f"/ws/visitor?site={self.cfg.get('site_key', 'x')}"

    async def open_visitor(self, idx: int, token: str | None = None, resume: dict | None = None,
                           sem: asyncio.Semaphore | None = None, timeout: float = 30) -> Visitor:
        v = Visitor(self, idx)
        v.token = token

        async def go() -> None:
            v.ws = await connect(self.port, self.visitor_path(), v.on_frame, timeout=timeout)
            v.ws.send(json.dumps({"type": "hello", "visitor_token": token, "resume": resume or {},
                                  "page": {"url": "https://shop.example/bench", "title": "bench"}}).encode())
            welcome = json.loads(await asyncio.wait_for(v.welcome, timeout))
            v.token = welcome.get("visitor_token", token)
            conv = welcome.get("conversation")
            if conv:
                v.conversation_id = conv["id"]

        if sem is None:
            await go()
        else:
            async with sem:
                await go()
        return v

    async def open_operator(self, idx: int, take: bool) -> Operator:
        o = Operator(self, idx, take)
        headers = {"Origin": self.cfg.get("origin", ""), "Cookie": self.cfg.get("cookie", "")}
        o.ws = await connect(self.operator_port, "/ws/operator", o.on_frame, headers=headers)
        o.ws.send(b'{"type":"hello","resume":{}}')
        await asyncio.wait_for(o.welcome, 120)
        return o

    async def cmd_setup(self, visitors: int, operators: int, take: bool, warmup: bool, first_idx: int = 0) -> dict:
        t0 = time.monotonic()
        for i in range(operators):
            self.operators.append(await self.open_operator(i, take=take and i == 0))
        sem = asyncio.Semaphore(64)
        self.visitors = list(await asyncio.gather(*(self.open_visitor(first_idx + i, sem=sem) for i in range(visitors))))
        t_conn = time.monotonic() - t0
        t1 = time.monotonic()
        if warmup:
            # every visitor sends one message: opens its conversation (operator 0 takes it)
            ts = time.monotonic_ns()
            for v in self.visitors:
                v.ack_waiter = asyncio.get_running_loop().create_future()
                v.outstanding += 1
                v.ws.send(v.next_frame(ts))
            try:
                await asyncio.wait_for(asyncio.shield(asyncio.gather(*(v.ack_waiter for v in self.visitors))), 600)
            except TimeoutError:
                waiting = [v for v in self.visitors if not v.ack_waiter.done()]
                raise TimeoutError(f"{len(waiting)} of {len(self.visitors)} sends not acked after 600 s; "
                                   f"error frames: {self.errors}; sockets closed: "
                                   f"{sum(1 for v in waiting if not v.ws.open)}") from None
            for v in self.visitors:
                v.ack_waiter = None
        return {"connect_s": t_conn, "warmup_s": time.monotonic() - t1, "visitors": len(self.visitors),
                "conversations": [v.conversation_id for v in self.visitors if v.conversation_id]}

    async def cmd_wait_ops(self, messages: int, conversations: int, timeout: float = 60) -> dict:
        """Wait until every operator got ``messages`` message.created (and operator 0 took ``conversations``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(o.received >= messages for o in self.operators) and \
                    all(o.taken >= conversations for o in self.operators if o.take):
                break
            await asyncio.sleep(0.05)
        return {"received": [o.received for o in self.operators], "taken": sum(o.taken for o in self.operators)}

    def reset_counters(self) -> None:
        self.sent = self.acked = 0
        self.errors = {}
        for o in self.operators:
            o.received = o.in_window = 0
        for v in self.visitors:
            v.sent = v.acked = 0
            v.errors = {}

    async def cmd_throughput(self, start_at: float, ramp: float, seconds: float, window: int,
                             pace_rate: float, pace_burst: float, drain: float = 5.0) -> dict:
        self.reset_counters()
        self.window, self.pace_rate, self.pace_burst = window, pace_rate, pace_burst
        self.win0, self.win1 = start_at + ramp, start_at + ramp + seconds
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        now = time.monotonic()
        for v in self.visitors:
            v.tokens, v.t = pace_burst, now
        self.pumping = True
        for v in self.visitors:
            v.pump()
        await asyncio.sleep(max(0.0, self.win0 - time.monotonic()))
        acked0 = self.acked
        await asyncio.sleep(max(0.0, self.win1 - time.monotonic()))
        acked1 = self.acked
        self.pumping = False
        for v in self.visitors:
            if v.timer:
                v.timer.cancel()
                v.timer = None
        deadline = time.monotonic() + drain
        while time.monotonic() < deadline and any(v.outstanding > 0 for v in self.visitors if v.ws.open):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        return {"sent": self.sent, "acked": self.acked, "acked_in_window": acked1 - acked0,
                "op_in_window": [o.in_window for o in self.operators],
                "op_received": [o.received for o in self.operators],
                "errors": dict(self.errors), "outstanding_after_drain": sum(max(v.outstanding, 0) for v in self.visitors),
                "closed": sum(1 for v in self.visitors if not v.ws.open) + sum(1 for o in self.operators if not o.ws.open)}

    async def cmd_latency(self, start_at: float, seconds: float, rate: float, ramp: float = 1.0,
                          drain: float = 3.0) -> dict:
        """Open loop: ``rate`` msg/s from this worker, round-robin over its visitors, ``seconds`` long
        after a ``ramp`` whose samples are discarded."""
        self.reset_counters()
        self.pumping = False
        self.win0, self.win1 = start_at + ramp, start_at + ramp + seconds
        for o in self.operators:
            o.lat = []
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        total = int(rate * (ramp + seconds))
        nv = len(self.visitors)
        k = 0
        max_lag = 0.0
        lat_mark = None
        t_start = time.monotonic()
        while k < total:
            now = time.monotonic()
            due = min(total, int((now - t_start) * rate) + 1)
            if k < due:
                max_lag = max(max_lag, now - (t_start + k / rate))
            ts = time.monotonic_ns()
            while k < due:
                v = self.visitors[k % nv]
                v.outstanding += 1
                v.ws.send(v.next_frame(ts))
                k += 1
            if lat_mark is None and now >= self.win0:
                lat_mark = [len(o.lat) for o in self.operators] if self.operators else []
            await asyncio.sleep(max(0.0, t_start + k / rate - time.monotonic()))
        await asyncio.sleep(drain)
        lat: list[int] = []
        for i, o in enumerate(self.operators):
            start = lat_mark[i] if lat_mark else 0
            lat.extend(o.lat[start:])
            o.lat = None
        return {"sent": self.sent, "acked": self.acked, "lat_ns": lat, "max_send_lag_s": max_lag,
                "errors": dict(self.errors), "op_received": [o.received for o in self.operators],
                "duration_s": time.monotonic() - t_start - drain}

    async def cmd_idle_open(self, count: int, first_idx: int = 10_000_000) -> dict:
        t0 = time.monotonic()
        sem = asyncio.Semaphore(64)
        results = await asyncio.gather(*(self.open_visitor(first_idx + i, sem=sem, timeout=60) for i in range(count)),
                                       return_exceptions=True)
        self.idle = [r for r in results if isinstance(r, Visitor)]
        failed = [repr(r) for r in results if not isinstance(r, Visitor)]
        return {"opened": len(self.idle), "failed": len(failed), "first_failures": failed[:3],
                "seconds": time.monotonic() - t0}

    async def cmd_idle_open_more(self, count: int, first_idx: int) -> dict:
        keep = self.idle
        out = await self.cmd_idle_open(count, first_idx)
        self.idle = keep + self.idle
        return out

    async def cmd_idle_close(self) -> dict:
        for v in self.idle:
            v.ws.abort()
        n = len(self.idle)
        self.idle = []
        await asyncio.sleep(0.2)
        return {"closed": n}

    async def cmd_op_probe(self) -> dict:
        """Time one operator tab's hello → welcome (its welcome lists every open conversation)."""
        t0 = time.monotonic()
        o = await self.open_operator(99, take=False)
        dt = time.monotonic() - t0
        size = len(o.welcome.result())
        count = len(json.loads(o.welcome.result()).get("conversations", []))
        o.ws.abort()
        return {"seconds": dt, "bytes": size, "conversations": count}

    async def cmd_close_all(self) -> dict:
        for c in self.visitors + self.idle:
            c.ws.abort()
        for o in self.operators:
            o.ws.abort()
        self.visitors, self.idle, self.operators = [], [], []
        await asyncio.sleep(0.2)
        return {}


    # --- reconnect storm (bench/reconnect.py) ---------------------------------------
    async def cmd_rc_setup(self, visitors: int, messages_each: int, first_idx: int = 0, window: int = 128) -> dict:
        """Visitors connect and each writes ``messages_each`` messages (acked one by one)."""
        self.track_seq = True
        t0 = time.monotonic()
        sem = asyncio.Semaphore(64)
        opened = await asyncio.gather(*(self.open_visitor(first_idx + i, sem=sem, timeout=120)
                                        for i in range(visitors)), return_exceptions=True)
        self.visitors = [v for v in opened if isinstance(v, Visitor)]
        setup_failures = [repr(e) for e in opened if not isinstance(e, Visitor)]
        for v in self.visitors:
            v.seqs = set()
        # at most ``window`` sends in flight per load process (the first message of every visitor opens
        # its conversation: 5,000 at once only measured the server's pool timeouts), and a send
        # answered by an error (``internal`` under overload) is sent again with the same client_id,
        # as the widget does
        gate = asyncio.Semaphore(window)
        refused: dict[str, int] = {}

        async def send(v: Visitor, frame: bytes) -> bool:
            async with gate:
                return await self.send_acked(v, frame, refused)

        failed: set[int] = set()
        for _ in range(messages_each):
            ts = time.monotonic_ns()
            live = [v for v in self.visitors if v.idx not in failed]
            done = await asyncio.gather(*(send(v, v.next_frame(ts)) for v in live))
            failed.update(v.idx for v, ok in zip(live, done) if not ok)
        for v in self.visitors:
            if v.idx in failed:
                v.ws.abort()
        self.visitors = [v for v in self.visitors if v.idx not in failed]
        setup_failures += [f"{len(failed)} visitors' sends not acked (answers: {refused})"] if failed else []
        return {"seconds": time.monotonic() - t0, "visitors": len(self.visitors),
                "setup_failed": visitors - len(self.visitors), "setup_failures": setup_failures[:3],
                "setup_refused_sends": refused}

    async def send_acked(self, v: Visitor, frame: bytes, refused: dict[str, int], attempts: int = 8,
                         wait: float = 120) -> bool:
        """Send until acked: an error answer (or no answer within ``wait``) is retried with the same
        frame (same client_id) after the widget's backoff; False when every attempt failed."""
        import random

        for attempt in range(attempts):
            v.ack_waiter = asyncio.get_running_loop().create_future()
            v.outstanding = 1
            v.ws.send(frame)
            try:
                got = await asyncio.wait_for(v.ack_waiter, wait)
            except TimeoutError:
                got = "no answer"
            finally:
                v.ack_waiter = None
            if got is True:
                return True
            refused[got] = refused.get(got, 0) + 1
            if not v.ws.open:
                return False
            cap = min(10.0, 0.3 * 2 ** attempt)
            await asyncio.sleep(cap / 2 + random.random() * cap / 2)
        return False

    async def cmd_rc_fire(self) -> dict:
        """Every visitor sends one more message and does not wait: the server is killed meanwhile."""
        self.pending: dict[int, bytes] = {}
        ts = time.monotonic_ns()
        for v in self.visitors:
            frame = v.next_frame(ts)
            self.pending[v.idx] = frame
            v.outstanding = 1
            v.acked = 0
            v.ws.send(frame)
        return {"fired": len(self.pending)}

    async def cmd_rc_state(self) -> dict:
        """After the kill: how many in-flight sends were acked before the socket died."""
        await asyncio.sleep(0.2)
        return {"acked_before_kill": sum(1 for v in self.visitors if v.acked),
                "still_open": sum(1 for v in self.visitors if v.ws.open)}

    async def cmd_rc_reconnect(self, sample: int, backoff_base: float = 0.3, backoff_cap: float = 10.0,
                               timeout: float = 120, visible_cap: float = 0.0) -> dict:
        """Reconnect every visitor (token + resume), wait for its replay, retry its unacked send
        with the same client_id. Retries follow the widget (static/widget/protocol.js Backoff.next):
        top = min(cap, 0.3 s·2^attempt), the first one too; a hidden tab (cap 10 s) waits
        top/2 + random·top/2; a page in view (``visible_cap`` > 0: BACKOFF_VISIBLE_CAP, 5 s) has
        cap = min(10 s, visible_cap) and, once top reaches it, waits 0.2·top + random·0.8·top.
        Returns per-phase times (monotonic) and a sample for checking."""
        import random

        loop = asyncio.get_running_loop()
        t0 = time.monotonic()
        welcomed: list[float] = []
        resumed: list[float] = []
        attempts = [0]
        failures: list[str] = []
        errors: dict[str, int] = {}
        held_before = {v.idx: v.last_seq for v in self.visitors}
        stored_unacked = [0]
        retry_errors: dict[str, int] = {}  # error answers to the retried sends (each then sent again)

        async def one(v: Visitor) -> None:
            tries = 0
            while True:
                limit = min(backoff_cap, visible_cap) if visible_cap else backoff_cap
                top = min(limit, backoff_base * 2 ** tries)
                low = 0.2 if visible_cap and top >= limit else 0.5
                await asyncio.sleep(top * low + random.random() * top * (1 - low))
                tries += 1
                attempts[0] += 1
                v.welcome = loop.create_future()
                try:
                    v.ws = await connect(self.port, self.visitor_path(), v.on_frame, timeout=60)
                    resume = {str(v.conversation_id): v.last_seq} if v.conversation_id else {}
                    v.ws.send(json.dumps({"type": "hello", "visitor_token": v.token, "resume": resume,
                                          "page": {"url": "https://shop.example/bench", "title": "bench"}}).encode())
                    welcome = json.loads(await asyncio.wait_for(v.welcome, 60))
                    break
                except (TimeoutError, OSError, ConnectionError) as exc:
                    kind = type(exc).__name__ + (f": {exc}"[:60] if isinstance(exc, ConnectionError) else "")
                    errors[kind] = errors.get(kind, 0) + 1
                    if v.ws is not None:
                        v.ws.abort()
                    if time.monotonic() - t0 > timeout:
                        failures.append(repr(exc))
                        return
            welcomed.append(time.monotonic())
            target = (welcome.get("conversation") or {}).get("last_seq", 0)
            if v.last_seq < target:  # the replay is on its way: wait for it (no polling: 10,000 visitors)
                v.seq_waiter = (target, loop.create_future())
                try:
                    await asyncio.wait_for(v.seq_waiter[1], max(1.0, timeout - (time.monotonic() - t0)))
                except TimeoutError:
                    failures.append(f"visitor {v.idx}: replay incomplete ({v.last_seq} of {target}, "
                                    f"socket open: {v.ws.open})")
                    return
                finally:
                    v.seq_waiter = None
            resumed.append(time.monotonic())
            if v.acked == 0 and v.last_seq > held_before[v.idx]:
                stored_unacked[0] += 1  # committed before the kill, ack lost: came back in the replay
            if v.acked == 0:  # the in-flight send was never acked: retry it, same client_id (again on an error)
                if not await self.send_acked(v, self.pending[v.idx], retry_errors, wait=30):
                    failures.append(f"visitor {v.idx}: retry not acked (error frames: {v.errors}, "
                                    f"socket open: {v.ws.open})")

        await asyncio.gather(*(one(v) for v in self.visitors))
        t_end = time.monotonic()
        await asyncio.sleep(0.5)  # late duplicates of live/replay overlap, if any
        rnd = random.Random(7)
        picked = rnd.sample(self.visitors, min(sample, len(self.visitors)))
        return {"t0": t0, "t_end": t_end, "welcomed": welcomed, "resumed": resumed, "attempts": attempts[0],
                "attempt_errors": errors, "stored_but_unacked_at_kill": stored_unacked[0],
                "retry_errors": retry_errors,
                "failures": failures[:5], "failed": len(failures), "resets": self.resets,
                "all": [{"conversation_id": v.conversation_id, "last_seq": v.last_seq} for v in self.visitors],
                "sample": [{"conversation_id": v.conversation_id, "seqs": sorted(v.seqs), "last_seq": v.last_seq,
                            "client_ids": [f"b{self.wid}-{v.idx}-{k}-{self.run_tag}" for k in range(1, v.n + 1)]}
                           for v in picked]}


def worker_main(wid: int, cfg: dict, conn) -> None:
    """Entry point of one load process (multiprocessing spawn target)."""
    raise_nofile()
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # pragma: no cover
        runner = asyncio.Runner()

    async def main() -> None:
        w = Worker(wid, cfg)
        loop = asyncio.get_running_loop()
        while True:
            msg = await loop.run_in_executor(None, conn.recv)
            cmd, kw = msg["cmd"], msg.get("kw", {})
            if cmd == "quit":
                conn.send({"ok": True})
                return
            try:
                result = await getattr(w, "cmd_" + cmd)(**kw)
                conn.send({"ok": True, "result": result})
            except Exception:
                conn.send({"ok": False, "error": traceback.format_exc()})

    with runner:
        runner.run(main())
    os._exit(0)
