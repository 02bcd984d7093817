"""Static delivery: the widget is gzipped, chat.js is cache-busted by content hash, pages carry their headers."""
import gzip
import re

import httpx


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
