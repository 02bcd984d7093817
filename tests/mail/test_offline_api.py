"""Offline mode over the real API (subprocess server, SQLite): bad input on the offline form and
contacts, the rate limit, working hours switched by a controllable clock (FRONTDESK_TEST_CLOCK_FILE,
never by waiting), the no-reply holding message, and contacts reaching the panel."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.mail.conftest import ClockFile, mail_env
from tests.support import ServerProcess, admin, make_operator, visitor_ws

MSK = timezone(timedelta(hours=3))
MONDAY = datetime(2026, 11, 23, tzinfo=MSK)  # a Monday
HOURS = {"timezone": "Europe/Moscow", "days": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}
GOOD = {"name": "Иван", "email": "ivan@example.com", "message": "Здравствуйте"}


async def _next_message(frames, **match) -> dict:
    """The next message.created whose MESSAGE has these fields (own echoes etc. are skipped)."""
    while True:
        m = (await frames.expect("message.created"))["message"]
        if all(m.get(k) == v for k, v in match.items()):
            return m


@pytest.fixture
def clock_server(tmp_path, smtp):
    clock = ClockFile(tmp_path / "clock")
    proc = ServerProcess(tmp_path / "data", env=mail_env(smtp.url, clock_file=clock.path,
                                                         FRONTDESK_OFFLINE_RATE_LIMIT="3")).start()
    proc.clock = clock
    yield proc
    proc.stop()


def test_bad_input_gets_a_clear_error_and_sends_nothing_and_the_form_is_rate_limited(clock_server, smtp):
    server = clock_server
    key = server.demo["site_key"]
    http = httpx.Client(base_url=server.url, timeout=15)

    def offline(body, **kw):
        return http.post("/api/v1/widget/offline", params={"site": kw.pop("site", key)}, json=body, **kw)

    cases = [
        ({**GOOD, "email": "not-an-email"}, 422, "invalid_email"),
        ({**GOOD, "email": "ivan@example.com\r\nBcc: victim@example.com"}, 422, "invalid_email"),
        ({**GOOD, "email": "ivan@example.com>, <victim@example.com"}, 422, "invalid_email"),
        ({**GOOD, "email": 42}, 422, "invalid_email"),
        ({**GOOD, "name": "Иван\r\nBcc: victim@example.com"}, 422, "invalid_name"),
        ({**GOOD, "name": "Иван\nSubject: скидки"}, 422, "invalid_name"),
        ({**GOOD, "name": "Ива\x07н"}, 422, "invalid_name"),
        ({**GOOD, "name": "   "}, 422, "invalid_name"),
        ({**GOOD, "name": "И" * 101}, 422, "invalid_name"),
        ({"email": "ivan@example.com", "message": "Hi"}, 422, "invalid_name"),
        ({**GOOD, "message": "  \n\t "}, 422, "empty_text"),
        ({"name": "Иван", "email": "ivan@example.com"}, 422, "empty_text"),
        ({**GOOD, "message": ["Hi"]}, 422, "invalid_input"),
        ({**GOOD, "message": "я" * 4001}, 413, "text_too_long"),
        ({**GOOD, "client_id": "bad id with spaces"}, 422, "invalid_input"),
    ]
    for body, status, code in cases:
        r = offline(body)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (body, r.text)
        assert r.json()["error"]["message"]
    r = http.post("/api/v1/widget/offline", params={"site": key}, content=b"{not json")
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_input")
    r = http.post("/api/v1/widget/offline", params={"site": key}, json=["a list"])
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_input")
    r = http.post("/api/v1/widget/offline", params={"site": key}, content=b'{"message": "' + b"a" * 70_000 + b'"}')
    assert (r.status_code, r.json()["error"]["code"]) == (413, "too_large")
    assert offline(GOOD, site="no-such-site").status_code == 404
    r = offline(GOOD, headers={"Authorization": "Bearer " + "0" * 64})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthorized")

    op = admin(server)
    assert op.http.get("/api/v1/outbox").json()["emails"] == []
    assert op.http.get("/api/v1/conversations").json()["conversations"] == []

    # contacts: token required, validated
    token = offline(GOOD).json()["visitor_token"]
    assert http.post("/api/v1/widget/contacts", params={"site": key}, json={"email": "a@b.ru"}).status_code == 401
    bearer = {"Authorization": f"Bearer {token}"}
    for body, code in (({}, "invalid_input"), ({"email": "a@b"}, "invalid_email"), ({"phone": "12"}, "invalid_phone"),
                       ({"phone": "+7 912 345 67 89", "name": "A\r\nB"}, "invalid_name")):
        r = http.post("/api/v1/widget/contacts", params={"site": key}, json=body, headers=bearer)
        assert (r.status_code, r.json()["error"]["code"]) == (422, code), body
    r = http.post("/api/v1/widget/contacts", params={"site": key}, json={"phone": "+7 912 345 67 89"}, headers=bearer)
    assert r.status_code == 200 and r.json()["visitor"]["phone"] == "+7 912 345 67 89"

    # 3 accepted messages per hour from one address per site (FRONTDESK_OFFLINE_RATE_LIMIT=3 here)
    assert offline(GOOD).status_code == 201
    assert offline(GOOD, headers=bearer).status_code == 201
    r = offline(GOOD)
    assert (r.status_code, r.json()["error"]["code"]) == (429, "rate_limited")
    smtp.wait_for(3)
    time.sleep(0.5)  # several sender rounds: nothing else arrives
    assert [m.rcpt_tos for m in smtp.received] == [["owner@demo.frontdesk"]] * 3
    op.close()
    http.close()


async def test_working_hours_switch_the_widget_by_the_clock(clock_server):
    server = clock_server
    key = server.demo["site_key"]
    server.clock.set(MONDAY.replace(hour=8, minute=30))
    op = admin(server)
    site_id = op.http.get("/api/v1/sites").json()["sites"][0]["id"]
    op.set_status("online")

    r = op.call("PUT", f"/api/v1/sites/{site_id}/hours", json={"hours": {"timezone": "Mars/Base", "days": {}}})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_input")
    r = op.call("PUT", f"/api/v1/sites/{site_id}/hours",
                json={"hours": {"timezone": "Europe/Moscow", "days": {"mon": [["18:00", "09:00"]]}}})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_input")
    plain = make_operator(server)
    r = plain.call("PUT", f"/api/v1/sites/{site_id}/hours", json={"hours": None})
    assert r.status_code == 403
    assert plain.http.get(f"/api/v1/sites/{site_id}/hours").json()["hours"] is None
    r = op.call("PUT", f"/api/v1/sites/{site_id}/hours", json={"hours": HOURS})
    assert r.status_code == 200, r.text
    got = r.json()["availability"]
    assert got.pop("next_open_at") == "2026-11-23T06:00:00.000000Z"  # Monday 09:00 Moscow
    assert got == {"operators_online": True, "within_hours": False, "available": False}

    def config() -> dict:
        c = httpx.get(f"{server.url}/api/v1/widget/config", params={"site": key}).json()
        return {k: c[k] for k in ("operators_online", "within_hours", "available")}

    assert config() == {"operators_online": True, "within_hours": False, "available": False}
    v = await visitor_ws(server, key)
    assert (v.welcome["available"], v.welcome["within_hours"], v.welcome["operators_online"]) == (False, False, True)

    server.clock.set(MONDAY.replace(hour=9, minute=30))  # working hours begin: connected visitors are told
    frame = await v.expect("availability")
    assert frame == {"type": "availability", "operators_online": True, "within_hours": True, "available": True,
                     "next_open_at": None}
    assert config()["available"] is True

    op.set_status("offline")  # the last operator leaves: the visitor is told, the widget offers the form
    frame = await v.expect("availability")
    assert frame == {"type": "availability", "operators_online": False, "within_hours": True, "available": False,
                     "next_open_at": None}

    server.clock.set(MONDAY.replace(hour=18, minute=30))
    frame = await v.expect("availability")
    assert (frame["within_hours"], frame["available"]) == (False, False)
    assert frame["next_open_at"] == "2026-11-24T06:00:00.000000Z"  # Tuesday 09:00 Moscow
    op.set_status("online")  # online outside working hours: still unavailable
    frame = await v.expect("availability")
    assert frame == {"type": "availability", "operators_online": True, "within_hours": False, "available": False,
                     "next_open_at": "2026-11-24T06:00:00.000000Z"}
    server.clock.set((MONDAY + timedelta(days=5)).replace(hour=12))  # Saturday noon: closed
    assert config() == {"operators_online": True, "within_hours": False, "available": False}
    await v.close()
    op.close()
    plain.close()


async def test_no_reply_holding_message_then_contacts_reach_the_panel_and_the_reply_is_emailed(clock_server, smtp):
    server = clock_server
    key = server.demo["site_key"]
    op = admin(server)
    op.set_status("online")
    ows = await op.ws()
    v = await visitor_ws(server, key)
    await v.send({"type": "message.send", "client_id": "c-1", "text": "Сколько стоит доставка?"})
    cid = (await v.expect("message.ack"))["message"]["conversation_id"]
    await ows.expect("conversation.created")

    server.clock.advance(61)  # a minute without an answer (FRONTDESK_NO_REPLY_SECONDS=60)
    held = await _next_message(v, kind="system")
    assert (held["kind"], held["seq"], held["client_id"]) == ("system", 2, f"ask_contacts:{cid}")
    assert "e-mail или телефон" in held["text"] and held["author"] == {"type": "system"}
    got = await _next_message(ows, kind="system")
    assert got["client_id"] == f"ask_contacts:{cid}"

    await v.send({"type": "contacts", "email": "bad@", "ref": "k0"})
    err = await v.expect("error")
    assert (err["code"], err["ref"]) == ("invalid_email", "k0")
    await v.send({"type": "contacts", "email": "Ivan@Example.com", "phone": "+7 912 345-67-89", "ref": "k1"})
    saved = await v.expect("contacts.saved")
    assert saved == {"type": "contacts.saved", "ref": "k1", "conversation_id": cid, "is_offline": True,
                     "visitor": {"name": None, "email": "ivan@example.com", "phone": "+7 912 345-67-89"}}
    updated = (await ows.expect("conversation.updated"))["conversation"]
    assert updated["id"] == cid and updated["is_offline"] is True
    assert (updated["visitor"]["email"], updated["visitor"]["phone"]) == ("ivan@example.com", "+7 912 345-67-89")

    server.clock.advance(3600)  # once per conversation
    await ows.send({"type": "message.send", "conversation_id": cid, "client_id": "o-1", "text": "Доставка бесплатная!"})
    await ows.expect("message.ack", client_id="o-1")
    reply = await _next_message(v, kind="operator")
    assert (reply["seq"], reply["text"]) == (3, "Доставка бесплатная!")
    [mail] = smtp.wait_for(1)  # the visitor asked to be answered later: the reply is e-mailed too
    assert mail.rcpt_tos == ["ivan@example.com"] and "Доставка бесплатная!" in mail.text()
    await v.close()
    await ows.close()
    op.close()
