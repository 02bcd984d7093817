"""A page of another origin cannot act as the operator: not through the operator socket,
not through the panel's write endpoints — even though the browser sends the cookie
(127.0.0.1 on another port is the same *site*, so SameSite does not help here; only the
Origin check and the CSRF token do)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.e2e.test_panel import Desk, close_page, conversation_item, open_panel, set_status
from tests.support import OperatorClient, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from tests.support import ServerProcess

    proc = ServerProcess(tmp_path_factory.mktemp("panel-sec") / "data").start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def evil_origin():
    """A plain page on another port: the attacker's site."""
    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>evil</title><p>cats"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()
    httpd.server_close()


def login(srv, desk: Desk) -> OperatorClient:
    return OperatorClient(srv, desk.email, desk.password)


# --- API level ------------------------------------------------------------------------------

def _close_code(url: str, headers: dict, hello: bool = False) -> int:
    """Connect, optionally say hello, read until the server closes; the close code."""
    with connect(url, additional_headers=headers, open_timeout=10) as ws:
        try:
            if hello:   # the server may have closed already (the Origin is checked before any frame)
                ws.send(json.dumps({"type": "hello", "resume": {}}))
            while True:
                ws.recv(timeout=10)
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else -1


def test_operator_socket_refuses_a_foreign_origin_even_with_a_valid_cookie(srv):
    op = login(srv, Desk(srv, "Сокет"))
    url = srv.ws_url + "/ws/operator"
    assert _close_code(url, {"Cookie": op.cookie_header, "Origin": "http://evil.example"}, hello=True) == 4403
    assert _close_code(url, {"Cookie": op.cookie_header, "Origin": srv.url.replace("127.0.0.1", "localhost")}) == 4403
    assert _close_code(url, {"Cookie": op.cookie_header}) == 4403          # no Origin at all
    assert _close_code(url, {"Origin": srv.url}, hello=True) == 4401       # right origin, no session
    # the same cookie from our own origin gets in
    with connect(url, additional_headers={"Cookie": op.cookie_header, "Origin": srv.url}, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "resume": {}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
    op.close()


WRITES = [
    ("PUT", "/api/v1/me/status", {"status": "away"}),
    ("PATCH", "/api/v1/me", {"name": "Взломан"}),
    ("POST", "/api/v1/me/password", {"current_password": "correct horse battery", "new_password": "pwned pwned"}),
    ("POST", "/api/v1/auth/logout", None),
]


@pytest.mark.parametrize("method,path,body", WRITES)
def test_writes_without_the_right_csrf_token_or_from_a_foreign_origin_are_403(srv, method, path, body):
    desk = Desk(srv, "Токен")
    op = login(srv, desk)
    kw = {"json": body} if body is not None else {}
    try:
        for headers in ({}, {"x-csrf-token": "wrong"}, {"x-csrf-token": ""},
                        {"x-csrf-token": op.csrf, "origin": "http://evil.example"}):
            r = op.http.request(method, path, headers=headers, **kw)
            assert r.status_code == 403, (headers, r.text)
            assert r.json()["error"]["code"] == "csrf_failed"
        me = op.call("GET", "/api/v1/me").json()["operator"]
        assert me["name"] == "Токен" and me["status"] == "offline"     # nothing changed
        OperatorClient(srv, desk.email, desk.password).close()           # password unchanged
        # the same request with the token and our own origin goes through
        assert op.call(method, path, **kw).status_code == 200
    finally:
        op.close()


def test_conversation_actions_need_the_csrf_token(srv):
    desk = Desk(srv, "Действия")
    op = login(srv, desk)
    visitor = desk.visitor(srv)
    cid = visitor.say("Помогите")["conversation_id"]
    try:
        for action in ("take", "close"):
            r = op.http.post(f"/api/v1/conversations/{cid}/{action}")
            assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        r = op.http.post(f"/api/v1/conversations/{cid}/messages", json={"client_id": "x1", "text": "спам"})
        assert r.status_code == 403
        conv = op.call("GET", f"/api/v1/conversations/{cid}").json()["conversation"]
        assert conv["status"] == "open" and conv["assignee"] is None and conv["last_seq"] == 1
    finally:
        visitor.close()
        op.close()


# --- a real cross-origin page in the operator's browser ---------------------------------------

ATTACK = """async ({server, cid}) => {
  const out = {};
  const cookie = document.cookie;             // same host, other port: cookies are shared …
  const csrf = (cookie.match(/fd_csrf=([^;]+)/) || [])[1] || '';
  out.sawCsrfCookie = !!csrf;
  async function attempt(name, url, init) {
    try {
      const r = await fetch(server + url, {credentials: 'include', ...init});
      out[name] = r.type === 'opaque' ? 'opaque' : r.status;
    } catch (e) { out[name] = 'blocked'; }
  }
  await attempt('readMe', '/api/v1/me', {});
  await attempt('statusJson', '/api/v1/me/status', {method: 'PUT', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}, body: JSON.stringify({status: 'offline'})});
  await attempt('closeSimple', `/api/v1/conversations/${cid}/close`, {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body: '{}'});
  await attempt('replySimple', `/api/v1/conversations/${cid}/messages`, {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body: JSON.stringify({client_id: 'evil-1', text: 'pwned'})});
  await attempt('logoutSimple', '/api/v1/auth/logout', {method: 'POST', mode: 'no-cors'});
  await attempt('statusSimple', '/api/v1/me/status', {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body: JSON.stringify({status: 'offline'})});
  out.socket = await new Promise((resolve) => {
    const ws = new WebSocket(server.replace('http', 'ws') + '/ws/operator');
    const frames = [];
    ws.onopen = () => ws.send(JSON.stringify({type: 'hello', resume: {[cid]: 0}}));
    ws.onmessage = (e) => frames.push(JSON.parse(e.data).type);
    ws.onclose = (e) => resolve({code: e.code, frames});
    setTimeout(() => resolve({code: 'timeout', frames}), 10000);
  });
  return out;
}"""


def test_a_cross_origin_page_cannot_use_the_operators_cookie(browser, srv, evil_origin):
    desk = Desk(srv, "Жертва")
    page = open_panel(browser, srv, desk.email, desk.password)
    set_status(page, "online")
    visitor = desk.visitor(srv)
    cid = visitor.say("Здравствуйте")["conversation_id"]
    page.wait_for_selector(f"[data-testid='conversation-item'][data-conversation-id='{cid}']")

    evil = page.context.new_page()     # same browser profile: the operator's cookies are there
    evil.goto(evil_origin + "/")
    result = evil.evaluate(ATTACK, {"server": srv.url, "cid": cid})
    assert result["sawCsrfCookie"] is True           # so the token alone would not be enough …
    assert result["readMe"] == "blocked"             # … CORS keeps responses unreadable
    assert result["statusJson"] == "blocked"         # preflight refused: never sent
    # "simple" requests are sent (the browser cannot know better) but refused by the server
    assert {result[k] for k in ("closeSimple", "replySimple", "logoutSimple", "statusSimple")} == {"opaque"}
    assert result["socket"]["code"] == 4403
    assert "welcome" not in result["socket"]["frames"] and "message.created" not in result["socket"]["frames"]
    evil.close()

    # the server confirms: nothing happened
    op = login(srv, desk)
    try:
        conv = op.call("GET", f"/api/v1/conversations/{cid}").json()["conversation"]
        assert conv["status"] == "open" and conv["last_seq"] == 1
        me = op.call("GET", "/api/v1/me").json()["operator"]
        assert me["status"] == "online" and me["name"] == "Жертва"
    finally:
        op.close()
    # and the panel still works: its session was not logged out
    assert page.evaluate("async () => (await fetch('/api/v1/me')).status") == 200
    conversation_item(page, cid).click()
    page.get_by_test_id("chat-input").fill("Добрый день!")
    page.keyboard.press("Enter")
    visitor.wait_text("Добрый день!")
    visitor.close()
    close_page(page)


def test_panel_pages_carry_a_strict_csp_and_cannot_be_framed(srv):
    for path in ("/panel/", "/panel/login", "/panel/history"):
        r = httpx.get(srv.url + path)
        assert r.status_code == 200
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert "<script>" not in r.text.replace(" ", "")            # no inline script: all code is in files
        assert " on" not in r.text.split("<body", 1)[1].split(">", 1)[0]
