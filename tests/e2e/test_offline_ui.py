"""Offline mode and e-mail in the browser (issue 6): the widget's offline form, the "operator has
left" notice, the contacts form under the holding message, and the panel's offline badge, e-mail
delivery state and working-hours editor.

One `frontdesk serve --demo` for the module, sending e-mail to a real SMTP server (aiosmtpd) the
module starts, with a test clock file (the holding message comes after a clock jump, not a sleep).
Tests that need an operator online use a site of their own (``Shop``), so the demo site stays
"nobody online" for the tests that need that; each visitor is a fresh browser context.
"""
from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import CustomerSite, WidgetPage
from tests.e2e.nav import nav_click
from tests.e2e.test_panel import close_page, conversation_item, open_panel, set_status
from tests.mail.conftest import ClockFile, SmtpSink, mail_env
from tests.support import ServerProcess, admin, make_site, wait_until

pytestmark = pytest.mark.e2e

NO_REPLY_SECONDS = 60          # the server's default; the test clock jumps past it
DEMO_NOTIFY = "owner@demo.frontdesk"
MAIL_WAIT = 20_000             # ms: e-mail goes out within a second here; the panel polls every few seconds


# --- helpers ---------------------------------------------------------------------------------------

class Shop:
    """A site of its own with one (non-admin) operator: its availability is this test's business."""

    def __init__(self, server: ServerProcess, notify: list[str] | None = None) -> None:
        self.password = "correct horse battery"
        self.email = f"op-{uuid.uuid4().hex[:8]}@example.com"
        site = make_site(server, f"Магазин {uuid.uuid4().hex[:4]}", notify_emails=notify or [])
        self.site_key, self.site_id, self.name = site["site_key"], site["id"], site["name"]
        a = admin(server)
        try:
            r = a.call("POST", "/api/v1/operators", json={"email": self.email, "name": "Олег", "password": self.password,
                                                          "site_ids": [self.site_id]})
            assert r.status_code == 201, r.text
        finally:
            a.close()


def widget_on(browser, server: ServerProcess, url: str) -> WidgetPage:
    ctx = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(15_000)
    return WidgetPage(ctx.new_page(), server).goto(url)


def fill_offline_form(w: WidgetPage, name: str, email: str, message: str) -> None:
    w.page.get_by_test_id("widget-offline-name").fill(name)
    w.page.get_by_test_id("widget-offline-email").fill(email)
    w.page.get_by_test_id("widget-offline-message").fill(message)
    w.page.get_by_test_id("widget-offline-submit").click()


def wait_mail(sink: SmtpSink, to: str, containing: str, timeout: float = 20) -> object:
    """The e-mail to ``to`` whose plain-text body contains ``containing``."""
    def found():
        return next((r for r in sink.to(to) if containing in r.text()), None)
    return wait_until(found, timeout, what=f"an e-mail to {to} with {containing!r}")


def email_state(page: Page, kind: str):
    return page.locator(f"[data-testid='email-state'][data-kind='{kind}']")


