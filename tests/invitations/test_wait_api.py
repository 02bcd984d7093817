"""The widget's channel for manual invitations over real HTTP (web/api_invitations.py): a held
``POST /widget/invitations/wait`` is answered by the operator's invitation (whichever comes first,
the wait or the invitation: a pending one answers at once), only for that visitor's token."""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.support import ServerProcess, admin


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    proc = ServerProcess(tmp_path_factory.mktemp("inv-wait") / "data").start()
    yield proc
    proc.stop()


def _visitor(srv, key):
    r = httpx.post(f"{srv.url}/api/v1/widget/pageviews?site={key}",
                   content=json.dumps({"views": [{"url": "https://shop.example/a"}]}))
    assert r.status_code == 200, r.text
    return r.json()["visitor_token"], r.json()["visitor_id"]


def test_a_held_wait_is_answered_by_the_operators_invitation(srv):
    key = srv.demo["site_key"]
    token, visitor_id = _visitor(srv, key)
    other_token, _ = _visitor(srv, key)
    boss = admin(srv)
    url = f"{srv.url}/api/v1/widget/invitations/wait?site={key}"

    async def main() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            held = asyncio.create_task(client.post(url, content=json.dumps({"token": token})))
            await asyncio.to_thread(boss.call, "POST", f"/api/v1/visitors/{visitor_id}/invite",
                                    json={"text": "Здравствуйте! <i>Помочь?</i>"})
            answer = await held
            # not shown yet: the next wait gets it at once (a page change between two waits)
            again = await client.post(url, content=json.dumps({"token": token}))
            return answer, again

    answer, again = asyncio.run(main())
    assert answer.status_code == 200, answer.text
    got = answer.json()["invitation"]
    assert got["text"] == "Здравствуйте! <i>Помочь?</i>" and got["sender"]["name"]
    assert again.json()["invitation"]["manual_id"] == got["manual_id"]
    # shown: recorded for this visitor only
    record = f"{srv.url}/api/v1/widget/invitations/record?site={key}"
    assert httpx.post(record, content=json.dumps({"token": other_token, "kind": "shown",
                                                  "manual_id": got["manual_id"]})).status_code == 404
    assert httpx.post(record, content=json.dumps({"token": token, "kind": "shown",
                                                  "manual_id": got["manual_id"]})).status_code == 200
    # refusals before anything is held
    assert httpx.post(url, content=json.dumps({"token": "0" * 64})).status_code == 401
    assert httpx.post(url, content=json.dumps({})).status_code == 401
    assert httpx.post(url, content="not json").status_code == 422
    assert httpx.post(f"{srv.url}/api/v1/widget/invitations/wait?site=nope",
                      content=json.dumps({"token": token})).status_code == 404
    boss.close()



def test_a_banned_visitor_cannot_hold_a_wait(srv):
    """A ban of the visitor's address refuses its wait (a held one is ended by the hub: tests/bans/test_audience.py)."""
    key = srv.demo["site_key"]
    token, _ = _visitor(srv, key)
    boss = admin(srv)
    site_id = next(s["id"] for s in boss.call("GET", "/api/v1/sites").json()["sites"] if s["site_key"] == key)
    r = boss.call("POST", "/api/v1/bans", json={"kind": "ip", "value": "127.0.0.1", "expiry": "1h", "site_id": site_id})
    assert r.status_code == 201, r.text
    try:
        refused = httpx.post(f"{srv.url}/api/v1/widget/invitations/wait?site={key}", content=json.dumps({"token": token}))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "banned", refused.text
    finally:
        assert boss.call("POST", f"/api/v1/bans/{r.json()['ban']['id']}/lift").status_code == 200
        boss.close()
