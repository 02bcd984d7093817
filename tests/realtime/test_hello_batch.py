"""Many visitor hellos at once over real sockets (they are identified in batches, actions/hellos.py):
each one gets its own answer — returning visitors their conversation and the replay of what they
miss, new visitors a fresh token, unknown tokens ``unauthorized`` (4401), a banned visitor
``banned`` (4430), a resume of another visitor's conversation ``not_found`` and of an unknown seq
``reset`` — on both engines."""
from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.support import admin, visitor_ws


def _welcomed(n_replayed: int = 0, *types: str):
    """Done once the welcome, ``n_replayed`` message.created and a frame of each of ``types`` arrived."""
    def done(frames: list[dict]) -> bool:
        kinds = [f["type"] for f in frames]
        return "welcome" in kinds and kinds.count("message.created") >= n_replayed and all(t in kinds for t in types)
    return done


async def _hello(server, key: str, token: str | None, resume: dict | None = None,
                 done=None) -> tuple[list[dict], int | None]:
    """The frames until ``done(frames)`` (None: until the server closes the socket), and the close code."""
    conn = await websockets.connect(f"{server.ws_url}/ws/visitor?site={key}")
    frames: list[dict] = []
    try:
        await conn.send(json.dumps({"type": "hello", "visitor_token": token, "resume": resume or {}}))
        while True:
            if done is not None and done(frames):
                return frames, None
            try:
                frames.append(json.loads(await asyncio.wait_for(conn.recv(), 30)))
            except websockets.ConnectionClosed as closed:
                return frames, closed.rcvd.code if closed.rcvd else None
    finally:
        await conn.close()


@pytest.mark.timeout(180)
async def test_concurrent_hellos_each_get_their_own_answer(server):
    key = server.demo["site_key"]
    op = admin(server)
    try:
        returning = []
        for i in range(8):
            v = await visitor_ws(server, key)
            for n in range(3):
                await v.send({"type": "message.send", "client_id": f"m{i}-{n}", "text": f"visitor {i} says {n}"})
                ack = await v.expect("message.ack")
            returning.append((v.welcome["visitor_token"], v.welcome["visitor_id"], ack["message"]["conversation_id"]))
            await v.close()
        banned = await visitor_ws(server, key)
        r = op.call("POST", "/api/v1/bans", json={"expiry": "1d", "kind": "visitor",
                                                  "visitor_id": banned.welcome["visitor_id"]})
        assert r.status_code == 201, r.text
        await banned.close()
        other_cid = returning[0][2]
        calls = (
            [_hello(server, key, token, {str(cid): 1}, _welcomed(2)) for token, _, cid in returning]  # 0–7
            + [_hello(server, key, None, None, _welcomed()) for _ in range(6)]  # 8–13
            + [_hello(server, key, f"{n:x}" * 64) for n in range(4)]  # 14–17
            + [_hello(server, key, banned.welcome["visitor_token"]) for _ in range(2)]  # 18–19
            + [_hello(server, key, returning[1][0], {str(other_cid): 0, str(returning[1][2]): 99},
                      _welcomed(0, "error", "reset"))]  # 20
        )
        out = await asyncio.gather(*calls)
        for (token, vid, cid), (frames, code) in zip(returning, out[:8], strict=True):
            assert code is None, frames
            welcome = frames[0]
            assert welcome["type"] == "welcome" and welcome["visitor_id"] == vid
            assert welcome["visitor_token"] == token and welcome["conversation"]["id"] == cid
            assert welcome["conversation"]["last_seq"] == 3
            replay = [f["message"]["seq"] for f in frames if f["type"] == "message.created"]
            assert replay == [2, 3], frames
        new_ids = set()
        for frames, code in out[8:14]:
            assert code is None and frames[0]["type"] == "welcome" and frames[0]["conversation"] is None, frames
            new_ids.add(frames[0]["visitor_id"])
            assert len(frames[0]["visitor_token"]) == 64
        assert len(new_ids) == 6 and not new_ids & {vid for _, vid, _ in returning}
        for frames, code in out[14:18]:
            assert code == 4401 and frames and frames[-1]["code"] == "unauthorized", (frames, code)
        for frames, code in out[18:20]:
            assert code == 4430 and frames[-1]["code"] == "banned" and not [
                f for f in frames if f["type"] == "welcome"], (frames, code)
        frames, code = out[20]
        assert code is None and frames[0]["type"] == "welcome"
        assert {"type": "error", "code": "not_found"}.items() <= next(
            f for f in frames if f["type"] == "error").items()
        assert {"type": "reset", "conversation_id": returning[1][2], "reason": "unknown_seq"} in frames
    finally:
        op.close()
