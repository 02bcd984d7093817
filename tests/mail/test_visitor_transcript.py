"""The visitor's own transcript from the widget, end to end: `frontdesk serve` in a subprocess and a
real SMTP server (aiosmtpd), on SQLite and PostgreSQL — the e-mail reaches only the visitor's own
address; another token cannot ask for it; the limits and errors are 4xx JSON."""
from __future__ import annotations

import httpx

from tests.mail.conftest import SmtpSink
from tests.support import ServerProcess, admin, make_site, wait_until


def _post(http: httpx.Client, key: str, cid: int, token: str | None, body: dict) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.post(f"/api/v1/widget/conversations/{cid}/transcript", params={"site": key}, json=body,
                     headers=headers)


def _transcripts(smtp: SmtpSink, address: str) -> list:
    return [m for m in smtp.to(address) if "Переписка" in m.message["Subject"]]


def _offline(http: httpx.Client, key: str, name: str, email: str, text: str) -> tuple[str, int]:
    r = http.post("/api/v1/widget/offline", params={"site": key},
                  json={"name": name, "email": email, "message": text, "lang": "ru"})
    assert r.status_code == 201, r.text
    return r.json()["visitor_token"], r.json()["conversation_id"]


async def test_the_visitor_gets_its_transcript_and_nobody_else_does(mail_server: ServerProcess, smtp: SmtpSink):
    server = mail_server
    key = make_site(server, "Магазин")["site_key"]
    http = httpx.Client(base_url=server.url, timeout=15)
    token, cid = _offline(http, key, "Иван", "ivan@example.com", "Здравствуйте! Нужен счёт <b>для юрлица</b>")
    other_token, other_cid = _offline(http, key, "Пётр", "petr@example.com", "Вопрос")

    r = _post(http, key, cid, token, {})
    assert r.status_code == 200, r.text
    assert r.json() == {"email": {"to": "ivan@example.com", "status": "queued"}, "conversation_id": cid}
    wait_until(lambda: _transcripts(smtp, "ivan@example.com"), what="the transcript e-mail")
    [mail] = _transcripts(smtp, "ivan@example.com")
    assert mail.rcpt_tos == ["ivan@example.com"]
    assert "Нужен счёт <b>для юрлица</b>" in mail.text()
    assert "&lt;b&gt;" in mail.html()

    # another visitor's token: not found, whatever address it names; no token: 401
    r = _post(http, key, cid, other_token, {"email": "petr@example.com"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    assert _post(http, key, cid, None, {}).status_code == 401
    # at once again: 429 with a JSON error
    r = _post(http, key, cid, token, {})
    assert (r.status_code, r.json()["error"]["code"]) == (429, "rate_limited")
    # a bad address: 422; a new one is used and becomes the visitor's contact
    r = _post(http, key, other_cid, other_token, {"email": "not an address"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_email")
    r = _post(http, key, other_cid, other_token, {"email": "Petr.New@Example.com"})
    assert r.status_code == 200 and r.json()["email"]["to"] == "petr.new@example.com"
    op = admin(server)
    conv = op.call("GET", f"/api/v1/conversations/{other_cid}").json()["conversation"]
    assert conv["visitor"]["email"] == "petr.new@example.com"
    wait_until(lambda: _transcripts(smtp, "petr.new@example.com"), what="the transcript to the new address")
    assert _transcripts(smtp, "petr@example.com") == [] and len(_transcripts(smtp, "ivan@example.com")) == 1

    # the site turns it off: 403 forbidden
    sites = op.call("GET", "/api/v1/sites").json()["sites"]
    site_id = next(s["id"] for s in sites if s["site_key"] == key)
    assert op.call("PATCH", f"/api/v1/sites/{site_id}", json={"widget": {"transcript": False}}).status_code == 200
    assert http.get("/api/v1/widget/config", params={"site": key}).json()["widget"]["transcript"] is False
    r = _post(http, key, other_cid, other_token, {})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    op.close()
    http.close()
