"""Transfer of a conversation to a colleague, its fallback on a moved clock, and taking a held chat."""
from tests.mail.conftest import ClockFile
from tests.support import ServerProcess, admin, make_operator, visitor_ws

NOTE = "Постоянный клиент, обещали скидку 10%"


def _start(tmp_path, **env):
    clock = ClockFile(tmp_path / "clock")
    server = ServerProcess(tmp_path / "data", env={"FRONTDESK_TEST_CLOCK_FILE": str(clock.path),
                                                   "FRONTDESK_TRANSFER_TIMEOUT": "60", **env}).start()
    return server, clock


async def _chat_held_by(server, operator):
    v = await visitor_ws(server, server.demo["site_key"])
    await v.send({"type": "message.send", "client_id": "hi", "text": "Здравствуйте, вопрос по заказу"})
    cid = (await v.expect("message.ack"))["message"]["conversation_id"]
    r = operator.call("POST", f"/api/v1/conversations/{cid}/take")
    assert r.status_code == 200, r.text
    await v.expect("conversation.assigned")
    return v, cid


def _no_note_anywhere(frames, *texts):
    dumped = repr(frames)
    for text in texts:
        assert text not in dumped, f"{text!r} reached the visitor"
    assert not [f for f in frames if f.get("type", "").startswith("transfer.") or f.get("type") == "operator.viewing"]
    assert not [f for f in frames if f.get("type") == "message.created" and f["message"]["kind"] == "note"]


async def test_transfer_with_a_note_accepted_by_the_receiver(tmp_path):
    server, _clock = _start(tmp_path)
    try:
        a, b = admin(server), make_operator(server, name="Борис")
        a.set_status("online")
        b.set_status("online")
        v, cid = await _chat_held_by(server, a)
        ws_a, ws_b = await a.ws(), await b.ws()
        targets = a.call("GET", f"/api/v1/conversations/{cid}/transfer-targets").json()["operators"]
        assert b.operator["id"] in [o["id"] for o in targets]
        assert a.operator["id"] not in [o["id"] for o in targets]

        r = a.call("POST", f"/api/v1/conversations/{cid}/transfer", json={"to_operator_id": b.operator["id"],
                                                                          "note": NOTE})
        assert r.status_code == 200, r.text
        offer = await ws_b.expect("transfer.offered")
        assert offer["transfer"]["note"] == NOTE
        # a panel tab of B that connects later is shown the offer still waiting
        late_tab = await b.ws()
        assert [o["transfer"]["id"] for o in late_tab.welcome["transfers"]] == [offer["transfer"]["id"]]
        assert late_tab.welcome["transfers"][0]["transfer"]["note"] == NOTE
        await late_tab.close()
        other_tab = await a.ws()
        assert other_tab.welcome["transfers"] == []
        await other_tab.close()
        assert offer["transfer"]["from"]["id"] == a.operator["id"]
        assert offer["conversation"]["id"] == cid
        # the offer is for B only; A's own socket never gets it
        await ws_a.send({"type": "ping"})
        await ws_a.expect("pong")
        assert not [f for f in ws_a.seen if f["type"] == "transfer.offered"]

        r = b.call("POST", f"/api/v1/transfers/{offer['transfer']['id']}/accept")
        assert r.status_code == 200, r.text
        assert r.json()["conversation"]["assignee"]["id"] == b.operator["id"]
        # the visitor sees the new operator and a system line, and keeps chatting in the same conversation
        assigned = await v.expect("conversation.assigned")
        assert assigned["operator"]["name"] == "Борис" and "photo_url" in assigned["operator"]
        line = await v.expect("message.created")
        while line["message"]["kind"] != "system":
            line = await v.expect("message.created")
        assert line["message"]["text"] == "Диалог передан оператору Борис."
        # the previous operator's panel learns it is no longer theirs
        moved = await ws_a.expect("conversation.assigned", conversation_id=cid)
        assert moved["operator"]["id"] == b.operator["id"]
        assert (await ws_a.expect("transfer.ended"))["result"] == "accepted"
        await v.send({"type": "message.send", "client_id": "after", "text": "Спасибо!"})
        await ws_b.expect("message.created")
        # a second accept is refused
        again = b.call("POST", f"/api/v1/transfers/{offer['transfer']['id']}/accept")
        assert again.status_code == 409 and again.json()["error"]["code"] == "transfer_ended"
        # history stays: the visitor's first message, the note (operators only), the system line
        history = b.call("GET", f"/api/v1/conversations/{cid}/messages").json()["messages"]
        assert [m["kind"] for m in history][:1] == ["visitor"]
        assert NOTE in [m["text"] for m in history if m["kind"] == "note"]
        await v.send({"type": "ping"})
        await v.expect("pong")
        _no_note_anywhere(v.seen, NOTE)
        for ws in (v, ws_a, ws_b):
            await ws.close()
    finally:
        server.stop()