def login_via(browser, server: ServerProcess, url: str, email: str, password: str) -> Page:
    """Follow a link into the panel as a signed-out operator: login page, then the page linked."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU")
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
    page.goto(url)
    page.wait_for_url(re.compile(r"/panel/login"))
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    page.wait_for_selector("body[data-connection='open']", timeout=30_000)
    return page


def site_operator_status(server: ServerProcess, shop: Shop, status: str) -> None:
    from tests.support import OperatorClient

    op = OperatorClient(server, shop.email, shop.password)
    try:
        op.set_status(status)
    finally:
        op.close()


# --- fixtures -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sink():
    s = SmtpSink().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def clock(tmp_path_factory):
    return ClockFile(tmp_path_factory.mktemp("offline-clock") / "clock")


@pytest.fixture(scope="module")
def srv(tmp_path_factory, sink, clock):
    env = mail_env(sink.url, clock.path, FRONTDESK_MAIL_MAX_ATTEMPTS="3",
                   FRONTDESK_NO_REPLY_SECONDS=str(NO_REPLY_SECONDS))
    proc = ServerProcess(tmp_path_factory.mktemp("offline-ui") / "data", env=env).start()
    yield proc
    proc.stop()


# --- tests ------------------------------------------------------------------------------------------

def test_offline_form_on_the_demo_page_reaches_the_panel_and_the_mailbox(browser, srv, sink):
    """Nobody online: the demo page offers the offline form; bad input and server trouble are shown in
    the form and send nothing (a retry reuses the client_id); the message becomes a conversation the
    operator opens from the notification e-mail's link, marked offline, with its e-mail state."""
    demo = srv.demo
    w = widget_on(browser, srv, "/demo/")
    page = w.page
    posts: list[dict] = []
    page.on("request", lambda r: posts.append(r.post_data_json)
            if "/api/v1/widget/offline" in r.url and r.method == "POST" else None)

    # the launcher says so before anything is opened: grey dot, another label
    expect(w.launcher).to_be_visible()
    assert not w.launcher.evaluate("e => e.closest('.fd').classList.contains('on')")
    expect(page.locator("#frontdesk-widget .lb")).to_have_text("Оставьте нам сообщение")
    w.open()
    form = page.get_by_test_id("widget-offline-form")
    expect(form).to_be_visible()
    expect(w.input).to_be_hidden()                                   # instead of the live chat
    expect(page.locator("#frontdesk-widget .rl")).to_have_text("Сейчас нас нет в сети")
    expect(form).to_contain_text("Оставьте сообщение — мы ответим на e‑mail.")

    # bad input: calm errors next to the fields, nothing sent
    page.get_by_test_id("widget-offline-name").fill("Иван Петров")
    page.get_by_test_id("widget-offline-email").fill("ivan@example")
    page.get_by_test_id("widget-offline-submit").click()
    expect(form).to_contain_text("Проверьте e\u2011mail: например, name@example.com")
    expect(form).to_contain_text("Напишите сообщение")
    expect(page.get_by_test_id("widget-offline-email")).to_have_attribute("aria-invalid", "true")
    assert posts == []

    text = "Здравствуйте! Нужен счёт для юрлица на 3 пледа."
    page.get_by_test_id("widget-offline-email").fill("ivan@example.com")
    page.get_by_test_id("widget-offline-message").fill(text)
    expect(form).not_to_contain_text("Проверьте e\u2011mail")             # errors go as the visitor types

    # the server refuses (rate limit): said in the form, what was typed stays
    page.route("**/api/v1/widget/offline*", lambda route: route.fulfill(
        status=429, json={"error": {"code": "rate_limited", "message": "too many"}}))
    page.get_by_test_id("widget-offline-submit").click()
    error = page.get_by_test_id("widget-offline-error")
    expect(error).to_have_text("Слишком много сообщений подряд. Попробуйте позже.")
    # the network fails: said too; nothing lost
    page.unroute("**/api/v1/widget/offline*")
    page.route("**/api/v1/widget/offline*", lambda route: route.abort())
    page.get_by_test_id("widget-offline-submit").click()
    expect(error).to_contain_text("нет связи")
    expect(page.get_by_test_id("widget-offline-message")).to_have_value(text)
    expect(page.get_by_test_id("widget-offline-email")).to_have_value("ivan@example.com")
    page.unroute("**/api/v1/widget/offline*")
    op = admin(srv)
    assert op.http.get("/api/v1/conversations").json()["conversations"] == []   # nothing stored so far
    assert sink.to(DEMO_NOTIFY) == []

    # and again: stored, thanked
    page.get_by_test_id("widget-offline-submit").click()
    thanks = page.get_by_test_id("widget-offline-thanks")
    expect(thanks).to_contain_text("Спасибо!")
    expect(thanks).to_contain_text("Мы ответим на e\u2011mail ivan@example.com")
    assert len(posts) == 3 and len({p["client_id"] for p in posts}) == 1   # one message, however many tries
    assert posts[0]["name"] == "Иван Петров" and posts[0]["message"] == text
    token = w.storage("token")
    assert token and re.fullmatch(r"[0-9a-f]{64}", token)

    # back in the chat: the message is there, and the notice says where the answer goes
    page.get_by_test_id("widget-offline-done").click()
    expect(w.messages("visitor")).to_have_count(1)
    expect(w.messages("visitor").locator(".bub")).to_have_text(text)
    expect(page.get_by_test_id("widget-offline-notice")).to_contain_text("Мы ответим на e\u2011mail ivan@example.com")
    cid = w.conversation_id()

    # the notification e-mail, with a link into the panel
    mail = wait_mail(sink, DEMO_NOTIFY, text)
    assert mail.message["Subject"] == "Сообщение с сайта «Уютный дом» от Иван Петров"
    link = re.search(r"http://\S+/panel/#/conversations/(\d+)", mail.text())
    assert link and int(link.group(1)) == cid
    assert len(sink.to(DEMO_NOTIFY)) == 1

    # the operator follows it: login, then that conversation, marked offline, e-mail state shown
    panel = login_via(browser, srv, link.group(0), demo["operator_email"], demo["operator_password"])
    expect(panel.get_by_test_id("dialog-title")).to_have_text("Иван Петров")
    expect(panel.locator(".dialog-head [data-testid='offline-badge']")).to_have_text("офлайн")
    expect(conversation_item(panel, cid).get_by_test_id("offline-badge")).to_be_visible()
    expect(panel.locator("[data-testid='chat-message'][data-seq='1']")).to_contain_text(text)
    expect(panel.get_by_test_id("visitor-field-email")).to_have_text("ivan@example.com")
    expect(panel.get_by_test_id("visitor-field-name")).to_have_text("Иван Петров")
    expect(panel.get_by_test_id("email-status")).to_contain_text("ответы уходят и на e-mail ivan@example.com")
    notify = email_state(panel, "offline_notify")
    expect(notify).to_have_attribute("data-state", "sent", timeout=MAIL_WAIT)
    expect(notify).to_contain_text(f"{DEMO_NOTIFY} — письмо отправлено")
    assert len(op.http.get("/api/v1/conversations").json()["conversations"]) == 1
    op.close()
    assert w.errors == []
    w.page.context.close()
    close_page(panel)


