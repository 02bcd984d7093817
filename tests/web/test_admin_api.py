"""Admin and profile REST over real HTTP: photo upload limits, password change and reset,
deactivation, site membership, admin-only endpoints, and the one error shape for bad input."""
from __future__ import annotations

import json
import struct
import uuid
import zlib

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support import OperatorClient, ServerProcess, admin, make_operator

PHOTO_MAX = 64 * 1024  # small, so "too big" is cheap to send


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    proc = ServerProcess(tmp_path_factory.mktemp("admin-api") / "data",
                         env={"FRONTDESK_PHOTO_MAX_BYTES": str(PHOTO_MAX)}).start()
    yield proc
    proc.stop()


def png(width: int = 2, height: int = 2) -> bytes:
    """A real, valid PNG (so the bytes served back can be compared)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def assert_error(r: httpx.Response, status: int, code: str | None = None) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body


def new_email() -> str:
    return f"op-{uuid.uuid4().hex[:8]}@example.com"


# --- photo -------------------------------------------------------------------------------

def test_good_png_is_stored_and_served_back_with_a_new_url_each_time(srv):
    op = make_operator(srv, name="Фото")
    try:
        data = png()
        r = op.call("POST", "/api/v1/me/photo", files={"photo": ("me.png", data, "image/png")})
        assert r.status_code == 200, r.text
        first_url = r.json()["operator"]["photo_url"]
        assert first_url.startswith(f"/api/v1/operators/{op.operator['id']}/photo?v=")
        got = httpx.get(srv.url + first_url)
        assert got.status_code == 200 and got.content == data
        assert got.headers["content-type"] == "image/png"
        assert got.headers["x-content-type-options"] == "nosniff"
        # a replaced photo gets a new URL, so caches never show the old one
        jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 200
        r = op.call("POST", "/api/v1/me/photo", files={"photo": ("me.jpg", jpeg, "image/jpeg")})
        assert r.status_code == 200, r.text
        second_url = r.json()["operator"]["photo_url"]
        assert second_url != first_url
        got = httpx.get(srv.url + second_url)
        assert got.headers["content-type"] == "image/jpeg" and got.content == jpeg
        assert op.call("GET", "/api/v1/me").json()["operator"]["photo_url"] == second_url
        # removed: no URL, and the photo endpoint answers 404 JSON
        r = op.call("DELETE", "/api/v1/me/photo")
        assert r.status_code == 200 and r.json()["operator"]["photo_url"] is None
        assert_error(httpx.get(srv.url + f"/api/v1/operators/{op.operator['id']}/photo"), 404, "not_found")
    finally:
        op.close()


def test_webp_is_accepted_by_its_magic_bytes(srv):
    op = make_operator(srv)
    try:
        webp = b"RIFF" + struct.pack("<I", 100) + b"WEBPVP8 " + b"\x00" * 92
        r = op.call("POST", "/api/v1/me/photo", files={"photo": ("a.webp", webp, "image/webp")})
        assert r.status_code == 200, r.text
        assert httpx.get(srv.url + r.json()["operator"]["photo_url"]).headers["content-type"] == "image/webp"
    finally:
        op.close()


def test_photo_larger_than_the_limit_is_413_and_nothing_changes(srv):
    op = make_operator(srv)
    try:
        big = png() + b"\x00" * PHOTO_MAX
        r = op.call("POST", "/api/v1/me/photo", files={"photo": ("big.png", big, "image/png")})
        assert_error(r, 413, "too_large")
        # just over the limit, inside the multipart slack: still refused, by the file's own size
        edge = png() + b"\x00" * (PHOTO_MAX - len(png()) + 1)
        assert_error(op.call("POST", "/api/v1/me/photo", files={"photo": ("e.png", edge, "image/png")}), 413, "too_large")
        assert op.call("GET", "/api/v1/me").json()["operator"]["photo_url"] is None
        # exactly the limit is fine
        exact = png() + b"\x00" * (PHOTO_MAX - len(png()))
        assert op.call("POST", "/api/v1/me/photo", files={"photo": ("x.png", exact, "image/png")}).status_code == 200
    finally:
        op.close()


@pytest.mark.parametrize("name,content,ctype", [
    ("evil.png", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "image/png"),   # lies about its type
    ("a.gif", b"GIF89a" + b"\x00" * 40, "image/gif"),
    ("a.html", b"<html><script>alert(1)</script></html>", "text/html"),
])
def test_photo_that_is_not_png_jpeg_or_webp_is_415(srv, name, content, ctype):
    op = make_operator(srv)
    try:
        r = op.call("POST", "/api/v1/me/photo", files={"photo": (name, content, ctype)})
        assert_error(r, 415, "unsupported_media_type")
        assert op.call("GET", "/api/v1/me").json()["operator"]["photo_url"] is None
    finally:
        op.close()


def test_photo_upload_malformed_requests_are_4xx_json(srv):
    op = make_operator(srv)
    try:
        assert_error(op.call("POST", "/api/v1/me/photo", json={"photo": "x"}), 415)
        assert_error(op.call("POST", "/api/v1/me/photo", files={"other": ("a.png", png(), "image/png")}), 422, "invalid_input")
        assert_error(op.call("POST", "/api/v1/me/photo", files={"photo": ("a.png", b"", "image/png")}), 422, "invalid_input")
        assert_error(op.call("POST", "/api/v1/me/photo", content=b"--x\r\nbroken",
                             headers={"content-type": "multipart/form-data; boundary=x"}), 422)
        # a body far bigger than the limit is refused by its Content-Length, before it is parsed
        assert_error(op.call("POST", "/api/v1/me/photo", files={"photo": ("a.png", png() + b"\0" * 3 * PHOTO_MAX,
                                                                          "image/png")}), 413, "too_large")
        # no CSRF header: refused whatever the body
        r = op.http.post("/api/v1/me/photo", files={"photo": ("a.png", png(), "image/png")})
        assert_error(r, 403, "csrf_failed")
    finally:
        op.close()


# --- password ----------------------------------------------------------------------------

def test_password_change_needs_the_current_one_and_ends_other_sessions(srv):
    email = new_email()
    first = make_operator(srv, email=email, password="old password 1")
    second = OperatorClient(srv, email, "old password 1")   # another browser of the same operator
    try:
        r = first.call("POST", "/api/v1/me/password", json={"current_password": "wrong", "new_password": "new password 2"})
        assert_error(r, 403, "wrong_password")
        assert second.call("GET", "/api/v1/me").status_code == 200      # nothing ended on a refusal
        r = first.call("POST", "/api/v1/me/password", json={"current_password": "old password 1", "new_password": "short"})
        assert_error(r, 422, "invalid_input")

        r = first.call("POST", "/api/v1/me/password", json={"current_password": "old password 1",
                                                             "new_password": "new password 2"})
        assert r.status_code == 200, r.text
        assert first.call("GET", "/api/v1/me").status_code == 200       # this session stays
        assert_error(second.call("GET", "/api/v1/me"), 401, "unauthorized")   # the other one is over
        bad = httpx.post(srv.url + "/api/v1/auth/login", json={"email": email, "password": "old password 1"})
        assert_error(bad, 401, "invalid_credentials")
        OperatorClient(srv, email, "new password 2").close()
    finally:
        first.close()
        second.close()


def test_password_change_closes_the_other_sessions_live_socket(srv):
    email = new_email()
    first = make_operator(srv, email=email, password="old password 1")
    second = OperatorClient(srv, email, "old password 1")
    try:
        with connect(srv.ws_url + "/ws/operator", open_timeout=10,
                     additional_headers={"Cookie": second.cookie_header, "Origin": srv.url}) as ws:
            ws.send(json.dumps({"type": "hello", "resume": {}}))
            assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
            r = first.call("POST", "/api/v1/me/password", json={"current_password": "old password 1",
                                                                 "new_password": "new password 2"})
            assert r.status_code == 200, r.text
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    finally:
        first.close()
        second.close()


def test_admin_resets_a_password_and_that_operator_s_sessions_end(srv):
    op = make_operator(srv, name="Забывчивый")
    a = admin(srv)
    try:
        r = a.call("POST", f"/api/v1/operators/{op.operator['id']}/password", json={"password": "brand new pass"})
        assert r.status_code == 200, r.text
        assert_error(op.call("GET", "/api/v1/me"), 401)
        OperatorClient(srv, op.operator["email"], "brand new pass").close()
        assert_error(a.call("POST", f"/api/v1/operators/{op.operator['id']}/password", json={"password": "1"}), 422)
        assert_error(a.call("POST", "/api/v1/operators/999999/password", json={"password": "long enough 1"}), 404, "not_found")
    finally:
        a.close()
        op.close()


# --- deactivate, roles, membership --------------------------------------------------------

def test_deactivated_operator_cannot_log_in_until_reactivated(srv):
    op = make_operator(srv, name="Временный", password="temp password 1")
    a = admin(srv)
    try:
        op.set_status("online")
        r = a.call("PATCH", f"/api/v1/operators/{op.operator['id']}", json={"is_active": False})
        assert r.status_code == 200, r.text
        assert r.json()["operator"]["is_active"] is False and r.json()["operator"]["status"] == "offline"
        assert_error(op.call("GET", "/api/v1/me"), 401)
        bad = httpx.post(srv.url + "/api/v1/auth/login", json={"email": op.operator["email"], "password": "temp password 1"})
        assert_error(bad, 401, "invalid_credentials")
        listed = {o["id"]: o for o in a.call("GET", "/api/v1/operators").json()["operators"]}
        assert listed[op.operator["id"]]["is_active"] is False

        assert a.call("PATCH", f"/api/v1/operators/{op.operator['id']}", json={"is_active": True}).status_code == 200
        OperatorClient(srv, op.operator["email"], "temp password 1").close()
    finally:
        a.close()
        op.close()


def test_an_admin_cannot_lock_themself_out(srv):
    a = admin(srv)
    try:
        me = a.operator["id"]
        assert_error(a.call("PATCH", f"/api/v1/operators/{me}", json={"is_active": False}), 409, "conflict")
        assert_error(a.call("PATCH", f"/api/v1/operators/{me}", json={"role": "operator"}), 409, "conflict")
        assert a.call("GET", "/api/v1/me").json()["operator"]["role"] == "admin"
    finally:
        a.close()


def test_site_membership_decides_what_an_operator_sees(srv):
    a = admin(srv)
    op = make_operator(srv)
    try:
        other = a.call("POST", "/api/v1/sites", json={"name": "Второй магазин"}).json()["site"]
        demo_id = next(s["id"] for s in a.call("GET", "/api/v1/sites").json()["sites"] if s["name"] == "Уютный дом")
        r = a.call("PUT", f"/api/v1/operators/{op.operator['id']}/sites", json={"site_ids": [demo_id]})
        assert r.status_code == 200 and r.json()["site_ids"] == [demo_id]
        assert [s["id"] for s in op.call("GET", "/api/v1/sites").json()["sites"]] == [demo_id]
        assert_error(op.call("GET", f"/api/v1/sites/{other['id']}"), 404)
        listed = {o["id"]: o for o in a.call("GET", "/api/v1/operators").json()["operators"]}
        assert listed[op.operator["id"]]["site_ids"] == [demo_id]
        assert_error(a.call("PUT", f"/api/v1/operators/{op.operator['id']}/sites", json={"site_ids": [999999]}), 422)
        assert_error(a.call("PUT", f"/api/v1/operators/{op.operator['id']}/sites", json={"site_ids": "all"}), 422)
    finally:
        a.close()
        op.close()


# --- who may do what ----------------------------------------------------------------------

ADMIN_ONLY = [
    ("POST", "/api/v1/sites", {"name": "x"}),
    ("PATCH", "/api/v1/sites/1", {"name": "x"}),
    ("POST", "/api/v1/operators", {"email": "x@example.com", "name": "x", "password": "long enough 1"}),
    ("PATCH", "/api/v1/operators/1", {"is_active": False}),
    ("POST", "/api/v1/operators/1/password", {"password": "long enough 1"}),
    ("PUT", "/api/v1/operators/1/sites", {"site_ids": []}),
]


def test_a_plain_operator_gets_403_on_every_admin_endpoint_and_nothing_changes(srv):
    op = make_operator(srv, name="Обычный")
    a = admin(srv)
    try:
        before = a.call("GET", "/api/v1/operators").json()
        for method, path, body in ADMIN_ONLY:
            assert_error(op.call(method, path, json=body), 403, "forbidden")
        assert a.call("GET", "/api/v1/operators").json() == before
        assert a.call("GET", "/api/v1/me").status_code == 200      # the admin was not deactivated, etc.
        # and without a session at all: 401
        for method, path, body in ADMIN_ONLY:
            assert_error(httpx.request(method, srv.url + path, json=body), 401, "unauthorized")
    finally:
        a.close()
        op.close()


def test_a_plain_operator_cannot_list_operators(srv):
    """The list carries every operator's e-mail and sites: administrators only."""
    op = make_operator(srv)
    try:
        r = op.call("GET", "/api/v1/operators")
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    finally:
        op.close()


