"""Issue 16, low: the "continue" link of a reply e-mailed to a visitor points only at the site's allowed origins."""
from __future__ import annotations

from frontdesk.actions.emails import continue_link

ALLOWED = ["https://shop.example", "http://localhost:8000"]


def test_only_pages_on_an_allowed_origin_are_linked():
    assert continue_link("https://shop.example/cart?x=1", ALLOWED) == "https://shop.example/cart?x=1"
    assert continue_link("http://localhost:8000/", ALLOWED) == "http://localhost:8000/"
    for url in ("https://evil.example/pay", "http://shop.example/cart", "https://shop.example.evil.example/",
                "https://user@shop.example/", "javascript:alert(1)", "https://shop.example:444/", "", None):
        assert continue_link(url, ALLOWED) is None, url


def test_a_site_without_allowed_origins_gets_no_link():
    assert continue_link("https://shop.example/cart", []) is None
    assert continue_link("https://shop.example/cart", None) is None
