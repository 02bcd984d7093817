"""E-mail end to end: `frontdesk serve` in a subprocess, a real SMTP server (aiosmtpd) started by the
test, on SQLite and PostgreSQL. Offline form → e-mail to every notification address; operator reply →
e-mail to the visitor and in the widget; SMTP down → queued, server SIGKILLed and restarted, SMTP up
→ delivered exactly once."""
from __future__ import annotations

import email.policy
import time
from email.parser import BytesHeaderParser

import httpx

from tests.mail.conftest import SmtpSink, mail_env
from tests.support import ServerProcess, admin, make_site, visitor_ws, wait_until

NOTIFY = ["owner@shop.example", "sales@shop.example"]
SITE_NAME = "Магазин «Ромашка»"


def _raw_header(raw: bytes, name: str) -> str:
    """A header exactly as it travelled (before decoding)."""
    return BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)[name]


def _outbox(op, **params) -> dict:
    r = op.http.get("/api/v1/outbox", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_offline_form_is_emailed_and_the_operators_reply_reaches_the_visitor(mail_server, smtp):
    server = mail_server
    key = make_site(server, SITE_NAME, notify_emails=NOTIFY)["site_key"]
    http = httpx.Client(base_url=server.url, timeout=15)
    config = http.get("/api/v1/widget/config", params={"site": key}).json()
    assert (config["operators_online"], config["within_hours"], config["available"]) == (False, True, False)

    r = http.post("/api/v1/widget/offline", params={"site": key}, json={
        "name": "Иван Петров", "email": "Ivan@Example.com", "lang": "ru",
        "message": "Здравствуйте! Нужен счёт <b>для юрлица</b> & доставка",
        "page": {"url": "https://shop.example/cart", "title": "Корзина"}})
    assert r.status_code == 201, r.text
    sent = r.json()
    token, cid = sent["visitor_token"], sent["conversation_id"]
    assert sent["emails_queued"] == 2 and sent["message"]["seq"] == 1 and len(token) == 64
    link = f"{server.url}/panel/#/conversations/{cid}"

    smtp.wait_for(2)
    for address in NOTIFY:
        [mail] = smtp.to(address)  # one each
        msg = mail.message
        assert mail.raw.isascii()  # 7-bit clean: RFC 2047 headers, quoted-printable UTF-8 bodies
        assert _raw_header(mail.raw, "Subject").lower().startswith("=?utf-8?")
        assert msg["Subject"] == f"Сообщение с сайта «{SITE_NAME}» от Иван Петров"
        assert mail.mail_from == "support@shop.example"
        assert (msg["From"].addresses[0].display_name, msg["From"].addresses[0].addr_spec) == \
            ("Поддержка", "support@shop.example")
        assert msg["To"].addresses[0].addr_spec == address
        # replying to the notification writes to the visitor
        assert (msg["Reply-To"].addresses[0].display_name, msg["Reply-To"].addresses[0].addr_spec) == \
            ("Иван Петров", "ivan@example.com")
        assert msg["Message-ID"] and msg["Auto-Submitted"] == "auto-generated"
        text, html = mail.text(), mail.html()
        assert "Здравствуйте! Нужен счёт <b>для юрлица</b> & доставка" in text
        assert link in text and "https://shop.example/cart" in text
        assert "Нужен счёт &lt;b&gt;для юрлица&lt;/b&gt; &amp; доставка" in html and "<b>для юрлица" not in html
        assert f'href="{link}"' in html

    op = admin(server)
    conv = op.http.get(f"/api/v1/conversations/{cid}").json()["conversation"]
    assert conv["is_offline"] is True
    assert (conv["visitor"]["name"], conv["visitor"]["email"]) == ("Иван Петров", "ivan@example.com")
    assert conv["last_message"]["text"].startswith("Здравствуйте!")
    outbox = wait_until(lambda: (o := _outbox(op, conversation_id=cid))["emails"]
                        and all(e["status"] == "sent" for e in o["emails"]) and o, what="sent e-mails")
    assert outbox["smtp_configured"] is True
    assert sorted(e["to"] for e in outbox["emails"]) == sorted(NOTIFY)
    assert {(e["kind"], e["state"], e["attempts"]) for e in outbox["emails"]} == {("offline_notify", "sent", 1)}

    # the operator answers in the panel → the visitor gets an e-mail (text + HTML, everything escaped)
    reply = "Счёт готов — <script>alert(1)</script>\nСпасибо, что выбрали нас!"
    r = op.call("POST", f"/api/v1/conversations/{cid}/messages", json={"client_id": "o-1", "text": reply})
    assert r.status_code == 200, r.text
    assert op.call("POST", f"/api/v1/conversations/{cid}/messages",
                   json={"client_id": "o-2", "text": "заметка", "kind": "note"}).status_code == 200
    smtp.wait_for(3)
    [mail] = smtp.to("ivan@example.com")
    msg = mail.message
    assert msg["Subject"] == f"Ответ на ваше сообщение на сайте «{SITE_NAME}»"
    assert (msg["To"].addresses[0].display_name, msg["To"].addresses[0].addr_spec) == ("Иван Петров", "ivan@example.com")
    assert (msg["Reply-To"].addresses[0].display_name, msg["Reply-To"].addresses[0].addr_spec) == \
        ("Служба поддержки", "help@shop.example")
    assert mail.raw.isascii()
    assert msg.get_content_type() == "multipart/alternative"
    text, html = mail.text(), mail.html()
    assert "Здравствуйте, Иван Петров!" in text and reply in text and "Администратор" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "> Здравствуйте! Нужен счёт <b>для юрлица</b> & доставка" in text  # the visitor's question, quoted
    time.sleep(0.5)  # a few sender rounds: the note is never e-mailed
    assert len(smtp.received) == 3
    kinds = sorted(e["kind"] for e in _outbox(op, conversation_id=cid)["emails"])
    assert kinds == ["offline_notify", "offline_notify", "operator_reply"]

    # the visitor comes back: the widget shows the reply too
    v = await visitor_ws(server, key, token=token)
    assert v.welcome["conversation"]["id"] == cid
    first = await v.expect("message.created")
    second = await v.expect("message.created")
    assert (first["message"]["seq"], second["message"]["seq"]) == (1, 2)  # the note (seq 3) never reaches a visitor
    assert second["message"]["text"] == reply and second["message"]["kind"] == "operator"
    await v.close()
    history = http.get(f"/api/v1/widget/conversations/{cid}/messages", params={"site": key},
                       headers={"Authorization": f"Bearer {token}"}).json()
    assert [m["kind"] for m in history["messages"]] == ["visitor", "operator"]

    # a permanent refusal (550) fails at once and is visible in the panel, with the server's answer
    bad_key = make_site(server, "Bounce", notify_emails=["bounce@shop.example"])["site_key"]
    r = http.post("/api/v1/widget/offline", params={"site": bad_key},
                  json={"name": "Пётр", "email": "petr@example.com", "message": "Алло"})
    assert r.status_code == 201
    failed = wait_until(lambda: _outbox(op, status="failed")["emails"], what="a failed e-mail")
    [bounce] = failed
    assert (bounce["to"], bounce["state"], bounce["attempts"], bounce["next_attempt_at"]) == \
        ("bounce@shop.example", "failed", 1, None)
    assert "550" in bounce["last_error"] and "no such user" in bounce["last_error"]
    r = op.call("POST", f"/api/v1/outbox/{bounce['id']}/retry")
    assert r.status_code == 200 and r.json()["email"]["attempts"] == 0
    assert r.json()["email"]["state"] in ("queued", "sending", "failed")
    wait_until(lambda: (e := _outbox(op, status="failed")["emails"]) and e[0]["attempts"] == 1, what="failed again")
    sent_id = _outbox(op, conversation_id=cid)["emails"][0]["id"]
    r = op.call("POST", f"/api/v1/outbox/{sent_id}/retry")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "conflict")
    assert op.call("POST", "/api/v1/outbox/999999/retry").status_code == 404
    op.close()
    http.close()


