"""Over real HTTP and sockets: a supervisor's whisper reaches the operator at once and never the
visitor; a transfer offer declined by its receiver or cancelled by its sender; the escalation
settings' rights; an unanswered chat escalating to the e-mail step (aiosmtpd) when the clock moves."""
from datetime import UTC, datetime, timedelta

from tests.mail.conftest import ClockFile, mail_env
from tests.mail.conftest import smtp as smtp  # the fixture
from tests.support import ServerProcess, admin, make_operator, visitor_ws, wait_until
from tests.team.test_transfer import _chat_held_by

WHISPER = "Предложи бесплатную доставку — это наш постоянный клиент"


async def _visitor_saw_nothing_internal(v, *texts) -> None:
    await v.send({"type": "ping"})
    await v.expect("pong")
    dumped = repr(v.seen)
    for text in texts:
        assert text not in dumped, f"{text!r} reached the visitor"
    assert not [f for f in v.seen if f.get("type") == "message.created" and f["message"]["kind"] == "note"]
    assert not [f for f in v.seen if f.get("type", "").startswith(("transfer.", "conversation.escalated"))]


async def test_a_supervisors_whisper_reaches_the_operator_at_once_and_never_the_visitor(sqlite_server):
    sup, b = admin(sqlite_server), make_operator(sqlite_server, name="Борис")
    v, cid = await _chat_held_by(sqlite_server, b)
    ws_b = await b.ws()
    r = sup.call("POST", f"/api/v1/conversations/{cid}/whisper", json={"text": WHISPER})
    assert r.status_code == 200, r.text
    msg = r.json()["message"]
    assert msg["kind"] == "note" and msg["client_id"].startswith("whisper:")
    got = await ws_b.expect("message.created")
    assert got["message"]["text"] == WHISPER and got["message"]["author"]["id"] == sup.operator["id"]
    # an operator cannot whisper; nobody whispers into a closed or unknown conversation
    denied = b.call("POST", f"/api/v1/conversations/{cid}/whisper", json={"text": "x"})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    assert sup.call("POST", "/api/v1/conversations/999999/whisper", json={"text": "x"}).status_code == 404
    assert sup.call("POST", f"/api/v1/conversations/{cid}/whisper", json={"text": ""}).status_code in (400, 422)
    # the history keeps it for operators; the visitor's history never has it
    history = b.call("GET", f"/api/v1/conversations/{cid}/messages").json()["messages"]
    assert WHISPER in [m["text"] for m in history if m["kind"] == "note"]
    await _visitor_saw_nothing_internal(v, WHISPER)
    sup.call("POST", f"/api/v1/conversations/{cid}/close")
    closed = sup.call("POST", f"/api/v1/conversations/{cid}/whisper", json={"text": "x"})
    assert closed.status_code == 409
    for ws in (v, ws_b):
        await ws.close()


async def test_the_receiver_declines_and_the_sender_cancels_an_offer(sqlite_server):
    a, b = admin(sqlite_server), make_operator(sqlite_server, name="Борис", email="boris@example.com")
    b.set_status("online")
    v, cid = await _chat_held_by(sqlite_server, a)
    ws_a, ws_b = await a.ws(), await b.ws()

    tid = a.call("POST", f"/api/v1/conversations/{cid}/transfer",
                 json={"to_operator_id": b.operator["id"], "note": "VIP"}).json()["transfer"]["id"]
    await ws_b.expect("transfer.offered")
    assert a.call("POST", f"/api/v1/transfers/{tid}/decline").status_code == 404  # only the receiver declines
    r = b.call("POST", f"/api/v1/transfers/{tid}/decline")
    assert r.status_code == 200 and r.json() == {"transfer_id": tid, "conversation_id": cid, "result": "declined"}
    assert (await ws_a.expect("transfer.ended", transfer_id=tid))["result"] == "declined"
    lines = [f["message"] for f in ws_a.seen if f["type"] == "message.created"]  # stored before the end
    assert [(m["kind"], m["text"]) for m in lines][-1:] == [("note", "Борис отклоняет передачу диалога.")]
    conv = a.call("GET", f"/api/v1/conversations/{cid}").json()["conversation"]
    assert conv["assignee"]["id"] == a.operator["id"]  # it stays with the sender
    for late in (b.call("POST", f"/api/v1/transfers/{tid}/accept"), b.call("POST", f"/api/v1/transfers/{tid}/decline"),
                 a.call("POST", f"/api/v1/transfers/{tid}/cancel")):
        assert late.status_code == 409 and late.json()["error"]["code"] == "transfer_ended"

    tid2 = a.call("POST", f"/api/v1/conversations/{cid}/transfer",
                  json={"to_operator_id": b.operator["id"]}).json()["transfer"]["id"]
    await ws_b.expect("transfer.offered", timeout=10)
    assert b.call("POST", f"/api/v1/transfers/{tid2}/cancel").status_code == 404  # only the sender cancels
    r = a.call("POST", f"/api/v1/transfers/{tid2}/cancel")
    assert r.status_code == 200 and r.json()["result"] == "cancelled"
    assert (await ws_b.expect("transfer.ended", transfer_id=tid2))["result"] == "cancelled"
    assert b.call("POST", f"/api/v1/transfers/{tid2}/accept").status_code == 409
    late_tab = await b.ws()
    assert late_tab.welcome["transfers"] == []  # nothing left to show
    assert a.call("POST", "/api/v1/transfers/abc/cancel").status_code == 404
    await _visitor_saw_nothing_internal(v, "VIP", "отклоняет", "отменяет")
    for ws in (v, ws_a, ws_b, late_tab):
        await ws.close()


