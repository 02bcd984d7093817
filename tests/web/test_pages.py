"""Static delivery: the widget is gzipped, chat.js is cache-busted by content hash, pages carry their headers."""
import gzip
import re

import httpx
import pytest

from tests.support import ServerProcess


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory):
    """One server for this module: every test only reads pages."""
    proc = ServerProcess(tmp_path_factory.mktemp("pages") / "data").start()
    yield proc
    proc.stop()


def test_widget_is_gzipped_and_chat_code_is_versioned_by_content(sqlite_server):
    with httpx.Client(base_url=sqlite_server.url) as http:
        r = http.get("/widget.js", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
        assert r.headers["content-type"].startswith("text/javascript")
        assert r.num_bytes_downloaded <= 5 * 1024  # the loader's budget, as served
        version = re.search(r'VERSION = "([0-9a-f]{12})"', r.text).group(1)
        chat = http.get("/static/widget/chat.js", params={"v": version}, headers={"Accept-Encoding": "gzip"})
        assert chat.headers["content-encoding"] == "gzip"
        assert "immutable" in chat.headers["cache-control"]
        assert chat.num_bytes_downloaded <= 30 * 1024
        stale = http.get("/static/widget/chat.js", params={"v": "000000000000"})
        assert stale.headers["cache-control"] == "no-cache"
        assert gzip.compress(stale.content)  # same file either way


def test_chat_code_is_its_parts_joined_and_named_by_the_hash_of_what_is_served(sqlite_server):
    import hashlib

    from frontdesk.web.pages import CHAT_PARTS, STATIC, widget_chat_source

    with httpx.Client(base_url=sqlite_server.url) as http:
        version = re.search(r'VERSION = "([0-9a-f]{12})"', http.get("/widget.js").text).group(1)
        chat = http.get("/static/widget/chat.js", params={"v": version})
        assert chat.content == widget_chat_source()
        assert hashlib.sha256(chat.content).hexdigest()[:12] == version
        for part in CHAT_PARTS:  # every part, in order, inside one function: nothing leaks into the page
            assert (STATIC / "widget" / part).read_bytes().rstrip() in chat.content
        assert chat.text.index("var MSG =") < chat.text.index("var Proto =") < chat.text.index("FrontdeskWidget")
        assert chat.text.startswith("(function () {") and chat.text.rstrip().endswith("})();")
        again = http.get("/static/widget/chat.js", params={"v": version}, headers={"If-None-Match": chat.headers["etag"]})
        assert again.status_code == 304 and "immutable" in again.headers["cache-control"]


def test_demo_page_embeds_the_widget_exactly_like_a_customer(sqlite_server):
    html = httpx.get(sqlite_server.url + "/demo/").text
    key = sqlite_server.demo["site_key"]
    assert f'<script src="/widget.js" data-site="{key}" async></script>' in html


def test_panel_pages_have_a_strict_csp(sqlite_server):
    for path in ("/panel/", "/panel/login"):
        r = httpx.get(sqlite_server.url + path)
        assert r.status_code == 200
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"
        assert "<script>" not in r.text.replace(" ", "")  # no inline scripts


def test_start_page_says_what_this_is_in_russian_or_english(sqlite_server):
    with httpx.Client(base_url=sqlite_server.url) as http:
        ru = http.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
        assert ru.status_code == 200 and ru.headers["content-type"].startswith("text/html")
        assert '<html lang="ru">' in ru.text and "онлайн-консультант" in ru.text
        for href in ('href="/panel/"', 'href="/api/openapi.json"', 'href="/demo/"', 'href="/?lang=en"'):
            assert href in ru.text, href
        assert "<script" not in ru.text and "default-src 'none'" in ru.headers["content-security-policy"]
        en = http.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
        assert '<html lang="en">' in en.text and "Operator panel" in en.text
        assert http.get("/?lang=en", headers={"Accept-Language": "ru"}).headers["content-language"] == "en"
        assert '<html lang="ru">' in http.get("/", headers={"Accept-Language": "de"}).text   # the first market


async def test_start_page_without_demo_has_no_demo_link(tmp_path):
    from frontdesk.app import build_app
    from frontdesk.settings import Settings

    app = build_app(Settings(data_dir=tmp_path))   # the page needs no database: no lifespan here
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        page = (await http.get("/")).text
    assert 'href="/panel/"' in page and "/demo/" not in page
