"""One visitor's frames must never hurt another visitor or an operator (issue: "one visitor frame
makes every operator of the site deaf"; "one visitor poisons everyone's group commit").

A fuzzer sends random bytes, invalid UTF-8, lone surrogates in every string field of every
frame type, deep nesting, huge numbers and oversize frames, while an observer operator socket
and ordinary visitors run beside it: the observer keeps receiving, every ordinary send is
stored, and no answer is ``internal``.
"""
from __future__ import annotations

import asyncio
import json
import random

import websockets

from tests.support import admin, visitor_ws

SURROGATE = "\\ud800"  # as a JSON escape: valid JSON, not valid Unicode
VISITOR_FRAMES = {
    "hello": {"visitor_token": "S", "resume": {"S": 1}, "page": {"url": "S", "title": "S", "referrer": "S"}, "lang": "S"},
    "message.send": {"client_id": "S", "text": "S", "ref": "S"},
    "typing": {"text": "S", "ref": "S"},
    "page": {"url": "S", "title": "S", "ref": "S"},
    "sync": {"conversation_id": 1, "ref": "S"},
    "read": {"conversation_id": 1, "seq": 1, "ref": "S"},
    "contacts": {"email": "S", "phone": "S", "name": "S", "ref": "S"},
    "ping": {"ref": "S"},
}


def _surrogate_frames() -> list[str]:
    """Every string field of every visitor frame type, one at a time, holding a lone surrogate."""
    out = []
    for type_, fields in VISITOR_FRAMES.items():
        for name, value in fields.items():
            frame = {"type": type_, **{k: ("ok-1" if v == "S" else v) for k, v in fields.items()}}
            if value == "S":
                frame[name] = "PLACEHOLDER"
            elif isinstance(value, dict):
                frame[name] = {k: "PLACEHOLDER" for k in value}
            else:
                continue
            out.append(json.dumps(frame).replace('"PLACEHOLDER"', f'"a{SURROGATE}b"'))
        out.append(json.dumps({"type": type_}).replace('"' + type_ + '"', f'"{type_}{SURROGATE}"'))
    return out


def _junk_frames(rng: random.Random) -> list[str | bytes]:
    out: list[str | bytes] = []
    for _ in range(40):
        out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))))  # binary frames
        out.append("".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(1, 40))))
    out += ['{"type":"message.send","client_id":"x","text":"' + "\\ud83d" * 50 + '"}',
            '{"type":"sync","conversation_id":1e400}', '{"type":"read","conversation_id":1,"seq":' + "9" * 400 + "}",
            '{"type":"sync","conversation_id":-99999999999999999999999}', '{"type":"typing","text":' + "[" * 500 +
            "]" * 500 + "}", '{"type":"message.send","client_id":"' + "\\udfff" + '","text":"x"}',
            '{"type":"typing","text":"\\u0000\\u202e\\u2028"}', '{"type":"ping","ref":"' + SURROGATE + '"}']
    return out


async def _observer(server, counts: dict, stop: asyncio.Event) -> None:
    op = admin(server)
    ws = await op.ws()
    counts["observer_ready"] = True
    try:
        while not stop.is_set():
            await ws.send({"type": "ping"})
            while True:
                frame = await ws.recv(timeout=10)  # a deaf socket fails the test here
                if frame.get("type") == "message.created":
                    counts["observed"] += 1
                if frame.get("type") == "pong":
                    counts["pongs"] += 1
                    break
            await asyncio.sleep(0.2)
    finally:
        await ws.close()
        op.close()


async def _ordinary_visitor(server, site_key: str, i: int, counts: dict, acked: list) -> None:
    v = await visitor_ws(server, site_key)
    for n in range(12):
        cid = f"ok-{i}-{n}"
        await v.send({"type": "message.send", "client_id": cid, "text": f"обычное сообщение {n}"})
        ack = await v.expect("message.ack", timeout=20)
        assert ack["client_id"] == cid
        acked.append((ack["message"]["conversation_id"], ack["message"]["seq"], cid))
        await asyncio.sleep(0.1)
    counts["internal"] += sum(1 for f in v.seen if f.get("type") == "error" and f.get("code") == "internal")
    await v.close()