def test_escalation_settings_admin_edits_operators_read(sqlite_server):
    a, op = admin(sqlite_server), make_operator(sqlite_server)
    sid = a.call("GET", "/api/v1/sites").json()["sites"][0]["id"]
    body = {"enabled": True, "steps": {"alert": 30, "offer_all": 90, "email": 300, "contacts": None},
            "emails": ["Boss@Shop.example"], "language": "en"}
    r = a.call("PUT", f"/api/v1/sites/{sid}/escalation", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["escalation"] == {**body, "emails": ["boss@shop.example"]}
    assert op.call("GET", f"/api/v1/sites/{sid}/escalation").json()["escalation"]["steps"]["alert"] == 30
    assert op.call("PUT", f"/api/v1/sites/{sid}/escalation", json=body).status_code == 403
    for bad in ({"steps": {"alert": 300, "offer_all": 30}}, {"steps": {"alert": 0}}, {"emails": ["x"]},
                {"enabled": "yes"}, {"language": "de"}, {"other": 1}):
        r = a.call("PUT", f"/api/v1/sites/{sid}/escalation", json=bad)
        assert r.status_code in (400, 422) and r.json()["error"]["code"] in ("invalid_input", "validation_error"), r.text
    assert a.call("PUT", "/api/v1/sites/999999/escalation", json={}).status_code == 404
    assert a.call("GET", "/api/v1/sites/x/escalation").status_code == 404


async def test_an_unanswered_chat_escalates_to_the_email_step_when_the_clock_moves(tmp_path, smtp):
    clock = ClockFile(tmp_path / "clock")
    server = ServerProcess(tmp_path / "data", env=mail_env(
        smtp.url, FRONTDESK_TEST_CLOCK_FILE=str(clock.path), FRONTDESK_ESCALATION_TICK="0.1",
        FRONTDESK_NO_REPLY_SECONDS="0")).start()
    try:
        a = admin(server)
        sid = a.call("GET", "/api/v1/sites").json()["sites"][0]["id"]
        r = a.call("PUT", f"/api/v1/sites/{sid}/escalation", json={
            "enabled": True, "steps": {"alert": 60, "offer_all": 120, "email": 300, "contacts": 600},
            "emails": ["supervisor@shop.example"]})
        assert r.status_code == 200, r.text
        ws_a = await a.ws()
        a.set_status("online")
        v = await visitor_ws(server, server.demo["site_key"])
        await v.send({"type": "message.send", "client_id": "hi", "text": "Алло, есть кто? <script>x</script>"})
        cid = (await v.expect("message.ack"))["message"]["conversation_id"]
        clock.advance(61)
        alert = await ws_a.expect("conversation.escalated", timeout=15)
        assert alert["step"] == "alert" and alert["conversation_id"] == cid
        assert smtp.received == []
        clock.advance(250)
        steps = [(await ws_a.expect("conversation.escalated", timeout=15))["step"] for _ in range(2)]
        assert steps == ["offer_all", "email"]
        mail = smtp.wait_for(1)[0]
        assert mail.rcpt_tos == ["supervisor@shop.example"]
        assert "Пропущенный чат" in mail.message["Subject"]
        assert "&lt;script&gt;" in mail.html() and "<script>" in mail.text()
        assert f"/panel/#/conversations/{cid}" in mail.text()
        # the last step offers the visitor the contacts form
        clock.advance(300)
        line = await v.expect("message.created", timeout=15)
        while line["message"]["kind"] == "visitor":
            line = await v.expect("message.created", timeout=15)
        assert line["message"]["kind"] == "system" and line["message"]["client_id"].startswith("ask_contacts:")
        today = datetime.now(UTC).date()
        period = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=2))}
        wait_until(lambda: a.call("GET", f"/api/v1/reports/{sid}/missed", params=period)
                   .json()["current"]["missed"] == 1, what="the missed count")
        await _visitor_saw_nothing_internal(v)
        assert len(smtp.received) == 1  # the e-mail step once
        for ws in (v, ws_a):
            await ws.close()
    finally:
        server.stop()
