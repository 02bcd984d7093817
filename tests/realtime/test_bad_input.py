"""Bad frames get an error frame or a documented close code; the server keeps serving others."""
import asyncio
import json

import httpx
import pytest
import websockets

from tests.support import visitor_ws


async def _closed_code(conn) -> int:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        for _ in range(500):
            await asyncio.wait_for(conn.recv(), 10)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_bad_frames_get_errors_and_the_socket_stays_usable(server):
    v = await visitor_ws(server, server.demo["site_key"])
    cases = [
        ("not json at all", "invalid_json"),
        ("{\"type\": ", "invalid_json"),
        ("[1, 2, 3]", "invalid_frame"),
        ("\"hello\"", "invalid_frame"),
        ("{}", "invalid_frame"),
        ('{"type": 5}', "invalid_frame"),
        ('{"type": "no.such.thing"}', "unknown_type"),
        ('{"type": "message.send"}', "invalid_frame"),
        ('{"type": "message.send", "client_id": "a"}', "invalid_frame"),
        ('{"type": "message.send", "client_id": "a", "text": 42}', "invalid_frame"),
        ('{"type": "message.send", "client_id": "a", "text": "   "}', "empty_text"),
        (json.dumps({"type": "message.send", "client_id": "a", "text": "я" * 4001}), "text_too_long"),
        ('{"type": "typing", "text": ["x"]}', "invalid_frame"),
        ('{"type": "page"}', "invalid_frame"),
        ("[" * 100000 + "]" * 100000, None),  # deep nesting, 200 KB: too big → close 1009
    ]
    for raw, code in cases[:-1]:
        await v.send(raw)
        err = await v.expect("error")
        assert err["code"] == code, (raw[:40], err)
    await v.conn.send(b"\x00\x01binary")
    assert (await v.expect("error"))["code"] == "invalid_frame"
    # still works
    await v.send({"type": "message.send", "client_id": "ok-1", "text": "я" * 4000})
    assert (await v.expect("message.ack"))["message"]["seq"] == 1
    await v.close()


async def test_oversize_frame_invalid_utf8_and_bad_hello_close_with_documented_codes(server):
    site = server.demo["site_key"]
    v = await visitor_ws(server, site)
    await v.send(json.dumps({"type": "message.send", "client_id": "big", "text": "x" * 70000}))
    assert await _closed_code(v.conn) == 1009

    v = await visitor_ws(server, site)
    await v.conn.send(b'{"type":"typing","text":"\xff\xfe"}', text=True)
    assert await _closed_code(v.conn) == 1007

    conn = await websockets.connect(f"{server.ws_url}/ws/visitor?site={site}")
    await conn.send('{"type": "message.send", "client_id": "a", "text": "hi"}')
    assert await _closed_code(conn) == 4400

    conn = await websockets.connect(f"{server.ws_url}/ws/visitor?site={site}")
    await conn.send("garbage")
    assert await _closed_code(conn) == 4400

    for bad_site in ("nope", "", "x" * 500):
        conn = await websockets.connect(f"{server.ws_url}/ws/visitor?site={bad_site}")
        assert await _closed_code(conn) == 4401


async def test_flood_is_rate_limited_then_closed_and_others_keep_working(server):
    site = server.demo["site_key"]
    calm = await visitor_ws(server, site)
    flood = await visitor_ws(server, site)
    frame = json.dumps({"type": "typing", "text": "спам"})
    codes = []
    try:
        for _ in range(400):
            await flood.conn.send(frame)
    except websockets.ConnectionClosed:
        pass
    try:
        while True:
            codes.append(json.loads(await asyncio.wait_for(flood.conn.recv(), 10)).get("code"))
    except websockets.ConnectionClosed as exc:
        assert exc.rcvd.code == 4429
    assert "rate_limited" in codes

    await calm.send({"type": "message.send", "client_id": "calm-1", "text": "Я спокоен"})
    assert (await calm.expect("message.ack"))["message"]["text"] == "Я спокоен"
    async with httpx.AsyncClient() as http:
        assert (await http.get(server.url + "/healthz")).json() == {"status": "ok"}
    await calm.close()


async def test_origin_not_in_sites_allowed_list_is_refused(sqlite_server):
    from tests.support import make_site

    site = make_site(sqlite_server, "Strict", allowed_origins=["https://shop.example"])
    ok = await visitor_ws(sqlite_server, site["site_key"], origin="https://shop.example")
    assert ok.welcome["type"] == "welcome"
    await ok.close()
    conn = await websockets.connect(f"{sqlite_server.ws_url}/ws/visitor?site={site['site_key']}",
                                    additional_headers={"Origin": "https://evil.example"})
    assert await _closed_code(conn) == 4403
    with httpx.Client(base_url=sqlite_server.url) as http:
        r = http.get("/api/v1/widget/config", params={"site": site["site_key"]}, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
