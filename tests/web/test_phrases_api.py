"""Quick phrases and spell check over real HTTP (issue 9): sessions and CSRF, who edits shared
phrases, CSV export/import through the API (BOM, quotes, commas, newlines, Cyrillic), suggestions
filled from the dialog, and the spell check answering "not ready" → ready with UTF-16 offsets."""
from __future__ import annotations

import httpx
import pytest

from tests.support import ServerProcess, admin, make_operator, wait_until
from tests.web.test_admin_api import assert_error

SPELL_READY_S = 180


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    proc = ServerProcess(tmp_path_factory.mktemp("phrases-api") / "data", env={"FRONTDESK_SPELLCHECK": "1"}).start()
    yield proc
    proc.stop()


def _conversation(srv: ServerProcess) -> int:
    from tests.e2e.test_panel import SyncVisitor

    v = SyncVisitor(srv, page={"url": "https://shop.example/p/1", "title": "Пылесос <X>"})
    try:
        return v.say("Здравствуйте")["conversation_id"]
    finally:
        v.close()


def test_phrases_need_a_session_and_csrf_and_only_admins_edit_shared_ones(srv):
    anon = httpx.Client(base_url=srv.url, timeout=15)
    assert_error(anon.get("/api/v1/phrases"), 401)
    op = make_operator(srv, name="Олег")
    a = admin(srv)
    try:
        r = op.http.post("/api/v1/phrases", json={"text": "x"})  # no CSRF header
        assert_error(r, 403, "csrf_failed")
        site_id = a.call("GET", "/api/v1/sites").json()["sites"][0]["id"]
        assert_error(op.call("POST", "/api/v1/phrases", json={"text": "x", "scope": "site", "site_id": site_id}),
                     403, "forbidden")
        assert_error(op.call("POST", "/api/v1/phrases", json={"text": " "}), 422, "invalid_input")
        assert_error(op.call("POST", "/api/v1/phrases", json={"text": "x", "key": "два слова"}), 422, "invalid_input")
        assert_error(op.call("POST", "/api/v1/phrases", json={"text": "x", "extra": 1}), 422)
        shared = a.call("POST", "/api/v1/phrases", json={"text": "Общая {site_name}", "title": "Общая", "scope": "site",
                                                          "site_id": site_id})
        assert shared.status_code == 201, shared.text
        sid = shared.json()["phrase"]["id"]
        assert_error(op.call("PATCH", f"/api/v1/phrases/{sid}", json={"text": "y"}), 403, "forbidden")
        assert_error(op.call("DELETE", f"/api/v1/phrases/{sid}"), 403, "forbidden")
        mine = op.call("POST", "/api/v1/phrases", json={"text": "Моя", "key": "моя"}).json()["phrase"]
        assert_error(a.call("DELETE", f"/api/v1/phrases/{mine['id']}"), 404, "not_found")  # personal: not visible
        listed = op.call("GET", "/api/v1/phrases").json()
        assert {p["id"] for p in listed["phrases"]} >= {sid, mine["id"]} and listed["can_edit_shared"] is False
        assert_error(op.call("PUT", "/api/v1/phrases/hotkeys/0", json={"phrase_id": mine["id"]}), 422)
        assert op.call("PUT", "/api/v1/phrases/hotkeys/1", json={"phrase_id": sid}).status_code == 200

        cid = _conversation(srv)
        found = op.call("GET", "/api/v1/phrases/search", params={"conversation_id": cid, "q": "общ"}).json()["phrases"]
        assert found[0]["id"] == sid and found[0]["filled"] == "Общая Уютный дом" and found[0]["hotkey"] == 1
        used = op.call("POST", f"/api/v1/phrases/{sid}/use", json={"conversation_id": cid}).json()["phrase"]
        assert used == {"id": sid, "text": "Общая Уютный дом"}
        assert_error(op.call("GET", "/api/v1/phrases/search", params={"conversation_id": 999999999, "q": "x"}), 404)
    finally:
        op.close()
        a.close()
        anon.close()