def test_the_reply_is_emailed_and_waits_in_the_widget_for_the_visitors_return(browser, srv, sink):
    demo = srv.demo
    w = widget_on(browser, srv, "/demo/catalog.html").open()
    question = "Добрый вечер! Подушка «Лаванда» бывает 70×70?"
    fill_offline_form(w, "Мария", "maria@example.com", question)
    expect(w.page.get_by_test_id("widget-offline-thanks")).to_be_visible()
    w.page.get_by_test_id("widget-offline-done").click()
    cid = w.conversation_id()
    w.page.close()                                                       # the visitor leaves the site
    wait_mail(sink, DEMO_NOTIFY, question)

    panel = open_panel(browser, srv, demo["operator_email"], demo["operator_password"])
    item = conversation_item(panel, cid)
    expect(item.get_by_test_id("offline-badge")).to_be_visible()
    item.click()
    answer = "Здравствуйте, Мария! Да, 70×70 есть в наличии."
    panel.get_by_test_id("chat-input").fill(answer)
    panel.get_by_test_id("chat-send").click()
    reply = email_state(panel, "operator_reply")
    expect(reply).to_have_attribute("data-state", "sent", timeout=MAIL_WAIT)
    expect(reply).to_contain_text("maria@example.com — письмо отправлено")
    expect(panel.locator("[data-testid='chat-message'][data-author='operator']")
           .get_by_test_id("email-state")).to_have_count(1)              # shown under the reply it carries
    mail = wait_mail(sink, "maria@example.com", answer)
    assert question in mail.text()                                       # the question is quoted

    # the visitor comes back later: the answer is in the widget (and counted as unread)
    back = WidgetPage(w.page.context.new_page(), srv).goto("/demo/")
    expect(back.launcher.locator(".bd")).to_have_text("1")
    back.open()
    expect(back.messages("operator").locator(".bub")).to_have_text(answer)
    expect(back.messages("visitor").locator(".bub")).to_have_text(question)
    expect(back.page.get_by_test_id("widget-offline-form")).to_be_hidden()  # an open conversation: the chat
    expect(back.page.get_by_test_id("widget-offline-notice")).to_contain_text("maria@example.com")
    assert back.errors == [] and w.errors == []
    back.page.context.close()
    close_page(panel)