async def test_an_offer_nobody_accepts_falls_back_to_the_waiting_queue(tmp_path):
    server, clock = _start(tmp_path)
    try:
        a, b = admin(server), make_operator(server, name="Борис")
        a.set_status("online")
        v, cid = await _chat_held_by(server, a)
        ws_a, ws_b = await a.ws(), await b.ws()
        r = a.call("POST", f"/api/v1/conversations/{cid}/transfer", json={"to_operator_id": b.operator["id"],
                                                                          "note": NOTE})
        tid = r.json()["transfer"]["id"]
        await ws_b.expect("transfer.offered")
        # before the timeout nothing happens; after it the conversation waits for anyone again
        clock.advance(30)
        assert a.call("GET", f"/api/v1/conversations/{cid}").json()["conversation"]["assignee"]["id"] == a.operator["id"]
        clock.advance(31)
        updated = await ws_a.expect("conversation.updated", timeout=15)
        assert updated["conversation"]["id"] == cid and updated["conversation"]["assignee"] is None
        offered = await ws_a.expect("conversation.offered")
        assert offered["conversation"]["id"] == cid
        assert (await ws_b.expect("transfer.ended"))["result"] == "expired"
        late = b.call("POST", f"/api/v1/transfers/{tid}/accept")
        assert late.status_code == 409 and late.json()["error"]["code"] == "transfer_ended"
        # someone else's transfer cannot be accepted by guessing its id
        assert a.call("POST", f"/api/v1/transfers/{tid}/accept").status_code == 404
        await v.send({"type": "ping"})
        await v.expect("pong")
        _no_note_anywhere(v.seen, NOTE)
        for ws in (v, ws_a, ws_b):
            await ws.close()
    finally:
        server.stop()


async def test_taking_a_chat_another_operator_holds_needs_force_and_leaves_a_line(sqlite_server):
    a, b = admin(sqlite_server), make_operator(sqlite_server, name="Борис")
    v, cid = await _chat_held_by(sqlite_server, a)
    r = b.call("POST", f"/api/v1/conversations/{cid}/take")
    assert r.status_code == 409 and r.json()["error"]["code"] == "held_by_other"
    r = b.call("POST", f"/api/v1/conversations/{cid}/take", json={"force": True})
    assert r.status_code == 200 and r.json()["conversation"]["assignee"]["id"] == b.operator["id"]
    assert (await v.expect("conversation.assigned"))["operator"]["name"] == "Борис"
    line = await v.expect("message.created")
    assert line["message"]["kind"] == "system" and line["message"]["text"] == "Диалог продолжит оператор Борис."
    # taking one's own or an unassigned chat needs no confirmation (and leaves no line)
    assert b.call("POST", f"/api/v1/conversations/{cid}/take").status_code == 200
    await v.close()


async def test_transfer_refuses_a_stranger_and_a_closed_conversation(sqlite_server):
    a = admin(sqlite_server)
    v, cid = await _chat_held_by(sqlite_server, a)
    bad = a.call("POST", f"/api/v1/conversations/{cid}/transfer", json={"to_operator_id": a.operator["id"]})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    assert a.call("POST", f"/api/v1/conversations/{cid}/transfer",
                  json={"to_operator_id": 999999}).status_code == 422
    b = make_operator(sqlite_server, name="Борис")
    a.call("POST", f"/api/v1/conversations/{cid}/close")
    closed = a.call("POST", f"/api/v1/conversations/{cid}/transfer", json={"to_operator_id": b.operator["id"]})
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "conversation_closed"
    await v.close()
