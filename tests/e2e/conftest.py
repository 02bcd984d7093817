"""Widget end-to-end helpers: one real server per test module, a fresh browser context per test.

Fixture names start with ``widget_`` (this conftest is shared with the panel's e2e tests).
``WidgetPage`` drives the visitor widget the way a person does (click, type, Enter) and
reads what a person would see from the widget's open shadow root.
"""
from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support import OperatorClient, ServerProcess, admin

STATIC = Path(__file__).resolve().parents[2] / "src" / "frontdesk" / "static"
DESKTOP = {"width": 1280, "height": 800}

# Everything the widget shows as messages, in DOM order, as plain data.
_READ_MESSAGES = """() => {
  const host = document.getElementById('frontdesk-widget');
  if (!host || !host.shadowRoot) return [];
  return [...host.shadowRoot.querySelectorAll('[data-testid="widget-message"]')].map(e => ({
    author: e.dataset.author,
    seq: e.dataset.seq ? Number(e.dataset.seq) : null,
    cid: e.dataset.conversationId ? Number(e.dataset.conversationId) : null,
    state: e.dataset.state || null,
    text: e.querySelector('.bub').textContent,
  }));
}"""


class WidgetPage:
    """One browser tab with the widget."""

    def __init__(self, page, server: ServerProcess) -> None:
        self.page = page
        self.server = server
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    # --- locators (get_by_test_id pierces the open shadow root) ---
    @property
    def launcher(self):
        return self.page.get_by_test_id("widget-launcher")

    @property
    def window(self):
        return self.page.get_by_test_id("widget-window")

    @property
    def input(self):
        return self.page.get_by_test_id("widget-input")

    def messages(self, author: str | None = None, **attrs: str):
        sel = '[data-testid="widget-message"]'
        if author:
            sel += f'[data-author="{author}"]'
        for k, v in attrs.items():
            sel += f'[data-{k.replace("_", "-")}="{v}"]'
        return self.page.locator(sel)

    # --- actions ---
    def goto(self, path: str = "/demo/") -> WidgetPage:
        self.page.goto(path if path.startswith("http") else self.server.url + path)
        return self

    def open(self) -> WidgetPage:
        from playwright.sync_api import expect

        self.launcher.click()
        expect(self.window).to_be_visible()
        self.settle()
        return self

    def settle(self) -> None:
        """Wait for the window's opening animation to end (sizes are final then)."""
        self.window.evaluate("e => Promise.all(e.getAnimations({subtree: true})"
                            ".filter(a => a.effect.getTiming().iterations !== Infinity).map(a => a.finished))")

    def send(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    # --- reading ---
    def read(self) -> list[dict]:
        return self.page.evaluate(_READ_MESSAGES)

    def conversation_id(self) -> int:
        self.page.wait_for_function(
            "() => document.getElementById('frontdesk-widget').shadowRoot"
            ".querySelector('[data-testid=widget-message][data-conversation-id]')")
        return next(m["cid"] for m in self.read() if m["cid"])

    def wait_delivered(self, count: int, timeout: float = 20_000) -> list[dict]:
        """Until exactly ``count`` visitor messages are stored and none is still sending."""
        self.page.wait_for_function(
            """n => {
              const r = document.getElementById('frontdesk-widget').shadowRoot;
              return r.querySelectorAll('[data-author=visitor][data-state=delivered]').length === n
                && !r.querySelector('[data-author=visitor][data-state=sending]');
            }""", arg=count, timeout=timeout)
        return self.read()

    def storage(self, key: str) -> str | None:
        site = self.server.demo["site_key"]
        return self.page.evaluate("k => localStorage.getItem(k)", f"frontdesk:{site}:{key}")


def operator_reply(op: OperatorClient, cid: int, text: str) -> dict:
    r = op.call("POST", f"/api/v1/conversations/{cid}/messages",
                json={"client_id": "o-" + uuid.uuid4().hex, "text": text})
    assert r.status_code in (200, 201), r.text
    return r.json()


def history(op: OperatorClient, cid: int) -> list[dict]:
    """Every stored message of a conversation, through the operator REST API."""
    out: list[dict] = []
    after = 0
    while True:
        r = op.call("GET", f"/api/v1/conversations/{cid}/messages", params={"after_seq": after, "limit": 200})
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["messages"]
        if not body["has_more"] or not body["messages"]:
            return out
        after = body["messages"][-1]["seq"]


def host_page(server: ServerProcess, title: str = "Магазин", site_key: str | None = None) -> str:
    """A customer's page on another origin that embeds the widget with the exact snippet."""
    return (f'<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>{title}</title>'
            '<link rel="icon" href="data:,"></head>'
            f'<body><h1>{title}</h1><script src="{server.url}/widget.js" '
            f'data-site="{site_key or server.demo["site_key"]}" async></script></body></html>')


class CustomerSite:
    """The customer's own web server (another origin than ours) whose pages embed the widget.
    A real loopback HTTP server: Chromium refuses to let a page it thinks public reach
    our loopback server, so the host page cannot be faked with page.route."""

    def __init__(self, server: ServerProcess, site_key: str | None = None) -> None:
        from tests.support import free_port

        self.server = server
        self.site_key = site_key
        self.port = free_port()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = host_page(site.server, self.path, site.site_key).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def __enter__(self) -> CustomerSite:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def widget_server(tmp_path_factory):
    """One `frontdesk serve --demo` shared by the widget tests: each test is its own visitor
    (a fresh browser context), so they do not see each other. Tests that crash a server
    start their own."""
    # The offline grace has its own test (tests/realtime/test_presence.py); here it must not set the
    # demo admin offline in the middle of a later test after test_typing_goes_both_ways closes its panel.
    proc = ServerProcess(tmp_path_factory.mktemp("widget") / "data",
                         env={"FRONTDESK_OFFLINE_GRACE": "3600"}).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def _widget_admin(widget_server):
    op = admin(widget_server)
    yield op
    op.close()


@pytest.fixture
def widget_operator(_widget_admin):
    """The demo admin, online: the widget shows the live chat only while someone is (else the offline
    form, issue 6). Set for every test: the server sets an operator offline FRONTDESK_OFFLINE_GRACE
    (30 s) after its last panel socket closes, and test_typing_goes_both_ways opens one."""
    _widget_admin.set_status("online")
    return _widget_admin


@pytest.fixture
def widget_context(browser):
    """A fresh browser profile (a new visitor) per test, in Russian on a desktop screen."""
    ctx = browser.new_context(locale="ru-RU", viewport=DESKTOP)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def widget_page(widget_context, widget_server):
    return WidgetPage(widget_context.new_page(), widget_server)


def read_json(text: str | None) -> object:
    return json.loads(text) if text else None