def test_a_live_visitor_is_told_when_the_operator_leaves_and_the_form_continues_the_conversation(browser, srv, sink):
    shop = Shop(srv, notify=["sales@shop.example"])
    panel = open_panel(browser, srv, shop.email, shop.password)
    set_status(panel, "online")
    with CustomerSite(srv, shop.site_key) as site:          # the customer's own origin: the form POSTs cross-origin
        w = widget_on(browser, srv, site.url + "/catalog")
        w.open()
        expect(w.input).to_be_visible()
        w.send("Хочу заказать три пледа")
        w.wait_delivered(1)
        cid = w.conversation_id()
        conversation_item(panel, cid).click()
        panel.get_by_test_id("chat-input").fill("Сейчас проверю склад")
        panel.get_by_test_id("chat-send").click()
        expect(w.messages("operator")).to_have_count(1)
        notice = w.page.get_by_test_id("widget-offline-notice")
        expect(notice).to_be_hidden()

        set_status(panel, "away")                             # the operator steps away
        expect(notice).to_contain_text("Оператор отошёл. Оставьте e\u2011mail — ответим на почту")
        expect(w.input).to_be_visible()                       # still the chat: the conversation goes on
        w.page.get_by_test_id("widget-offline-open").click()
        expect(w.page.get_by_test_id("widget-offline-form")).to_be_visible()
        text = "Пришлите, пожалуйста, счёт на почту"
        fill_offline_form(w, "Пётр", "petr@example.com", text)
        expect(w.page.get_by_test_id("widget-offline-thanks")).to_contain_text("petr@example.com")
        w.page.get_by_test_id("widget-offline-done").click()
        expect(w.messages("visitor", conversation_id=str(cid))).to_have_count(2)   # the same conversation
        expect(w.messages("visitor").last.locator(".bub")).to_have_text(text)
        expect(notice).to_contain_text("Мы ответим на e\u2011mail petr@example.com")

        # the panel: the conversation became offline, with the visitor's name and e-mail
        expect(panel.locator("[data-testid='chat-message'][data-author='visitor']").last).to_contain_text(text)
        expect(panel.locator(".dialog-head [data-testid='offline-badge']")).to_be_visible()
        expect(panel.get_by_test_id("visitor-field-email")).to_have_text("petr@example.com")
        expect(panel.get_by_test_id("dialog-title")).to_have_text("Пётр")
        wait_mail(sink, "sales@shop.example", text)
        assert w.errors == []
        w.page.context.close()
    close_page(panel)


