"""Issue 16, low: a site without allowed origins is said loudly on the panel's Sites page."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.nav import nav_click
from tests.e2e.test_panel import close_page, open_panel, srv  # noqa: F401 - srv is a fixture
from tests.support import admin


def test_a_site_without_allowed_origins_shows_a_warning(browser, srv):  # noqa: F811
    d = srv.demo
    page = open_panel(browser, srv, d["admin_email"], d["admin_password"])
    try:
        boss = admin(srv)
        shop = boss.call("POST", "/api/v1/sites", json={"name": "Магазин с адресом",
                                                        "allowed_origins": ["https://shop.example"]}).json()["site"]
        boss.close()
        nav_click(page, "nav-sites")
        warning = page.get_by_test_id("site-no-origins")
        expect(warning).to_be_visible()  # the demo site has no allowed origins
        expect(warning).to_contain_text("на любом чужом сайте")
        page.get_by_test_id("site-item").filter(has_text=shop["name"]).click()
        expect(page.get_by_test_id("site-no-origins")).to_have_count(0)
    finally:
        close_page(page)