def test_csv_export_then_import_round_trips_over_http(srv):
    op = make_operator(srv, name="Вера")
    try:
        text = 'Первая строка, с запятой\nвторая — с "кавычками"; и точкой с запятой'
        op.call("POST", "/api/v1/phrases", json={"key": "k1", "title": 'Заголовок, "в кавычках"', "text": text,
                                                  "group": "Оплата"})
        r = op.call("GET", "/api/v1/phrases/export", params={"scope": "personal"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        assert r.content.startswith(b"\xef\xbb\xbfid,key,title,text,group\r\n")
        again = op.call("POST", "/api/v1/phrases/import", json={"scope": "personal", "csv": r.content.decode("utf-8")})
        assert again.json() == {"created": 0, "updated": 0, "unchanged": 1}
        edited = r.content.decode("utf-8").replace("Оплата", "Оплата и доставка")
        assert op.call("POST", "/api/v1/phrases/import", json={"scope": "personal", "csv": edited}).json()["updated"] == 1
        [p] = [p for p in op.call("GET", "/api/v1/phrases").json()["phrases"] if p["scope"] == "personal"]
        assert p["text"] == text and p["title"] == 'Заголовок, "в кавычках"' and p["group"] == "Оплата и доставка"
        bad = op.call("POST", "/api/v1/phrases/import", json={"scope": "personal", "csv": "key,text\r\n/a b,x\r\n"})
        assert_error(bad, 422, "invalid_input")
        assert "row 2" in bad.json()["error"]["message"]
    finally:
        op.close()


def test_spell_check_is_ready_after_the_background_load_and_counts_utf16(srv):
    op = make_operator(srv, name="Ира")
    try:
        def ready() -> bool:
            r = op.call("POST", "/api/v1/spellcheck", json={"text": "привет"})
            assert r.status_code == 200 and set(r.json()) == {"ready", "issues"}
            return r.json()["ready"]

        wait_until(ready, SPELL_READY_S, what="the spell checker to load")
        text = "👍 Спасибо, пожалуста, ждём Ромашкофф"
        issues = op.call("POST", "/api/v1/spellcheck", json={"text": text}).json()["issues"]
        assert [i["word"] for i in issues] == ["пожалуста", "Ромашкофф"]
        first = issues[0]
        assert first["start"] == text.index("пожалуста") + 1  # the emoji is two UTF-16 units
        assert "пожалуйста" in first["suggestions"]
        w = op.call("POST", "/api/v1/dictionary", json={"word": "Ромашкофф"})
        assert w.status_code == 201
        issues = op.call("POST", "/api/v1/spellcheck", json={"text": text}).json()["issues"]
        assert [i["word"] for i in issues] == ["пожалуста"]
        assert_error(op.call("POST", "/api/v1/dictionary", json={"word": "x", "scope": "site", "site_id": 1}), 403)
    finally:
        op.close()


def test_the_warn_before_sending_setting_is_per_operator(srv):
    anon = httpx.Client(base_url=srv.url, timeout=15)
    assert_error(anon.get("/api/v1/phrases/settings"), 401)
    assert_error(anon.put("/api/v1/phrases/settings", json={"spell_warn": True}), 401)
    op = make_operator(srv, name="Инна")
    other = make_operator(srv, name="Ира")
    try:
        assert op.call("GET", "/api/v1/phrases/settings").json() == {"settings": {"spell_warn": False}}  # off by default
        assert_error(op.http.put("/api/v1/phrases/settings", json={"spell_warn": True}), 403, "csrf_failed")
        for bad in ({"spell_warn": "yes"}, {"spell_warn": 1}, {}, {"spell_warn": True, "x": 1}):
            assert_error(op.call("PUT", "/api/v1/phrases/settings", json=bad), 422)
        r = op.call("PUT", "/api/v1/phrases/settings", json={"spell_warn": True})
        assert r.status_code == 200 and r.json() == {"settings": {"spell_warn": True}}
        assert op.call("GET", "/api/v1/phrases/settings").json()["settings"]["spell_warn"] is True
        assert op.call("GET", "/api/v1/phrases").json()["settings"] == {"spell_warn": True}
        assert other.call("GET", "/api/v1/phrases/settings").json()["settings"]["spell_warn"] is False  # own setting
        assert op.call("PUT", "/api/v1/phrases/settings", json={"spell_warn": False}).json()["settings"]["spell_warn"] is False
    finally:
        op.close()
        other.close()
