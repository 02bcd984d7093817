"""Strings that are not well-formed Unicode are refused where they are decoded, with a documented
code and the sender's ref, and never reach another person's socket or a shared write batch."""
from __future__ import annotations

import httpx
import pytest

from tests.support import ServerProcess, admin, visitor_ws


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory):
    """One server for this module's tests (each has its own visitor; nothing they check is shared)."""
    proc = ServerProcess(tmp_path_factory.mktemp("surrogates") / "data").start()
    yield proc
    proc.stop()


async def test_lone_surrogate_typing_is_refused_and_operators_keep_hearing(sqlite_server):
    server = sqlite_server
    key = server.demo["site_key"]
    op = admin(server)
    ows = await op.ws()
    v = await visitor_ws(server, key)
    await v.send({"type": "message.send", "client_id": "c-1", "text": "Здравствуйте"})
    await v.expect("message.ack")
    await ows.expect("message.created")
    for raw, ref in [('{"type":"typing","text":"hi \\ud800","ref":"t1"}', "t1"),
                     ('{"type":"message.send","client_id":"c-2","text":"a\\ud800"}', "c-2"),
                     ('{"type":"message.send","client_id":"c-\\ud800","text":"a"}', None),
                     ('{"type":"page","url":"https://x/\\udc00","ref":"p"}', "p")]:
        await v.send(raw)
        err = await v.expect("error")
        assert err["code"] == "invalid_text", err
        assert err.get("ref") == ref
    # the operator socket is alive: it answers a ping and gets the next ordinary message
    await ows.send({"type": "ping"})
    await ows.expect("pong")
    await v.send({"type": "message.send", "client_id": "c-3", "text": "ещё вопрос"})
    await v.expect("message.ack")
    created = await ows.expect("message.created")
    assert created["message"]["client_id"] == "c-3"
    await v.close()
    await ows.close()
    op.close()


async def test_surrogates_in_the_hello_are_refused_with_4400_not_a_dropped_socket(sqlite_server):
    import websockets

    server = sqlite_server
    conn = await websockets.connect(f"{server.ws_url}/ws/visitor?site={server.demo['site_key']}")
    await conn.send('{"type":"hello","visitor_token":null,"page":{"url":"https://x/","title":"\\ud800"},'
                    '"lang":"\\udfff"}')
    err = await conn.recv()
    assert '"invalid_text"' in err
    try:
        await conn.recv()
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code == 4400


def test_rest_bodies_with_lone_surrogates_get_a_4xx(sqlite_server):
    server = sqlite_server
    key = server.demo["site_key"]
    body = '{"name":"Ann\\ud800","email":"a@example.com","message":"hi"}'
    r = httpx.post(f"{server.url}/api/v1/widget/offline", params={"site": key}, content=body,
                   headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500 and r.json()["error"]["code"] in ("invalid_name", "invalid_input", "invalid_text")
    body = '{"name":"Ann","email":"a@example.com","message":"hi \\udfff there"}'
    r = httpx.post(f"{server.url}/api/v1/widget/offline", params={"site": key}, content=body,
                   headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_text"
