"""What the visitor is told about who can answer, and about long messages (issue 14): the
launcher follows availability without a click, the "operator has left" notice only after an
operator took the chat, "e-mail" never breaks across lines, the offline form says when the
shop opens, and a message over the limit is refused with a counter instead of being cut.

Each test runs its own server: they switch the demo admin online and offline."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, WidgetPage, history, operator_reply
from tests.support import ServerProcess, admin

pytestmark = pytest.mark.e2e

ONLINE, OFFLINE = "Напишите нам, мы онлайн!", "Оставьте нам сообщение"
NBH = "\u2011"  # non-breaking hyphen


@pytest.fixture
def srv(tmp_path):
    proc = ServerProcess(tmp_path / "data", env={"FRONTDESK_OFFLINE_GRACE": "3600"}).start()
    yield proc
    proc.stop()


@pytest.fixture
def boss(srv):
    op = admin(srv)
    op.set_status("online")
    yield op
    op.close()


def widget(browser, srv, **ctx_args) -> WidgetPage:
    ctx = browser.new_context(locale=ctx_args.pop("locale", "ru-RU"), viewport=ctx_args.pop("viewport", DESKTOP),
                              **ctx_args)
    ctx.set_default_timeout(15_000)
    return WidgetPage(ctx.new_page(), srv)


def label(w: WidgetPage):
    return w.page.locator("#frontdesk-widget .lb")


# --- 5a: the launcher follows availability -------------------------------------------------------

def test_launcher_follows_availability_while_the_chat_was_never_opened(browser, srv, boss):
    w = widget(browser, srv)
    chat_loads = []
    w.page.on("request", lambda r: chat_loads.append(r.url) if "/static/widget/chat.js" in r.url else None)
    w.page.clock.install()              # the minute between re-checks passes at the test's command
    w.goto()
    expect(label(w)).to_have_text(ONLINE)

    boss.set_status("offline")          # everyone leaves; the visitor clicks nothing
    w.page.clock.run_for(61_000)
    expect(label(w)).to_have_text(OFFLINE)
    expect(w.page.locator("#frontdesk-widget .fd")).not_to_have_class(re.compile(r"\bon\b"))   # the grey dot

    boss.set_status("online")
    w.page.clock.run_for(6_000)
    w.page.evaluate("window.dispatchEvent(new Event('focus'))")   # back to the tab: asked at once
    expect(label(w)).to_have_text(ONLINE)
    assert chat_loads == [], "the chat code is not loaded for this: the launcher alone asks"
    assert w.errors == []
    w.page.context.close()


def test_launcher_follows_the_sockets_availability_frames_after_the_window_was_closed(browser, srv, boss):
    w = widget(browser, srv)
    w.goto().open()
    w.page.get_by_test_id("widget-close").click()
    expect(label(w)).to_have_text(ONLINE)
    asked = []
    w.page.on("request", lambda r: asked.append(r.url) if "/widget/config" in r.url else None)
    boss.set_status("offline")
    expect(label(w)).to_have_text(OFFLINE)
    boss.set_status("online")
    expect(label(w)).to_have_text(ONLINE)
    w.page.evaluate("window.dispatchEvent(new Event('focus'))")
    assert asked == [], "while the socket is up the settings are not polled"
    w.page.context.close()


# --- 5c: "the operator has left" only after an operator took the chat ----------------------------

def test_nobody_took_the_chat_so_nobody_left(browser, srv, boss):
    w = widget(browser, srv)
    w.goto().open()
    w.send("Есть кто-нибудь?")
    w.wait_delivered(1)
    cid = w.conversation_id()
    notice = w.page.get_by_test_id("widget-offline-notice")
    expect(notice).to_be_hidden()

    boss.set_status("offline")          # nobody answered, then nobody is online
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(f"Сейчас никого нет на месте. Оставьте e{NBH}mail — ответим на почту")
    expect(notice).not_to_contain_text("Оператор отошёл")

    boss.set_status("online")
    expect(notice).to_be_hidden()
    operator_reply(boss, cid, "Здравствуйте, я здесь")
    expect(w.messages("operator")).to_have_count(1)
    boss.set_status("away")             # now someone did take it, and stepped away
    expect(notice).to_contain_text("Оператор отошёл")

    w.page.reload()                     # the next page remembers that an operator answered
    expect(w.window).to_be_visible()    # (the window stays open across the pages of a tab)
    expect(w.page.get_by_test_id("widget-offline-notice")).to_contain_text("Оператор отошёл")
    assert w.errors == []
    w.page.context.close()


# --- 5d: "e-mail" stays on one line ---------------------------------------------------------------

# Every occurrence of "e?mail" in the widget's visible text, and on how many lines it is drawn.
_EMAIL_LINES = """() => {
  const root = document.getElementById('frontdesk-widget').shadowRoot, out = [];
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (!n.parentElement || !n.parentElement.getClientRects().length) continue;   // not shown
    for (const m of n.data.matchAll(/e.mail/gi)) {
      const r = document.createRange();
      r.setStart(n, m.index);
      r.setEnd(n, m.index + 6);
      const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
      out.push({ word: m[0], lines: tops.size, text: n.data });
    }
  }
  return out;
}"""


@pytest.mark.parametrize("width", [320, 360, 390])
def test_the_word_email_never_breaks_across_lines(browser, srv, boss, width):
    w = widget(browser, srv, viewport={"width": width, "height": 740})
    w.goto().open()
    w.send("Вопрос")
    w.wait_delivered(1)
    boss.set_status("offline")
    expect(w.page.get_by_test_id("widget-offline-notice")).to_be_visible()
    w.page.get_by_test_id("widget-offline-open").click()            # the form: labels, hints, errors
    w.page.get_by_test_id("widget-offline-email").fill("not an address")
    w.page.get_by_test_id("widget-offline-submit").click()
    expect(w.page.get_by_test_id("widget-offline-form")).to_contain_text(f"Проверьте e{NBH}mail")
    found = w.page.evaluate(_EMAIL_LINES)
    assert len(found) >= 2, found
    assert [f for f in found if f["lines"] != 1] == [], "e-mail broken across lines"
    assert [f for f in found if f["word"][1] != NBH] == [], "a breaking hyphen in e-mail"
    w.page.context.close()


# --- 5e: when the shop opens next -----------------------------------------------------------------

def test_offline_form_says_when_the_shop_opens(browser, srv, boss):
    """Working hours: only tomorrow (Moscow), 09:00–18:00; the visitor is in Moscow too.
    Needs the server's next_open_at (config, welcome, availability frames)."""
    site_id = boss.call("GET", "/api/v1/sites").json()["sites"][0]["id"]
    tomorrow = dt.datetime.now(ZoneInfo("Europe/Moscow")) + dt.timedelta(days=1)
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[tomorrow.weekday()]
    r = boss.call("PUT", f"/api/v1/sites/{site_id}/hours",
                  json={"hours": {"timezone": "Europe/Moscow", "days": {day: [["09:00", "18:00"]]}}})
    assert r.status_code == 200, r.text
    config = httpx.get(f"{srv.url}/api/v1/widget/config", params={"site": srv.demo["site_key"]}).json()
    assert config["available"] is False
    assert config["next_open_at"], config  # closed now: the server says when it opens
    opens = dt.datetime.fromisoformat(config["next_open_at"])
    assert opens.astimezone(ZoneInfo("Europe/Moscow")).strftime("%H:%M") == "09:00"

    w = widget(browser, srv, timezone_id="Europe/Moscow")
    w.goto().open()
    expect(w.page.get_by_test_id("widget-offline-form")).to_be_visible()
    expect(w.page.get_by_test_id("widget-offline-next-open")).to_have_text("Мы откроемся завтра в 09:00")
    w.page.context.close()

    w = widget(browser, srv, locale="en-US", timezone_id="Asia/Yekaterinburg")   # two hours ahead of Moscow
    w.goto().open()
    expect(w.page.get_by_test_id("widget-offline-next-open")).to_have_text("We open tomorrow at 11:00")
    w.page.context.close()

    # always open again: the line goes away
    r = boss.call("PUT", f"/api/v1/sites/{site_id}/hours", json={"hours": None})
    assert r.status_code == 200, r.text
    boss.set_status("offline")
    w = widget(browser, srv)
    w.goto().open()
    expect(w.page.get_by_test_id("widget-offline-form")).to_be_visible()
    expect(w.page.get_by_test_id("widget-offline-next-open")).to_be_hidden()
    w.page.context.close()