@pytest.mark.parametrize("method,path,body,status", [
    ("POST", "/api/v1/operators", {"email": "not-an-email", "name": "x", "password": "long enough 1"}, 422),
    ("POST", "/api/v1/operators", {"email": "a@example.com", "name": "", "password": "long enough 1"}, 422),
    ("POST", "/api/v1/operators", {"email": "b@example.com", "name": "x", "password": "short"}, 422),
    ("POST", "/api/v1/operators", {"email": "c@example.com", "name": "x", "password": "long enough 1", "role": "god"}, 422),
    ("POST", "/api/v1/operators", {"email": "d@example.com", "name": "x", "password": "long enough 1", "site_ids": [999999]}, 422),
    ("POST", "/api/v1/operators", [1, 2, 3], 422),
    ("PATCH", "/api/v1/operators/999999", {"name": "x"}, 404),
    ("PATCH", "/api/v1/operators/abc", {"name": "x"}, 404),
    ("PATCH", "/api/v1/operators/²", {"name": "x"}, 404),
    ("PATCH", "/api/v1/operators/99999999999999999999999", {"name": "x"}, 404),
    ("PATCH", "/api/v1/operators/1", {"role": "root"}, 422),
    ("PATCH", "/api/v1/operators/1", {"is_active": "no"}, 422),
    ("POST", "/api/v1/sites", {"name": "x", "allowed_origins": ["javascript:alert(1)"]}, 422),
    ("POST", "/api/v1/sites", {"name": "x", "widget": {"color": "red"}}, 422),
    ("POST", "/api/v1/sites", {"name": "x", "widget": {"texts": {"ru": {"title": "x" * 501}}}}, 422),
    ("PATCH", "/api/v1/sites/999999", {"name": "x"}, 404),
    ("PATCH", "/api/v1/me", {"language": "de"}, 422),
    ("POST", "/api/v1/me/password", {"current_password": "x"}, 422),
])
def test_bad_input_is_a_4xx_json_error(srv, method, path, body, status):
    a = admin(srv)
    try:
        assert_error(a.call(method, path, json=body), status)
    finally:
        a.close()


def test_duplicate_operator_email_is_409(srv):
    a = admin(srv)
    try:
        email = new_email()
        body = {"email": email, "name": "Дубль", "password": "long enough 1"}
        assert a.call("POST", "/api/v1/operators", json=body).status_code == 201
        assert_error(a.call("POST", "/api/v1/operators", json={**body, "email": email.upper()}), 409, "conflict")
    finally:
        a.close()


def test_created_operator_has_the_chosen_sites_and_role(srv):
    a = admin(srv)
    try:
        site = a.call("POST", "/api/v1/sites", json={"name": "Третий"}).json()["site"]
        r = a.call("POST", "/api/v1/operators", json={"email": new_email(), "name": "Выборочный",
                                                       "password": "long enough 1", "site_ids": [site["id"]]})
        assert r.status_code == 201, r.text
        assert r.json()["operator"]["site_ids"] == [site["id"]] and r.json()["operator"]["role"] == "operator"
    finally:
        a.close()
