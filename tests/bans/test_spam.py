"""Spam (issue 17): the offline form's honeypot and minimum fill time (a signed form token, judged by
the server's controllable clock), and the caps on new conversations per visitor and per address
(counted in the database by ``rt.clock``)."""
from __future__ import annotations

import httpx
import pytest

from frontdesk.actions import conversations, sites, visitors
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import SiteRef
from tests.mail.conftest import ClockFile
from tests.support import ServerProcess, admin

FORM = {"name": "Иван", "email": "ivan@example.com", "message": "Нужен счёт"}


def _conversations(op) -> list[dict]:
    return op.call("GET", "/api/v1/conversations", params={"status": "open"}).json()["conversations"]


@pytest.fixture(scope="module")
def clocked(tmp_path_factory):
    base = tmp_path_factory.mktemp("spam")
    clock = ClockFile(base / "clock")
    proc = ServerProcess(base / "data", env={"FRONTDESK_TEST_CLOCK_FILE": str(clock.path),
                                             "FRONTDESK_OFFLINE_MIN_FILL_SECONDS": "5"}).start()
    yield proc, clock
    proc.stop()


def test_the_honeypot_drops_the_form_quietly(clocked):
    server, _clock = clocked
    key = server.demo["site_key"]
    op = admin(server)
    try:
        before = len(_conversations(op))
        r = httpx.post(f"{server.url}/api/v1/widget/offline?site={key}",
                       json={**FORM, "message": "Дешёвые кредиты", "website": "http://spam.example"})
        assert r.status_code == 201, r.text
        body = r.json()  # looks accepted; nothing stored, nothing e-mailed
        assert body["conversation_id"] is None and body["message"] is None and body["emails_queued"] == 0
        assert len(_conversations(op)) == before
    finally:
        op.close()


def test_a_form_sent_sooner_than_the_minimum_fill_time_is_dropped(clocked):
    server, clock = clocked
    key = server.demo["site_key"]
    op = admin(server)
    try:
        r = httpx.get(f"{server.url}/api/v1/widget/form-token?site={key}")
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        token = r.json()["form_token"]
        assert r.json()["min_fill_seconds"] == 5
        before = len(_conversations(op))
        # 0 s after the form was shown (by the server's clock): a bot
        r = httpx.post(f"{server.url}/api/v1/widget/offline?site={key}",
                       json={**FORM, "client_id": "off-fast", "form_token": token})
        assert r.status_code == 201 and r.json()["conversation_id"] is None
        # a forged or foreign token: a bot too
        for forged in ("1.abc", token.split(".")[0] + "." + "0" * 32, "x" * 80, 12):
            r = httpx.post(f"{server.url}/api/v1/widget/offline?site={key}",
                           json={**FORM, "client_id": "off-forged", "form_token": forged})
            assert r.status_code == 201 and r.json()["conversation_id"] is None, forged
        assert len(_conversations(op)) == before
        clock.advance(6)  # the person took 6 s to fill it in
        r = httpx.post(f"{server.url}/api/v1/widget/offline?site={key}",
                       json={**FORM, "client_id": "off-slow", "form_token": token})
        assert r.status_code == 201 and isinstance(r.json()["conversation_id"], int), r.text
        assert len(_conversations(op)) == before + 1
        # a form without a token (an API client, not the widget) is judged by the rate limits only
        r = httpx.post(f"{server.url}/api/v1/widget/offline?site={key}", json={**FORM, "client_id": "off-api"})
        assert r.status_code == 201 and isinstance(r.json()["conversation_id"], int)
    finally:
        op.close()


async def _site(rt) -> SiteRef:
    async with rt.sessions() as session, session.begin():
        return SiteRef.of(await sites.add_site(session, name="Shop"))


async def test_new_conversations_per_visitor_are_capped_per_hour(rt):
    rt.settings.new_conversations_per_visitor = 2
    rt.settings.new_conversations_per_address = 0
    site = await _site(rt)
    visitor, _ = await visitors.identify_visitor(rt, site, None, ip="203.0.113.9")
    for n in range(2):
        msg = await conversations.send_visitor_message(rt, visitor, f"c{n}", "Есть кто?")
        await conversations.end_by_visitor(rt, visitor, msg["conversation_id"])
    with pytest.raises(ActionError) as refused:
        await conversations.send_visitor_message(rt, visitor, "c3", "И снова я")
    assert refused.value.code == "rate_limited" and refused.value.status == 429
    rt.clock.advance(3601)  # an hour later (by the clock, not by waiting)
    assert (await conversations.send_visitor_message(rt, visitor, "c3", "И снова я"))["seq"] == 1


async def test_new_conversations_per_address_are_capped_per_hour(rt):
    rt.settings.new_conversations_per_visitor = 0
    rt.settings.new_conversations_per_address = 2
    site = await _site(rt)
    for n in range(2):
        v, _ = await visitors.identify_visitor(rt, site, None, ip="203.0.113.9")
        await conversations.send_visitor_message(rt, v, f"c{n}", "Привет")
    third, _ = await visitors.identify_visitor(rt, site, None, ip="203.0.113.9")
    with pytest.raises(ActionError) as refused:
        await conversations.send_visitor_message(rt, third, "c2", "Привет")
    assert refused.value.code == "rate_limited"
    elsewhere, _ = await visitors.identify_visitor(rt, site, None, ip="198.51.100.4")  # another address: served
    await conversations.send_visitor_message(rt, elsewhere, "c3", "Привет")
    rt.clock.advance(3601)
    await conversations.send_visitor_message(rt, third, "c2", "Привет")
