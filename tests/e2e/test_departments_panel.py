"""Departments in the panel, in a real Chromium: an admin creates a department on the Sites page,
picks its members, sets the routing and a chat limit; an operator then transfers a chat to that
department with a note: both online members get the offer, the first to accept has the chat, the
other's offer disappears, and the visitor sees the new operator without a reload."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.shots import shot
from tests.e2e.test_panel import close_page, open_panel, set_status
from tests.support import ServerProcess, admin, make_operator

pytestmark = pytest.mark.e2e

NOTE = "Просит рассрочку на диван — это к вам"




@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    proc = ServerProcess(tmp_path_factory.mktemp("departments-panel") / "data").start()
    yield proc
    proc.stop()


def test_admin_sets_up_a_department_and_a_chat_is_transferred_to_it(browser, srv):
    demo = srv.demo
    boris = make_operator(srv, name="Борис")
    vera = make_operator(srv, name="Вера")
    boss = admin(srv)
    site_id = next(s["id"] for s in boss.call("GET", "/api/v1/sites").json()["sites"]
                   if s["site_key"] == demo["site_key"])

    # the admin: Sites page → routing, chat limit, a department with two members
    a = open_panel(browser, srv, demo["admin_email"], demo["admin_password"], viewport={"width": 1280, "height": 900})
    a.goto(srv.url + "/panel/sites")
    editor = a.get_by_test_id("departments-editor")
    expect(editor.get_by_test_id("departments-empty")).to_be_visible()
    editor.get_by_test_id("department-new-name").fill("Рассрочка")
    editor.get_by_test_id("department-create").click()
    row = editor.get_by_test_id("department-row")
    expect(row).to_have_count(1)
    for op in (boris, vera):
        row.locator(f"[data-testid='department-member'][data-operator-id='{op.operator['id']}']").check()
    row.get_by_test_id("department-save").click()
    expect(row).to_contain_text("Сохранено")
    editor.get_by_test_id("routing-mode").select_option("auto")
    editor.get_by_test_id("routing-choose-department").check()
    editor.get_by_test_id("routing-save").click()
    expect(editor.get_by_test_id("routing-status")).to_have_text("Сохранено")
    limit = editor.locator(f"[data-testid='operator-chat-limit'][data-operator-id='{boris.operator['id']}']")
    limit.fill("3")
    limit.press("Tab")
    expect(a.get_by_text("Лимит для Борис: 3")).to_be_visible()
    editor.scroll_into_view_if_needed()
    shot(a, "departments.png", full=True)
    data = boss.call("GET", f"/api/v1/sites/{site_id}/departments").json()
    assert data["routing"] == {"mode": "auto", "choose_department": True}
    dep = data["departments"][0]
    assert dep["name"] == "Рассрочка" and dep["members"] == sorted([boris.operator["id"], vera.operator["id"]])
    limits = {o["id"]: o["chat_limit"] for o in boss.call("GET", "/api/v1/chat-limits").json()["operators"]}
    assert limits[boris.operator["id"]] == 3
    # back to manual routing, so that Анна takes the chat by hand below
    assert boss.call("PUT", f"/api/v1/sites/{site_id}/routing", json={"mode": "manual"}).status_code == 200
    close_page(a)

    anna = open_panel(browser, srv, demo["operator_email"], demo["operator_password"])
    b = open_panel(browser, srv, boris.operator["email"], "correct horse battery")
    v = open_panel(browser, srv, vera.operator["email"], "correct horse battery")
    for page in (anna, b, v):
        set_status(page, "online")

    shop = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU").new_page()
    shop.goto(srv.url + "/demo/")
    shop.get_by_test_id("widget-launcher").click()
    shop.get_by_test_id("widget-input").fill("Можно купить диван в рассрочку?")
    shop.get_by_test_id("widget-input").press("Enter")
    item = anna.get_by_test_id("conversation-item")
    expect(item).to_have_count(1)
    item.click()
    anna.get_by_test_id("conversation-take").click()
    expect(shop.get_by_test_id("widget-operator-name")).to_have_text("Анна")

    anna.get_by_test_id("conversation-transfer").click()
    target = anna.locator(f"[data-testid='transfer-target'][data-target='department-{dep['id']}']")
    expect(target).to_contain_text("Рассрочка")
    expect(target).to_contain_text("в сети: 2")
    target.click()
    anna.get_by_test_id("transfer-note").fill(NOTE)
    shot(anna, "transfer-department.png")
    anna.get_by_test_id("transfer-submit").click()
    expect(anna.get_by_test_id("transfer-dialog")).to_have_count(0)

    for page in (b, v):
        expect(page.get_by_test_id("transfer-offer")).to_contain_text(NOTE)
    v.get_by_test_id("transfer-offer").get_by_test_id("transfer-accept").click()
    expect(v.get_by_test_id("dialog-state")).to_contain_text("Ваш диалог")
    expect(v.get_by_test_id("conversation-department")).to_have_text(" · Рассрочка")  # the chat carries it now
    expect(b.get_by_test_id("transfer-offer")).to_have_count(0)  # a colleague took it first
    expect(shop.get_by_test_id("widget-operator-name")).to_have_text("Вера")
    assert NOTE not in shop.content()
    shop.context.close()
    for page in (anna, b, v):
        close_page(page)
    boss.close()
