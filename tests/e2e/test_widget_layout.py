"""How the widget looks and is reached: phones, site settings, operator photo, keyboard, contrast."""
from __future__ import annotations

import re
import struct
import zlib

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CustomerSite, WidgetPage, operator_reply
from tests.support import make_operator, make_site

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}

# WCAG contrast of each visible text against the first opaque background behind it.
_CONTRAST = """() => {
  const root = document.getElementById('frontdesk-widget').shadowRoot;
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b]
    .map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const bg = e => {
    for (; e; e = e.parentElement || (e.getRootNode().host)) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] === 1) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = {};
  for (const [name, sel] of Object.entries({
      launcher: '.fl', title: '.nm', role: '.rl', greeting: '[data-testid=widget-greeting] .bub',
      visitor: '.msg.me .bub', operator: '.msg.op:not([data-testid=widget-greeting]) .bub', who: '.who',
      time: '.meta time', state: '.me .st', day: '.msg.day', input: '.ta', send: '.send'})) {
    const e = root.querySelector(sel);
    if (!e) { out[name] = null; continue; }
    const fg = sel === '.msg.day' ? rgb(getComputedStyle(e, '::before').color) : rgb(getComputedStyle(e).color);
    const back = sel === '.msg.day' ? rgb(getComputedStyle(e, '::before').backgroundColor) : bg(e);
    const [a, b] = [lum(fg.slice(0, 3)), lum(back)].sort((x, y) => y - x);
    out[name] = Math.round((a + 0.05) / (b + 0.05) * 100) / 100;
  }
  return out;
}"""


