"""The quality coach, the operator rating, the hour-of-week map, transcripts and export in a real
Chromium against a real server: a chat is closed, the background coach scores it, the operator sees
the score and every criterion in the dialog and History, e-mails the transcript, and the reports page
shows the week's figures. Screenshots in docs/img/ (desktop and a 390 px phone)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.nav import nav_click
from tests.e2e.shots import shot
from tests.e2e.test_panel import close_page, open_panel, set_status
from tests.e2e.test_ratings_reports import _past_week
from tests.mail.conftest import ClockFile
from tests.support import OperatorClient, ServerProcess

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    base = tmp_path_factory.mktemp("quality")
    clock = ClockFile(base / "clock")
    proc = ServerProcess(base / "data", env={"FRONTDESK_TEST_CLOCK_FILE": str(clock.path),
                                             "FRONTDESK_OFFLINE_GRACE": "3600",
                                             "FRONTDESK_QUALITY_INTERVAL": "0.5"}).start()
    proc.clock = clock
    yield proc
    proc.stop()


def test_the_coach_scores_a_closed_chat_and_the_reports_show_the_week(browser, srv):
    demo = srv.demo
    op = OperatorClient(srv, demo["operator_email"], demo["operator_password"])
    _past_week(srv, op)

    page = open_panel(browser, srv, demo["operator_email"], demo["operator_password"])
    set_status(page, "online")
    shop = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU").new_page()
    shop.goto(srv.url + "/demo/")
    shop.get_by_test_id("widget-launcher").click()
    shop.get_by_test_id("widget-input").fill("Здравствуйте! Сколько стоит доставка в Казань?")
    shop.get_by_test_id("widget-input").press("Enter")
    item = page.locator("[data-testid='conversation-item'][data-state='waiting']")
    expect(item).to_have_count(1)
    cid = int(item.get_attribute("data-conversation-id"))
    item.click()
    page.get_by_test_id("chat-input").fill("Добрый день! Доставка в Казань — 300 рублей, 2–3 дня.")
    page.get_by_test_id("chat-send").click()
    expect(shop.locator("[data-testid='widget-message'][data-author='operator']")).to_have_count(1)
    shop.get_by_test_id("widget-input").fill("Понятно, спасибо")
    shop.get_by_test_id("widget-input").press("Enter")
    expect(page.locator("[data-testid='chat-message'][data-author='visitor']")).to_have_count(2)
    page.get_by_test_id("chat-input").fill("Пожалуйста! Всего доброго!")
    page.get_by_test_id("chat-send").click()
    expect(page.locator("[data-testid='chat-message'][data-author='operator']")).to_have_count(2)
    page.get_by_test_id("conversation-close").click()

    # the background coach scores it; the dialog shows the score and every criterion
    score = page.get_by_test_id("quality-score")
    expect(score).to_have_attribute("data-score", "100", timeout=30_000)
    expect(score).to_have_text("100 из 100")
    page.get_by_test_id("quality-toggle").click()
    criteria = page.get_by_test_id("quality-criterion")
    expect(criteria).to_have_count(6)
    for cid_ in ("greeting", "first_reply", "questions_answered", "no_long_silence", "polite_closing"):
        expect(page.locator(f"[data-testid='quality-criterion'][data-criterion='{cid_}']")).to_have_attribute(
            "data-passed", "true")
    expect(page.locator("[data-testid='quality-criterion'][data-criterion='questions_answered']")).to_contain_text(
        "вопросов: 1")
    shot(page, "quality-dialog.png")

    # the transcript by e-mail: the visitor left no address, the operator types the one given in the chat
    page.get_by_test_id("transcript-send").click()
    expect(page.get_by_test_id("toast").last).to_contain_text("e-mail")
    page.get_by_test_id("transcript-email").fill("guest@example.com")
    page.get_by_test_id("transcript-send").click()
    expect(page.get_by_test_id("toast").last).to_contain_text("guest@example.com")
    emails = op.call("GET", f"/api/v1/outbox?conversation_id={cid}").json()["emails"]
    assert [e["to"] if "to" in e else e.get("to_addr") for e in emails] == ["guest@example.com"]

    # History shows the score too
    nav_click(page, "nav-history")
    row = page.locator(f"[data-testid='history-item'][data-conversation-id='{cid}']")
    expect(row.get_by_test_id("history-quality")).to_have_attribute("data-score", "100")

    # the reports page: hour-of-week map, operator rating with its formula, the coach, export
    nav_click(page, "nav-reports")
    page.locator("[data-testid='report-preset'][data-days='7']").click()
    week_ago = (datetime.now().date() - timedelta(days=6)).isoformat()
    expect(page.get_by_test_id("report-period")).to_have_attribute("data-from", week_ago)
    heat = page.locator("[data-testid='report-chart'][data-report='hour_of_week']")
    expect(heat.get_by_test_id("report-hour")).to_have_count(7 * 24)
    total = sum(int(c.get_attribute("data-value")) for c in heat.get_by_test_id("report-hour").all())
    conversations = page.locator("[data-testid='report-value'][data-metric='conversations']")
    assert total == int(conversations.get_attribute("data-value")) == 15   # 14 of the past week in it, and today's
    rating = page.get_by_test_id("report-operator-rating").first
    expect(rating).to_have_attribute("data-value", re.compile(r"^\d+$"))
    page.get_by_test_id("rating-formula").locator("summary").click()
    expect(page.get_by_test_id("rating-formula")).to_contain_text("30 % скорости")
    expect(page.locator("[data-testid='report-value'][data-metric='quality_score_avg']")).to_have_attribute(
        "data-value", re.compile(r"^\d+(\.\d)?$"))
    expect(page.get_by_test_id("quality-best").get_by_test_id("quality-example").first).to_be_visible()
    export = page.locator("[data-testid='report-export'][data-format='jsonl']")
    href = export.get_attribute("href")
    assert re.search(r"/api/v1/export/\d+\?from=.*&format=jsonl$", href)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    lines = httpx.get(srv.url + href, cookies=cookies).text.splitlines()
    assert len(lines) == 15 and any(f'"id": {cid},' in line for line in lines)
    expect(page.get_by_test_id("toast")).to_have_count(0, timeout=20_000)
    page.set_viewport_size({"width": 1280, "height": 1100})
    heat.evaluate("e => e.closest('section').previousElementSibling.scrollIntoView({block: 'start'})")
    shot(page, "reports-quality.png")
    assert page.errors == []  # type: ignore[attr-defined]
    shop.context.close()
    close_page(page)

    # a 390 px phone: the closed dialog's score, and the reports page
    phone = open_panel(browser, srv, demo["operator_email"], demo["operator_password"], viewport=PHONE)
    phone.goto(f"{srv.url}/panel/#/conversations/{cid}")
    expect(phone.get_by_test_id("quality-score")).to_have_attribute("data-score", "100")
    phone.get_by_test_id("quality-toggle").click()
    expect(phone.get_by_test_id("quality-criterion")).to_have_count(6)
    shot(phone, "quality-dialog-phone.png")
    phone.goto(f"{srv.url}/panel/reports")
    phone_heat = phone.locator("[data-testid='report-chart'][data-report='hour_of_week']")
    expect(phone_heat).to_be_visible()
    phone_heat.evaluate("e => e.closest('section').scrollIntoView({block: 'start'})")
    shot(phone, "reports-quality-phone.png")
    assert phone.errors == []  # type: ignore[attr-defined]
    close_page(phone)
    op.close()


def test_an_admin_edits_the_coach_weights_of_a_site(browser, srv):
    demo = srv.demo
    page = open_panel(browser, srv, demo["admin_email"], demo["admin_password"])
    page.goto(srv.url + "/panel/sites")
    form = page.get_by_test_id("quality-settings")
    weight = form.locator("[data-testid='quality-weight'][data-criterion='greeting']")
    expect(weight).to_have_value("1")
    weight.fill("0")
    form.get_by_test_id("quality-first-reply").fill("90")
    form.get_by_test_id("quality-settings-save").click()
    expect(form.get_by_test_id("quality-settings-status")).to_have_text("Сохранено")
    admin = OperatorClient(srv, demo["admin_email"], demo["admin_password"])
    site_id = next(s["id"] for s in admin.call("GET", "/api/v1/sites").json()["sites"]
                   if s["site_key"] == demo["site_key"])
    saved = admin.call("GET", f"/api/v1/quality/{site_id}/settings").json()["settings"]
    assert saved["weights"]["greeting"] == 0 and saved["first_reply_seconds"] == 90
    admin.close()
    close_page(page)
