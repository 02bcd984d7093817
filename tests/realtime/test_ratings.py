"""CSAT: the visitor ends a chat or has it closed, rates it (frame or REST), operators see it."""
import httpx

from tests.support import admin, make_site, visitor_ws


async def _chat(server, op, ows, v, text="Вопрос", key="q1"):
    await v.send({"type": "message.send", "client_id": "c-" + key, "text": text})
    cid = (await v.expect("message.ack"))["message"]["conversation_id"]
    r = op.call("POST", f"/api/v1/conversations/{cid}/messages", json={"client_id": "r-" + key, "text": "Ответ"})
    assert r.status_code == 200, r.text
    return cid


async def test_rate_after_the_operator_closes(server):
    op = admin(server)
    ows = await op.ws()
    v = await visitor_ws(server, server.demo["site_key"])
    cid = await _chat(server, op, ows, v)

    # an open conversation cannot be rated yet
    await v.send({"type": "conversation.rate", "conversation_id": cid, "value": 5, "ref": "early"})
    err = await v.expect("error", ref="early")
    assert err["code"] == "conflict"

    op.call("POST", f"/api/v1/conversations/{cid}/close")
    await v.expect("conversation.closed", conversation_id=cid)
    await v.send({"type": "conversation.rate", "conversation_id": cid, "value": 5, "comment": "  Спасибо!  ",
                  "ref": "r1"})
    saved = await v.expect("rating.saved", ref="r1")
    assert saved["rating"]["value"] == 5 and saved["rating"]["comment"] == "Спасибо!"
    assert saved["rating"]["operator_id"] == op.operator["id"] and saved["rating"]["scale"] == "stars"
    rated = await ows.expect("conversation.rated", conversation_id=cid)
    assert rated["rating"]["value"] == 5

    # a second rating replaces the first
    await v.send({"type": "conversation.rate", "conversation_id": cid, "value": 4, "ref": "r2"})
    assert (await v.expect("rating.saved", ref="r2"))["rating"]["value"] == 4
    conv = op.call("GET", f"/api/v1/conversations/{cid}").json()["conversation"]
    assert conv["rating"]["value"] == 4 and conv["rating"]["comment"] is None
    r = op.call("GET", "/api/v1/conversations", params={"status": "closed"})
    assert r.status_code == 200, server.log()[-3000:]
    closed = r.json()["conversations"]
    assert [c["rating"]["value"] for c in closed if c["id"] == cid] == [4]

    # out of range, the wrong type, a foreign conversation
    for ref, value in (("a", 0), ("b", 6), ("c", True)):
        await v.send({"type": "conversation.rate", "conversation_id": cid, "value": value, "ref": ref})
        assert (await v.expect("error", ref=ref))["code"] in ("invalid_input", "invalid_frame")
    other = await visitor_ws(server, server.demo["site_key"])
    await other.send({"type": "conversation.rate", "conversation_id": cid, "value": 1, "ref": "x"})
    assert (await other.expect("error", ref="x"))["code"] == "not_found"
    for ws in (ows, v, other):
        await ws.close()


async def test_visitor_ends_the_chat_and_rates_through_rest_with_thumbs(sqlite_server):
    server = sqlite_server
    site = make_site(server, "Кнопки", widget={"rating": "thumbs"})
    op = admin(server)
    ows = await op.ws()
    v = await visitor_ws(server, site["site_key"])
    token = v.welcome["visitor_token"]
    cid = await _chat(server, op, ows, v)

    await v.send({"type": "conversation.end", "conversation_id": cid})
    closed = await v.expect("conversation.closed", conversation_id=cid)
    assert closed["conversation_id"] == cid
    by_op = await ows.expect("conversation.closed", conversation_id=cid)
    assert by_op["by"] is None and by_op["by_visitor"] is True

    url = f"{server.url}/api/v1/widget/conversations/{cid}/rating?site={site['site_key']}"
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=10) as http:
        r = http.post(url, json={"value": 3}, headers=auth)       # thumbs: only 1 (down) or 5 (up)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"
        r = http.post(url, json={"value": 5, "comment": "Быстро"}, headers=auth)
        assert r.status_code == 200 and r.json()["scale"] == "thumbs" and r.json()["value"] == 5
        assert http.post(url, json={"value": 5}).status_code == 401
        assert http.post(url, json={"value": 5}, headers={"Authorization": "Bearer nope"}).status_code == 404
        # ending through REST: idempotent; another's conversation is not found
        end = f"{server.url}/api/v1/widget/conversations/{cid}/end?site={site['site_key']}"
        assert http.post(end, headers=auth).json()["status"] == "closed"
        assert http.post(f"{server.url}/api/v1/widget/conversations/999999/end?site={site['site_key']}",
                         headers=auth).status_code == 404
    assert (await ows.expect("conversation.rated", conversation_id=cid))["rating"]["scale"] == "thumbs"
    for ws in (ows, v):
        await ws.close()
