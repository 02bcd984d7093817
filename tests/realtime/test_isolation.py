"""A visitor reaches only its own conversation; an operator only its own sites.

Wrong ids, foreign ids, foreign tokens and malformed ids all get the same answer,
so nothing can be learned by comparing errors.
"""
import httpx
import pytest
import websockets

from tests.support import make_operator, make_site, visitor_ws


@pytest.fixture(scope="module")
def server(module_server):
    """One server per engine for this module: each test makes its own sites, operators and visitors."""
    return module_server


MALFORMED = ["abc", -1, 0, 1.5, None, True, {}, [], "1 OR 1=1", "99999999999999999999999", "٣"]


async def _chat(server, site_key, text):
    v = await visitor_ws(server, site_key)
    await v.send({"type": "message.send", "client_id": "first", "text": text})
    ack = await v.expect("message.ack")
    return v, ack["message"]["conversation_id"]


async def test_visitor_cannot_read_or_write_another_sites_conversation(server):
    site_a = server.demo["site_key"]
    site_b = make_site(server, "Second shop")["site_key"]
    va, conv_a = await _chat(server, site_a, "secret of A")
    vb, conv_b = await _chat(server, site_b, "hello from B")
    token_a = va.welcome["visitor_token"]

    # B asks to resume / sync A's conversation, a missing one, and malformed ids: all not_found
    answers = []
    for cid in [conv_a, conv_a + 1000] + MALFORMED:
        await vb.send({"type": "sync", "conversation_id": cid, "after_seq": 0, "ref": "s"})
        err = await vb.expect("error")
        answers.append((err["code"], err["message"]))
    assert set(answers) == {("not_found", "conversation not found")}

    # B resuming A's conversation gets not_found and no message of A
    vb2 = await visitor_ws(server, site_b, token=vb.welcome["visitor_token"], resume={str(conv_a): 0})
    err = await vb2.expect("error")
    assert err["code"] == "not_found"
    assert all("secret of A" not in str(f) for f in vb2.seen + [vb2.welcome])

    # A's token on site B, and a random token, are both refused the same way
    for token in (token_a, "f" * 64):
        conn = await websockets.connect(f"{server.ws_url}/ws/visitor?site={site_b}")
        await conn.send('{"type":"hello","visitor_token":"%s","resume":{}}' % token)
        frame = await conn.recv()
        assert '"unauthorized"' in frame
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await conn.recv()
        assert closed.value.rcvd.code == 4401

    # B's messages go to B's own conversation, never A's
    await vb.send({"type": "message.send", "client_id": "second", "text": "still B"})
    ack = await vb.expect("message.ack", client_id="second")
    assert ack["message"]["conversation_id"] == conv_b != conv_a

    # REST history: foreign conversation, missing one, malformed id, foreign token: the same 404
    token_b = vb.welcome["visitor_token"]
    bodies = set()
    with httpx.Client(base_url=server.url) as http:
        for cid, key, token in [(conv_a, site_b, token_b), (conv_a, site_a, token_b), (conv_a + 999, site_b, token_b),
                                ("x1", site_b, token_b), (conv_b, site_b, token_a)]:
            r = http.get(f"/api/v1/widget/conversations/{cid}/messages", params={"site": key},
                         headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 404, (cid, r.text)
            bodies.add(r.text)
        assert len(bodies) == 1
        own = http.get(f"/api/v1/widget/conversations/{conv_b}/messages", params={"site": site_b},
                       headers={"Authorization": f"Bearer {token_b}"})
        assert [m["text"] for m in own.json()["messages"]] == ["hello from B", "still B"]
    for ws in (va, vb, vb2):
        await ws.close()


async def test_operator_sees_only_conversations_of_its_sites(server):
    site_b = make_site(server, "Other company")
    _, conv_demo = await _chat(server, server.demo["site_key"], "demo question")
    vb, conv_b = await _chat(server, site_b["site_key"], "question for B")

    # an operator created now is a member of every existing site; a site created
    # afterwards is not theirs until an admin grants it
    outsider = make_operator(server, name="Чужой")
    site_c = make_site(server, "Third")
    vc, conv_c = await _chat(server, site_c["site_key"], "question for C")

    r = outsider.call("GET", "/api/v1/conversations")
    ids = {c["id"] for c in r.json()["conversations"]}
    assert conv_c not in ids and conv_demo in ids and conv_b in ids
    same = set()
    for cid in (conv_c, 999999, "abc"):
        r = outsider.call("GET", f"/api/v1/conversations/{cid}/messages")
        assert r.status_code == 404
        same.add(r.text)
        r = outsider.call("POST", f"/api/v1/conversations/{cid}/messages", json={"client_id": "x", "text": "hi"})
        assert r.status_code == 404
    assert len(same) == 1

    ows = await outsider.ws(resume={str(conv_c): 0})
    err = await ows.expect("error")
    assert err["code"] == "not_found"
    await ows.send({"type": "conversation.take", "conversation_id": conv_c, "ref": "t"})
    res = await ows.expect("action.result", ref="t")
    assert res["ok"] is False and res["error"]["code"] == "not_found"
    await ows.send({"type": "message.send", "conversation_id": conv_c, "client_id": "o1", "text": "intrude"})
    assert (await ows.expect("error"))["code"] == "not_found"
    # and it never receives C's live events
    await vc.send({"type": "message.send", "client_id": "c2", "text": "more for C"})
    await vc.expect("message.ack", client_id="c2")
    await vb.send({"type": "message.send", "client_id": "b2", "text": "more for B"})
    got = await ows.expect("message.created")
    assert got["message"]["conversation_id"] == conv_b
    assert all(f["message"]["conversation_id"] != conv_c for f in ows.seen if isinstance(f.get("message"), dict))
    for ws in (vb, vc, ows):
        await ws.close()
    outsider.close()