async def _fuzzer(server, site_key: str, payloads: list, counts: dict) -> None:
    """Send every payload, at most 15 a second per socket (the rate limit is not what we test),
    reconnecting when the server closes the socket (1007 invalid UTF-8, 1009 too big)."""
    v = await visitor_ws(server, site_key)
    await v.send({"type": "message.send", "client_id": "fuzz-open", "text": "открываю диалог"})
    await v.expect("message.ack")
    for payload in payloads:
        try:
            await v.conn.send(payload)
            counts["fuzz_sent"] += 1
            await asyncio.sleep(1 / 15)
        except websockets.ConnectionClosed:
            counts["fuzz_closed"] += 1
            v = await visitor_ws(server, site_key, token=v.welcome["visitor_token"])
    try:  # a ping's pong comes after every answer to what was sent before it
        await v.send({"type": "ping"})
        await v.expect("pong")
    except websockets.ConnectionClosed:
        pass  # the last payload closed the socket (oversize): its answers are all in v.seen
    counts["internal"] += sum(1 for f in v.seen if f.get("type") == "error" and f.get("code") == "internal")
    await v.close()


async def test_fuzzed_frames_never_deafen_operators_nor_lose_ordinary_messages(sqlite_server):
    server = sqlite_server
    site_key = server.demo["site_key"]
    rng = random.Random(20261130)
    surrogates = _surrogate_frames()
    payloads = surrogates * 3 + _junk_frames(rng)
    payloads += ["x" * 70_000, '{"type":"typing","text":"' + "я" * 40_000 + '"}']  # oversize: close 1009
    rng.shuffle(payloads)
    # invalid UTF-8 in a *text* frame (the websockets client would refuse to build one from str)
    raw_invalid_utf8 = [b'{"type":"typing","text":"\xff\xfe"}', b"\xc3\x28", b"\xed\xa0\x80"]

    counts = {"observed": 0, "pongs": 0, "internal": 0, "fuzz_sent": 0, "fuzz_closed": 0, "observer_ready": False}
    stop = asyncio.Event()
    acked: list = []
    observer = asyncio.create_task(_observer(server, counts, stop))
    while not counts["observer_ready"]:
        await asyncio.sleep(0.05)
    chunks = [payloads[i::4] for i in range(4)]
    await asyncio.gather(*[_fuzzer(server, site_key, chunk, counts) for chunk in chunks],
                         *[_ordinary_visitor(server, site_key, i, counts, acked) for i in range(3)])
    # invalid UTF-8 closes the sender's socket with 1007 and nothing else
    for raw in raw_invalid_utf8:
        v = await visitor_ws(server, site_key)
        await v.conn.send(raw, text=True)
        try:
            await asyncio.wait_for(v.conn.recv(), 10)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1007
    before = counts["pongs"]
    while counts["pongs"] < before + 2:  # the observer still hears the server afterwards
        await asyncio.sleep(0.05)
    stop.set()
    await observer

    # every ordinary send is stored, once, with its seq
    op = admin(server)
    by_conv: dict[int, dict] = {}
    for cid, seq, client_id in acked:
        if cid not in by_conv:
            msgs = op.call("GET", f"/api/v1/conversations/{cid}/messages", params={"limit": 200}).json()["messages"]
            by_conv[cid] = {m["client_id"]: m["seq"] for m in msgs}
        assert by_conv[cid].get(client_id) == seq, f"{client_id} not stored"
    print(f"\nframe fuzz: {counts['fuzz_sent']} hostile frames ({len(surrogates)} surrogate cases × 3), "
          f"{counts['fuzz_closed']} fuzzer sockets closed by the server, {len(acked)} ordinary sends stored, "
          f"observer: {counts['pongs']} pongs, {counts['observed']} messages seen, {counts['internal']} internal errors")
    assert len(acked) == 36
    assert counts["observed"] >= 36
    assert counts["internal"] == 0
    assert "Traceback" not in server.log(), "bad input is logged as one line, never as a stack"