def test_the_holding_message_asks_for_contacts_and_the_visitor_card_shows_them(browser, srv, clock):
    shop = Shop(srv)
    site_operator_status(srv, shop, "online")
    with CustomerSite(srv, shop.site_key) as site:
        w = widget_on(browser, srv, site.url + "/cart")
        w.open()
        w.send("Есть ли доставка в Казань?")
        w.wait_delivered(1)
        cid = w.conversation_id()
        clock.advance(NO_REPLY_SECONDS + 10)                 # nobody answered for over a minute
        holding = w.messages("system", client_id=f"ask_contacts:{cid}")
        expect(holding).to_contain_text("Оставьте, пожалуйста, e\u2011mail или телефон")
        contacts = w.page.get_by_test_id("widget-contacts-form")
        expect(contacts).to_be_visible()

        submit = w.page.get_by_test_id("widget-contacts-submit")
        submit.click()                                        # nothing given
        expect(w.page.get_by_test_id("widget-contacts-error")).to_have_text("Укажите e\u2011mail или телефон")
        w.page.get_by_test_id("widget-contacts-phone").fill("12")
        submit.click()
        expect(contacts).to_contain_text("Проверьте телефон")
        w.page.get_by_test_id("widget-contacts-phone").fill("+7 912 345-67-89")
        w.page.get_by_test_id("widget-contacts-email").fill("maria@example.com")
        w.page.get_by_test_id("widget-contacts-name").fill("Мария")
        submit.click()
        expect(w.page.get_by_test_id("widget-contacts-saved")).to_contain_text(
            "Спасибо! Мы свяжемся с вами: maria@example.com, +7 912 345-67-89")
        expect(contacts).to_have_count(0)

        panel = open_panel(browser, srv, shop.email, shop.password)
        conversation_item(panel, cid).click()
        expect(panel.get_by_test_id("visitor-field-email")).to_have_text("maria@example.com")
        expect(panel.get_by_test_id("visitor-field-phone")).to_have_text("+7 912 345-67-89")
        expect(panel.get_by_test_id("visitor-field-name")).to_have_text("Мария")
        # an e-mail left while waiting: the reply will be e-mailed, so the conversation is offline now
        expect(panel.locator(".dialog-head [data-testid='offline-badge']")).to_be_visible()
        expect(panel.locator("[data-testid='chat-message'][data-author='system']")).to_contain_text("Спасибо за ваше сообщение")

        # the operator closes it and leaves; the visitor comes back: the form, already filled in
        panel.get_by_test_id("conversation-close").click()
        expect(panel.get_by_test_id("dialog-state")).to_contain_text("Диалог закрыт")
        set_status(panel, "offline")
        offline_form = w.page.get_by_test_id("widget-offline-form")
        expect(offline_form).to_be_visible()
        expect(w.page.get_by_test_id("widget-offline-name")).to_have_value("Мария")
        expect(w.page.get_by_test_id("widget-offline-email")).to_have_value("maria@example.com")

        # back online, a new question nobody answers: contacts are known, so the holding message is just text
        set_status(panel, "online")
        expect(w.input).to_be_visible()
        w.send("И ещё: можно оплатить картой?")
        expect(w.messages("visitor", state="delivered")).to_have_count(2)
        cid2 = w.messages("visitor").last.get_attribute("data-conversation-id")
        assert cid2 and int(cid2) != cid
        clock.advance(NO_REPLY_SECONDS + 10)
        expect(w.messages("system", client_id=f"hold:{cid2}")).to_contain_text("Оператор скоро ответит")  # the site's operator is online
        expect(w.page.get_by_test_id("widget-contacts-form")).to_have_count(0)
        assert w.errors == []
        w.page.context.close()
        close_page(panel)


def test_failed_email_is_shown_in_the_panel_and_sent_after_smtp_is_back(browser, srv, sink):
    shop = Shop(srv, notify=["sales@shop.example"])
    sink.stop()                                               # SMTP down
    try:
        r = httpx.post(f"{srv.url}/api/v1/widget/offline", params={"site": shop.site_key}, json={
            "name": "Анна", "email": "anna@example.com", "message": "Когда будет поставка ваз?"})
        assert r.status_code == 201, r.text
        cid = r.json()["conversation_id"]
        panel = open_panel(browser, srv, shop.email, shop.password)
        conversation_item(panel, cid).click()
        notify = email_state(panel, "offline_notify")
        expect(notify).to_have_attribute("data-state", "failed", timeout=MAIL_WAIT)   # 3 attempts, all refused
        expect(notify).to_contain_text("sales@shop.example — ошибка отправки:")
        expect(panel.get_by_test_id("email-status")).to_contain_text("Не отправлено писем: 1")
        retry = notify.get_by_test_id("email-retry")
        expect(retry).to_have_text("Повторить")
    finally:
        sink.start()                                          # SMTP back, same port
    retry.click()
    expect(notify).to_have_attribute("data-state", "sent", timeout=MAIL_WAIT)
    expect(notify).to_contain_text("письмо отправлено")
    expect(panel.get_by_test_id("email-status")).not_to_contain_text("Не отправлено")
    wait_mail(sink, "sales@shop.example", "Когда будет поставка ваз?")
    close_page(panel)


