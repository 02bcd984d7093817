"""Hostile input and hostile host pages: text stays text, nothing runs, the layout holds."""
from __future__ import annotations

from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import WidgetPage, history, operator_reply

pytestmark = pytest.mark.e2e

TRAP = "window.__pwned"
CORPUS = [
    "<b>жирный?</b> <i>нет</i> <u>и не подчёркнутый</u>",
    f"<script>{TRAP} = 'script'</script>",
    f"<img src=x onerror=\"{TRAP} = 'img'\">",
    f"<svg onload=\"{TRAP} = 'svg'\"></svg><iframe src=\"javascript:{TRAP}='iframe'\"></iframe>",
    f"javascript:{TRAP}='js' и [ссылка](javascript:{TRAP}='md') и JaVaScRiPt:{TRAP}=1",
    f"<a href=\"javascript:{TRAP}='a'\">нажми</a> https://example.com/\"><img src=x onerror={TRAP}='url'>",
    f"data:text/html,<script>{TRAP}='data'</script> vbscript:msgbox(1) //evil.example/x",
    "&lt;b&gt;сущности&lt;/b&gt; &amp; ${" + TRAP + "='tpl'} {{constructor.constructor('" + TRAP + "=1')()}}",
    "Ы" * 600,
    "https://example.com/" + "очень-длинный-путь/" * 30,
    "مرحبا، هل لديكم توصيل؟ שלום עולם",
    "👍🏽 👨‍👩‍👧‍👦 🇷🇺 ❤️‍🔥",
    "нулевой\u200bширины\u200c\u200d\ufeffсимволы\u2060и\u202eRLO-переворот",
    "строка 1\nстрока 2\n\n    с отступом",
]

_INSPECT = """() => {
  const root = document.getElementById('frontdesk-widget').shadowRoot;
  const win = root.querySelector('[data-testid=widget-window]').getBoundingClientRect();
  const list = root.querySelector('.list');
  const bubbles = [...root.querySelectorAll('[data-testid=widget-message] .bub')];
  return {
    pwned: window.__pwned,
    tags: [...new Set(bubbles.flatMap(b => [...b.querySelectorAll('*')].map(e => e.tagName)))],
    hrefs: bubbles.flatMap(b => [...b.querySelectorAll('a')].map(a => a.getAttribute('href'))),
    imgsAnywhere: root.querySelectorAll('.list img:not(.ava img)').length,
    win: {left: win.left, right: win.right, width: win.width},
    widest: Math.max(...bubbles.map(b => b.getBoundingClientRect().width)),
    outside: bubbles.filter(b => {
      const r = b.getBoundingClientRect();
      return r.left < win.left - 0.5 || r.right > win.right + 0.5;
    }).length,
    hscroll: list.scrollWidth - list.clientWidth,
  };
}"""


def test_hostile_text_is_shown_as_text_and_runs_nothing(widget_page: WidgetPage, widget_operator):
    w = widget_page
    w.page.add_init_script(f"{TRAP} = undefined; window.alert = () => {{ {TRAP} = 'alert'; }};")
    w.goto("/demo/").open()
    for text in CORPUS:
        w.send(text)
    w.wait_delivered(len(CORPUS))
    cid = w.conversation_id()
    for text in CORPUS:
        operator_reply(widget_operator, cid, text)
    expect(w.messages("operator")).to_have_count(len(CORPUS))

    shown = w.read()
    assert [m["text"] for m in shown if m["author"] == "visitor"] == CORPUS
    assert [m["text"] for m in shown if m["author"] == "operator"] == CORPUS
    assert [m["text"] for m in history(widget_operator, cid)] == CORPUS + CORPUS  # stored verbatim

    state = w.page.evaluate(_INSPECT)
    assert state["pwned"] is None, f"hostile text ran: {state['pwned']}"
    assert state["tags"] in ([], ["A"]), state["tags"]  # only the links we build, no markup from text
    assert state["imgsAnywhere"] == 0
    # exactly the http(s) URLs became links, each twice (visitor + operator)
    long_url = CORPUS[9]
    assert sorted(unquote(h) for h in state["hrefs"]) == sorted(["https://example.com/", long_url] * 2), state["hrefs"]
    assert state["widest"] <= state["win"]["width"]
    assert state["outside"] == 0 and state["hscroll"] <= 0, state
    # links open safely in a new tab
    link = w.page.locator('[data-testid="widget-message"] .bub a').first
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow ugc")
    assert w.errors == []


def test_aggressive_host_css_does_not_break_the_widget(widget_page: WidgetPage, widget_operator):
    w = widget_page.goto("/demo/hostile-css.html")
    vw, vh = 1280, 800
    expect(w.launcher).to_be_visible()
    box = w.launcher.bounding_box()
    assert abs(box["width"] - 60) <= 1 and abs(box["height"] - 60) <= 1, box
    assert abs(vw - (box["x"] + box["width"]) - 20) <= 1 and abs(vh - (box["y"] + box["height"]) - 20) <= 1, box
    styles = w.page.evaluate("""() => {
      const host = document.getElementById('frontdesk-widget');
      const l = host.shadowRoot.querySelector('[data-testid=widget-launcher]');
      const h = getComputedStyle(host), s = getComputedStyle(l);
      return {position: h.position, display: h.display, z: h.zIndex, opacity: h.opacity, visibility: h.visibility,
              bg: s.backgroundColor, font: s.fontFamily, parent: host.parentElement.tagName};
    }""")
    assert styles["position"] == "fixed" and styles["display"] == "block" and styles["opacity"] == "1"
    assert styles["visibility"] == "visible" and int(styles["z"]) > 2_000_000_000
    assert styles["bg"] == "rgb(179, 90, 36)"  # the site colour (the demo shop's #b35a24), not the page's red

    w.open()  # a real click: Playwright checks that nothing covers the launcher
    win = w.window.bounding_box()
    assert win["width"] == 370 and 300 <= win["height"] <= 560, win
    assert win["x"] >= 0 and win["y"] >= 0 and win["x"] + win["width"] <= vw and win["y"] + win["height"] <= vh
    inp = w.input.bounding_box()
    assert inp["height"] >= 36 and inp["width"] > 200, inp
    font = w.input.evaluate(
        "e => [getComputedStyle(e).fontSize, getComputedStyle(e).letterSpacing, getComputedStyle(e).textTransform]")
    assert font == ["15px", "normal", "none"], font  # the page's 44px uppercase spaced font stays out
    w.send("Со страницы с агрессивным CSS")
    w.wait_delivered(1)
    bubble = w.messages("visitor").locator(".bub").bounding_box()
    assert win["x"] < bubble["x"] and bubble["x"] + bubble["width"] < win["x"] + win["width"]
    assert w.errors == []
