"""The raw baseline for bench/relay.py: a minimal uvicorn + Starlette WebSocket relay.

It speaks just enough of frontdesk's socket shape for the same load generator
to drive it, and does none of frontdesk's work (no JSON decoding, no database,
no protocol checks):

* ``/ws/visitor`` and ``/ws/operator``: the first frame (hello) is answered
  with ``{"type":"welcome"}``; ``{"type":"ping"…}`` is answered with a pong.
* every later frame on a visitor socket is **echoed back to that visitor**
  (the load generator treats the echo as the ack) **and forwarded unchanged to
  every operator socket** — the visitor→operator relay, with the same frame
  count per message as frontdesk minus frontdesk's extra copy to the visitor.
* fan-out goes through one unbounded queue + one writer task per operator
  socket (several visitor tasks must not write one socket at once); the echo
  is sent directly by the visitor's own task.

uvicorn options are frontdesk's (src/frontdesk/cli.py): ws_max_size 65,536,
ws_per_message_deflate=False, proxy_headers, httptools and the websockets
sans-I/O protocol as installed. The loop is uvloop ("auto") unless
``--loop asyncio`` — frontdesk's cli runs ``asyncio.run(server.serve())``,
which never installs uvloop, so ``--loop asyncio`` is the like-for-like loop.

Run: python bench/echo_server.py --port 8765 [--loop auto|asyncio]
"""
from __future__ import annotations

import argparse
import asyncio

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

OPERATORS: set[asyncio.Queue] = set()
WELCOME = '{"type":"welcome"}'
PONG = '{"type":"pong"}'


async def visitor(ws: WebSocket) -> None:
    await ws.accept()
    try:
        await ws.receive_text()  # hello
        await ws.send_text(WELCOME)
        while True:
            text = await ws.receive_text()
            if text.startswith('{"type":"p'):  # ping / pong
                if text.startswith('{"type":"ping"'):
                    await ws.send_text(PONG)
                continue
            await ws.send_text(text)  # the "ack"
            for q in OPERATORS:
                q.put_nowait(text)
    except (WebSocketDisconnect, RuntimeError):
        pass


async def operator(ws: WebSocket) -> None:
    await ws.accept()
    q: asyncio.Queue = asyncio.Queue()

    async def writer() -> None:
        while True:
            await ws.send_text(await q.get())

    task = None
    try:
        await ws.receive_text()  # hello
        await ws.send_text(WELCOME)
        OPERATORS.add(q)
        task = asyncio.create_task(writer())
        while True:
            text = await ws.receive_text()
            if text.startswith('{"type":"ping"'):
                q.put_nowait(PONG)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        OPERATORS.discard(q)
        if task:
            task.cancel()


app = Starlette(routes=[WebSocketRoute("/ws/visitor", visitor), WebSocketRoute("/ws/operator", operator)])


def main() -> None:
    import uvicorn

    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"])
    args = ap.parse_args()
    config = uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning",
                            ws_max_size=65536, ws_per_message_deflate=False, proxy_headers=True,
                            lifespan="off", loop=args.loop)
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