def test_without_smtp_the_panel_says_email_is_not_configured(browser, sqlite_server):
    demo = sqlite_server.demo
    r = httpx.post(f"{sqlite_server.url}/api/v1/widget/offline", params={"site": demo["site_key"]}, json={
        "name": "Глеб", "email": "gleb@example.com", "message": "Есть ли самовывоз?"})
    assert r.status_code == 201, r.text
    panel = open_panel(browser, sqlite_server, demo["operator_email"], demo["operator_password"])
    conversation_item(panel, r.json()["conversation_id"]).click()
    expect(panel.get_by_test_id("smtp-off")).to_contain_text("E-mail не настроен")
    notify = email_state(panel, "offline_notify")
    expect(notify).to_have_attribute("data-state", "waiting_for_configuration")
    expect(notify).to_contain_text("в очереди: e-mail не настроен")
    close_page(panel)


def test_working_hours_editor_saves_hours_and_shows_what_the_server_refuses(browser, srv):
    shop = Shop(srv)
    site_operator_status(srv, shop, "online")
    demo = srv.demo
    panel = open_panel(browser, srv, demo["admin_email"], demo["admin_password"])
    nav_click(panel, "nav-sites")
    panel.get_by_test_id("site-item").filter(has_text=shop.name).click()
    editor = panel.get_by_test_id("hours-editor")
    always = editor.get_by_test_id("hours-always")
    expect(always).to_be_checked()                            # no hours yet: 24×7
    expect(editor.get_by_test_id("hours-now")).to_contain_text("рабочее время, операторы в сети")
    always.uncheck()
    expect(editor.get_by_test_id("hours-day")).to_have_count(7)
    expect(editor.locator("[data-day='mon'] [data-testid='hours-start']")).to_have_value("09:00")

    status = editor.get_by_test_id("hours-status")
    editor.locator("[data-day='mon'] [data-testid='hours-end']").fill("25:00")
    editor.get_by_test_id("hours-save").click()
    expect(status).to_have_text("Понедельник: время пишется как ЧЧ:ММ, от 00:00 до 24:00 — «25:00» не подходит.")
    editor.locator("[data-day='mon'] [data-testid='hours-end']").fill("18:00")
    editor.get_by_test_id("hours-timezone").fill("Mars/Olympus_Mons")
    editor.get_by_test_id("hours-save").click()
    expect(status).to_contain_text("Сервер не принял график:")           # the 422, as the server words it
    expect(status).to_contain_text("Mars/Olympus_Mons")

    # closed every day: outside working hours whatever the clock says
    editor.get_by_test_id("hours-timezone").fill("Europe/Moscow")
    while editor.get_by_test_id("hours-remove").count():
        editor.get_by_test_id("hours-remove").first.click()
    expect(editor.get_by_test_id("hours-add")).to_have_count(7)
    editor.get_by_test_id("hours-save").click()
    expect(status).to_have_text("График сохранён")
    expect(editor.get_by_test_id("hours-now")).to_contain_text("вне графика работы")
    a = admin(srv)
    hours = a.http.get(f"/api/v1/sites/{shop.site_id}/hours").json()
    a.close()
    assert hours["hours"] == {"timezone": "Europe/Moscow", "days": {}}
    assert hours["availability"] == {"operators_online": True, "within_hours": False, "available": False,
                                     "next_open_at": None}  # closed every day: it never opens

    # the site's visitors get the offline form although its operator is online
    with CustomerSite(srv, shop.site_key) as site:
        w = widget_on(browser, srv, site.url + "/")
        w.open()
        expect(w.page.get_by_test_id("widget-offline-form")).to_be_visible()
        w.page.context.close()

    # and back to 24×7
    always.check()
    editor.get_by_test_id("hours-save").click()
    expect(status).to_have_text("График сохранён")
    expect(editor.get_by_test_id("hours-now")).to_contain_text("рабочее время, операторы в сети")
    close_page(panel)
