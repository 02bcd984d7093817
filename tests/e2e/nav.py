"""Reaching a page of the panel's menu the way a person does, at any width: a page that does not
fit in the top bar is under "Ещё" (``nav-more``), below 1180 px every page is in the drawer
(``menu-toggle``). Tests click menu items through ``nav_click`` so that adding pages never breaks them."""
from __future__ import annotations

from playwright.sync_api import Page


def reveal_nav(page: Page, testid: str) -> None:
    """Make the menu item ``testid`` (``nav-sites``…) visible: open "Ещё" or the drawer when it is there."""
    page.get_by_test_id("operator-status").wait_for()  # the top bar is drawn (and fitted) with it
    link = page.get_by_test_id(testid)
    if link.is_visible():
        return
    more, toggle = page.get_by_test_id("nav-more"), page.get_by_test_id("menu-toggle")
    if more.is_visible():
        if more.get_attribute("aria-expanded") != "true":
            more.click()
    elif toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    link.wait_for(state="visible")
    # the drawer slides in (a CSS transition): its places are final once that has ended
    page.evaluate("() => Promise.all(document.getAnimations().map(a => a.finished.catch(() => null)))")


def nav_click(page: Page, testid: str) -> None:
    """Go to the page of the menu item ``testid`` wherever the item is at this width."""
    reveal_nav(page, testid)
    page.get_by_test_id(testid).click()