def _png(size: int = 16, rgb: tuple[int, int, int] = (200, 120, 60)) -> bytes:
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_phone_gets_a_full_screen_chat_with_a_close_button(browser, widget_server, widget_operator):
    ctx = browser.new_context(locale="ru-RU", viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        w = WidgetPage(ctx.new_page(), widget_server).goto("/demo/")
        expect(w.launcher).to_be_visible()
        box = w.launcher.bounding_box()
        assert abs(box["width"] - 60) <= 1 and box["x"] + box["width"] <= PHONE["width"] - 19
        w.launcher.tap()
        expect(w.window).to_be_visible()
        w.settle()
        assert w.window.bounding_box() == {"x": 0, "y": 0, **PHONE}
        expect(w.launcher).to_be_hidden()  # nothing floats over the full-screen chat

        close = w.page.get_by_test_id("widget-close")
        expect(close).to_be_visible()
        expect(close).to_have_attribute("aria-label", "Закрыть чат")
        cb = close.bounding_box()
        assert cb["width"] >= 44 and cb["height"] >= 44 and cb["y"] < 80 and cb["x"] + cb["width"] <= PHONE["width"], cb
        assert w.input.evaluate("e => getComputedStyle(e).fontSize") == "16px"  # iOS does not zoom at 16 px

        w.input.fill("Пишу с телефона")
        w.page.get_by_test_id("widget-send").tap()
        w.wait_delivered(1)
        # the on-screen keyboard takes the lower part of the screen: the input stays above it
        w.page.set_viewport_size({"width": 390, "height": 480})
        w.page.wait_for_function("() => document.getElementById('frontdesk-widget').shadowRoot"
                                 ".querySelector('[data-testid=widget-window]').getBoundingClientRect().height === 480")
        ib = w.input.bounding_box()
        assert ib["y"] + ib["height"] <= 480

        close.tap()
        expect(w.window).to_be_hidden()
        expect(w.launcher).to_be_visible()
        assert w.errors == []
    finally:
        ctx.close()


def test_site_settings_and_the_operator_photo_reach_the_widget(browser, widget_server, widget_operator):
    site = make_site(widget_server, name="Жёлтый магазин", widget={
        "color": "#ffd400", "position": "left", "language": "en", "texts": {"en": {"title": "Ask Oleg"}}})
    oleg = make_operator(widget_server, name="Олег Петров")
    r = widget_operator.call("PUT", f"/api/v1/operators/{oleg.operator['id']}/sites", json={"site_ids": [site["id"]]})
    assert r.status_code == 200, r.text
    r = oleg.http.post("/api/v1/me/photo", files={"photo": ("oleg.png", _png(), "image/png")},
                       headers={"x-csrf-token": oleg.csrf, "origin": widget_server.url})
    assert r.status_code == 200, r.text
    oleg.set_status("online")
    ctx = browser.new_context(locale="ru-RU")  # the site asks for English even for a Russian browser
    try:
        with CustomerSite(widget_server, site["site_key"]) as shop:
            w = WidgetPage(ctx.new_page(), widget_server).goto(shop.url + "/")
            expect(w.launcher).to_have_attribute("aria-label", "Open chat")
            box = w.launcher.bounding_box()
            assert abs(box["x"] - 20) <= 1, box  # position: left
            colours = w.launcher.evaluate("e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]")
            assert colours == ["rgb(255, 212, 0)", "rgb(17, 24, 39)"]  # dark icon on yellow: readable

            w.open()
            assert abs(w.window.bounding_box()["x"] - 20) <= 1
            expect(w.page.get_by_test_id("widget-title")).to_have_text("Ask Oleg")
            expect(w.input).to_have_attribute("placeholder", "Type a message…")
            w.send("Hello, is the yellow lamp in stock?")
            expect(w.messages("visitor").locator(".st")).to_have_text("delivered")
            operator_reply(oleg, w.conversation_id(), "Yes, it is.")
            expect(w.page.get_by_test_id("widget-operator-name")).to_have_text("Олег Петров")
            expect(w.page.locator(".rl")).to_have_text("Consultant")
            photo = w.page.get_by_test_id("widget-operator-photo").locator("img")
            expect(photo).to_have_attribute(
                "src", re.compile(re.escape(widget_server.url) + r"/api/v1/operators/\d+/photo"))
            w.page.wait_for_function("img => img.complete && img.naturalWidth === 16", arg=photo.element_handle())
            ratios = w.page.evaluate(_CONTRAST)
            low = {k: v for k, v in ratios.items() if v is not None and v < 4.5}
            assert not low, ratios
            assert w.errors == []
    finally:
        ctx.close()
        oleg.set_status("offline")
        oleg.close()


def test_keyboard_only_visitor_and_reduced_motion(browser, widget_server, widget_operator):
    ctx = browser.new_context(locale="ru-RU", reduced_motion="reduce")
    try:
        w = WidgetPage(ctx.new_page(), widget_server).goto("/demo/cart.html")
        expect(w.launcher).to_have_attribute("aria-label", "Открыть чат")
        expect(w.launcher).to_have_attribute("aria-expanded", "false")
        w.launcher.focus()
        w.page.keyboard.press("Enter")
        expect(w.window).to_be_visible()
        assert w.window.evaluate("e => e.getAnimations({subtree: true}).length") == 0  # no motion
        expect(w.input).to_be_focused()
        expect(w.input).to_have_attribute("aria-label", "Сообщение")
        expect(w.page.get_by_test_id("widget-send")).to_have_attribute("aria-label", "Отправить")
        expect(w.page.get_by_test_id("widget-close")).to_have_attribute("aria-label", "Свернуть чат")
        expect(w.launcher).to_have_attribute("aria-expanded", "true")

        # Shift+Enter breaks the line, Enter sends; the input grows, up to about five lines
        w.page.keyboard.type("Первая строка")
        h1 = w.input.bounding_box()["height"]
        w.page.keyboard.press("Shift+Enter")
        w.page.keyboard.type("вторая строка")
        assert w.input.bounding_box()["height"] > h1
        for i in range(8):
            w.page.keyboard.press("Shift+Enter")
            w.page.keyboard.type(f"ещё {i}")
        assert 100 <= w.input.bounding_box()["height"] <= 124
        w.page.keyboard.press("Enter")
        w.wait_delivered(1)
        assert w.read()[0]["text"].startswith("Первая строка\nвторая строка\nещё 0")
        assert w.input.bounding_box()["height"] == h1

        w.page.keyboard.press("Escape")
        expect(w.window).to_be_hidden()
        expect(w.launcher).to_be_focused()
        ratios = None
        w.page.keyboard.press("Enter")  # and back
        expect(w.window).to_be_visible()
        operator_reply(widget_operator, w.conversation_id(), "Ответ с проверкой контраста")
        expect(w.messages("operator")).to_have_count(1)
        ratios = w.page.evaluate(_CONTRAST)
        low = {k: v for k, v in ratios.items() if v is not None and v < 4.5}
        assert not low, ratios
        assert w.errors == []
    finally:
        ctx.close()


def test_the_widget_tells_when_nobody_is_online(widget_page: WidgetPage, widget_operator):
    w = widget_page.goto("/demo/contacts.html").open()
    role = w.page.locator(".rl")
    dot_on = "e => e.closest('.fd').classList.contains('on')"
    expect(role).to_have_text("Обычно отвечаем за минуту")
    assert w.launcher.evaluate(dot_on)
    widget_operator.set_status("offline")
    try:
        expect(role).to_have_text("Сейчас нас нет в сети")  # live, through the availability frame
        w.page.wait_for_function("() => !document.getElementById('frontdesk-widget').shadowRoot"
                                 ".querySelector('.fd').classList.contains('on')")
    finally:
        widget_operator.set_status("online")
    expect(role).to_have_text("Обычно отвечаем за минуту")
    assert w.launcher.evaluate(dot_on)
    assert w.errors == []