# --- 5b: long messages: a counter, and a refusal instead of a cut -------------------------------------

def num(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")  # 4 000, as ru writes it


def test_long_message_shows_a_counter_and_is_refused_not_cut(browser, srv, boss):
    limit = httpx.get(f"{srv.url}/api/v1/widget/config", params={"site": srv.demo["site_key"]}).json()[
        "max_message_chars"]
    w = widget(browser, srv)
    w.goto().open()
    counter = w.page.locator("#frontdesk-widget .cnt")
    too_long = w.page.get_by_test_id("widget-too-long")
    send = w.page.get_by_test_id("widget-send")

    w.input.fill("Привет")
    expect(counter).to_be_hidden()                                  # far from the limit: no counter
    # emoji: 2 UTF-16 units each, 1 character for the server; one over the limit
    w.input.fill("😀" * (limit + 1))
    expect(counter).to_be_visible()
    expect(counter).to_have_text(f"{num(limit + 1)} / {num(limit)}")
    expect(too_long).to_have_text(f"Слишком длинное сообщение: {num(limit + 1)} из {num(limit)} символов. "
                                  "Сократите его, чтобы отправить.")
    expect(send).to_be_disabled()
    w.input.press("Enter")                                          # refused: nothing sent, nothing cut
    expect(w.messages("visitor")).to_have_count(0)
    assert w.input.input_value() == "😀" * (limit + 1)

    w.input.press("End")
    w.input.press("Backspace")                                      # one character (a whole emoji) less
    expect(too_long).to_be_hidden()
    expect(counter).to_have_text(f"{num(limit)} / {num(limit)}")
    expect(send).to_be_enabled()
    w.input.press("Enter")
    w.wait_delivered(1)
    stored = history(boss, w.conversation_id())
    assert stored[-1]["text"] == "😀" * limit, "stored whole: the widget counts as the server does"
    assert w.errors == []
    w.page.context.close()