def test_smtp_down_then_server_killed_and_smtp_up_delivers_exactly_once(tmp_path, database_url):
    sink = SmtpSink()  # its port is chosen but nothing listens yet: the SMTP server is down
    server = ServerProcess(tmp_path / "data", database_url=database_url, env=mail_env(sink.url)).start()
    try:
        key = make_site(server, "Shop", notify_emails=NOTIFY)["site_key"]
        r = httpx.post(f"{server.url}/api/v1/widget/offline", params={"site": key},
                       json={"name": "Ольга", "email": "olga@example.com", "message": "Перезвоните, пожалуйста"})
        assert r.status_code == 201, r.text
        op = admin(server)

        def retrying() -> list | None:
            emails = _outbox(op)["emails"]
            ok = len(emails) == 2 and all(e["status"] == "queued" and e["attempts"] >= 1 for e in emails)
            return emails if ok else None

        emails = wait_until(retrying, what="failed attempts recorded")
        for e in emails:
            assert e["state"] == "retrying" and e["next_attempt_at"] and e["sent_at"] is None
            assert "connect" in e["last_error"].lower() or "refused" in e["last_error"].lower(), e["last_error"]

        server.kill()  # SIGKILL: no shutdown code runs
        sink.start()
        server.start()  # same data dir and database
        sink.wait_for(2, timeout=40)  # > the lease (3 × 2 s + 10 s), in case the kill hit an attempt in flight
        time.sleep(1.5)  # many sender rounds (poll 0.1 s, retries ≤ 1 s): nothing else may arrive
        assert sorted(r.rcpt_tos[0] for r in sink.received) == sorted(NOTIFY)  # exactly once each
        assert len({r.message["Message-ID"] for r in sink.received}) == 2
        emails = wait_until(lambda: (e := _outbox(op)["emails"]) and all(x["status"] == "sent" for x in e) and e,
                            what="rows marked sent")
        assert all(e["attempts"] >= 2 and e["last_error"] is None and e["sent_at"] for e in emails)
        op.close()
    finally:
        server.stop()
        sink.stop()


def test_without_smtp_url_mail_waits_in_the_outbox_and_the_panel_says_so(tmp_path):
    server = ServerProcess(tmp_path / "data", env={"FRONTDESK_SMTP_URL": ""}).start()
    try:
        key = server.demo["site_key"]
        r = httpx.post(f"{server.url}/api/v1/widget/offline", params={"site": key},
                       json={"name": "Ольга", "email": "olga@example.com", "message": "Есть кто?"})
        assert r.status_code == 201 and r.json()["emails_queued"] == 1
        op = admin(server)
        time.sleep(0.3)
        outbox = _outbox(op)
        assert outbox["smtp_configured"] is False and "FRONTDESK_SMTP_URL" in outbox["smtp_problem"]
        [e] = outbox["emails"]
        assert (e["to"], e["status"], e["state"], e["attempts"]) == \
            ("owner@demo.frontdesk", "queued", "waiting_for_configuration", 0)
        assert op.http.get("/api/v1/me").json()["smtp_enabled"] is False
        op.close()
    finally:
        server.stop()
