"""Page views over real HTTP, and FRONTDESK_STORE_IP end to end: one real server per mode; the
loader's report (text/plain, token in the body, no preflight) and the chat socket both store the
address as the setting says — in the visit and on the visitor — and the operator reads the visit
back from ``GET /api/v1/visitors/{id}``; the location is looked up before truncation."""
from __future__ import annotations

import json
import sqlite3

import httpx
import pytest

from tests.e2e.test_panel import SyncVisitor
from tests.support import ServerProcess, admin, make_site

EXPECTED = {"full": "127.0.0.1", "truncated": "127.0.0.0", "none": ""}


@pytest.mark.parametrize("mode", ["full", "truncated", "none"])
def test_the_ip_is_stored_as_the_setting_says(tmp_path, mode):
    srv = ServerProcess(tmp_path / "data", env={"FRONTDESK_STORE_IP": mode}).start()
    try:
        site = make_site(srv, "Магазин")
        url = f"{srv.url}/api/v1/widget/pageviews?site={site['site_key']}"
        view = {"url": "https://shop.example/?utm_source=vk&utm_medium=cpc", "title": "Главная",
                "referrer": "https://vk.com/"}
        # the loader's request: a CORS "simple" request from the shop's page
        r = httpx.post(url, content=json.dumps({"views": [view]}),
                       headers={"content-type": "text/plain;charset=UTF-8", "origin": "https://shop.example"})
        assert r.status_code == 200, r.text
        assert r.headers["access-control-allow-origin"] == "https://shop.example"
        body = r.json()
        assert body["visit"] == 1 and len(body["visitor_token"]) == 64
        again = httpx.post(url, json={"token": body["visitor_token"], "views": [
            {**view, "url": "https://shop.example/cart", "referrer": "https://shop.example/"}]})
        got = again.json()
        assert {k: got[k] for k in ("visitor_token", "visitor_id", "visit")} == \
            {"visitor_token": None, "visitor_id": body["visitor_id"], "visit": 1}
        # what the widget's invitation rules look at (issue 11, docs/invitations.md)
        assert {k: got["context"][k] for k in ("visit_number", "pages", "source", "utm", "chatting")} == \
            {"visit_number": 1, "pages": 2, "source": "ads", "utm": {"source": "vk", "medium": "cpc"}, "chatting": False}
        assert httpx.post(url, json={"token": "0" * 64, "views": [view]}).status_code == 401
        assert httpx.post(url, json={"views": [{"url": "javascript:alert(1)"}]}).status_code == 422

        a = admin(srv)
        try:
            ctx = a.call("GET", f"/api/v1/visitors/{body['visitor_id']}").json()
            assert ctx["visit"]["ip"] == EXPECTED[mode]
            assert ctx["visit"]["location"]["status"] == "local"  # looked up from the full address
            assert "ip" not in ctx["visit"]["location"]
            assert ctx["visit"]["source"]["label"]["ru"] == "реклама · ВКонтакте"
            assert [p["url"] for p in ctx["pages"]] == ["https://shop.example/?utm_source=vk&utm_medium=cpc",
                                                        "https://shop.example/cart"]
            assert a.call("GET", "/api/v1/visitors/999999").status_code == 404
            online = a.call("GET", "/api/v1/visitors/online").json()["visitors"]
            assert [v["id"] for v in online] == [body["visitor_id"]]
        finally:
            a.close()

        # the chat socket of the same visitor stores its address the same way
        sock = SyncVisitor(srv, site_key=site["site_key"], token=body["visitor_token"])
        sock.close()
        db = sqlite3.connect(tmp_path / "data" / "frontdesk.db")
        try:
            assert db.execute("SELECT ip FROM visitors WHERE id = ?", (body["visitor_id"],)).fetchone() == (EXPECTED[mode],)
            assert db.execute("SELECT DISTINCT ip FROM visits").fetchall() == [(EXPECTED[mode],)]
            assert db.execute("SELECT count(*) FROM page_views").fetchone() == (2,)
        finally:
            db.close()
    finally:
        srv.stop()


def test_page_view_reports_are_rate_limited_per_visitor_and_per_address(tmp_path):
    srv = ServerProcess(tmp_path / "data", env={"FRONTDESK_PAGEVIEWS_PER_MINUTE": "3",
                                                "FRONTDESK_PAGEVIEWS_PER_ADDRESS": "6"}).start()
    try:
        site = make_site(srv, "Магазин")
        url = f"{srv.url}/api/v1/widget/pageviews?site={site['site_key']}"
        view = {"url": "https://shop.example/", "title": "Главная"}
        token = httpx.post(url, json={"views": [view]}).json()["visitor_token"]
        # per visitor: 3 reports a minute with its token
        answers = [httpx.post(url, json={"token": token, "views": [view]}) for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert answers[-1].json()["error"]["code"] == "rate_limited"
        assert answers[-1].headers["content-type"].startswith("application/json")
        # per address: 6 a minute whatever the token (4 counted above; a refused report is not counted)
        assert [httpx.post(url, json={"views": [view]}).status_code for _ in range(3)] == [200, 200, 429]
        # setUser fields go the same way: refused too, nothing stored
        assert httpx.post(url, json={"token": token, "views": [], "user": {"name": "Ира"}}).status_code == 429
    finally:
        srv.stop()


def test_set_user_over_http_refuses_bad_fields_with_a_clear_4xx(tmp_path):
    srv = ServerProcess(tmp_path / "data").start()
    try:
        site = make_site(srv, "Магазин")
        url = f"{srv.url}/api/v1/widget/pageviews?site={site['site_key']}"
        view = {"url": "https://shop.example/", "title": "Главная"}
        ok = httpx.post(url, content=json.dumps({"views": [view], "user": {"name": "Ирина", "тариф": "Премиум"}}),
                        headers={"content-type": "text/plain;charset=UTF-8", "origin": "https://shop.example"})
        assert ok.status_code == 200, ok.text
        token = ok.json()["visitor_token"]
        for user, code in (({"plan": "\ud800"}, "invalid_field"), ({"x" * 41: 1}, "invalid_field"),
                           ({"email": "nope"}, "invalid_email"), ("Ирина", "invalid_field"),
                           ({f"k{i}": 1 for i in range(30)}, "invalid_field")):
            # json.dumps writes the lone surrogate as \\ud800: what a browser's JSON.stringify sends
            r = httpx.post(url, content=json.dumps({"token": token, "views": [], "user": user}),
                           headers={"content-type": "text/plain;charset=UTF-8"})
            assert r.status_code == 422 and r.json()["error"]["code"] == code, (user, r.text)
        a = admin(srv)
        try:
            ctx = a.call("GET", f"/api/v1/visitors/{ok.json()['visitor_id']}").json()
            assert ctx["visitor"]["display_name"] == "Ирина"
            conv_visitor = ctx["visitor"]
            assert conv_visitor["name"] == "Ирина"
        finally:
            a.close()
    finally:
        srv.stop()
