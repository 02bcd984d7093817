"""Departments and the queue in a real Chromium: the widget on /demo/ offers the site's departments
before the first message; with automatic routing the first visitor of "Продажи" goes straight to its
only member (limit 1), the next two wait and see their place in the queue (a 390 px phone in Russian,
a desktop in English), and the places move live when the operator closes a chat."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.shots import shot
from tests.support import OperatorClient, ServerProcess, admin, make_operator

pytestmark = pytest.mark.e2e




@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    proc = ServerProcess(tmp_path_factory.mktemp("departments") / "data").start()
    yield proc
    proc.stop()


def _visitor(browser, srv, *, locale: str, phone: bool = False):
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 800}
    ctx = browser.new_context(viewport=viewport, locale=locale, is_mobile=phone, has_touch=phone,
                              device_scale_factor=2 if phone else 1)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(srv.url + "/demo/")
    page.get_by_test_id("widget-launcher").click()
    expect(page.get_by_test_id("widget-window")).to_be_visible()
    return page, errors


def _choose_and_write(page, department: str, text: str) -> None:
    choice = page.get_by_test_id("widget-department").filter(has_text=department)
    expect(choice).to_be_visible()
    choice.click()
    expect(choice).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id("widget-input").fill(text)
    page.get_by_test_id("widget-input").press("Enter")
    expect(page.get_by_test_id("widget-departments")).to_be_hidden()  # the choice is made before the first message


def test_the_visitor_chooses_a_department_and_sees_its_place_in_the_queue_move(browser, srv):
    boss = admin(srv)
    demo = srv.demo
    anna = OperatorClient(srv, demo["operator_email"], demo["operator_password"])
    boris = make_operator(srv, name="Борис")
    site_id = next(s["id"] for s in boss.call("GET", "/api/v1/sites").json()["sites"]
                   if s["site_key"] == demo["site_key"])
    sales = boss.call("POST", f"/api/v1/sites/{site_id}/departments",
                      json={"name": "Продажи", "members": [anna.operator["id"]]}).json()["department"]
    boss.call("POST", f"/api/v1/sites/{site_id}/departments", json={"name": "Поддержка",
                                                                    "members": [boris.operator["id"]]})
    assert boss.call("PUT", f"/api/v1/sites/{site_id}/routing",
                     json={"mode": "auto", "choose_department": True}).status_code == 200
    assert boss.call("PUT", f"/api/v1/operators/{anna.operator['id']}/chat-limit",
                     json={"chat_limit": 1}).status_code == 200
    anna.set_status("online")

    first, errors1 = _visitor(browser, srv, locale="ru-RU")
    expect(first.get_by_test_id("widget-department")).to_have_count(2)
    expect(first.get_by_test_id("widget-departments")).to_contain_text("Выберите отдел")
    shot(first, "widget-departments.png")
    _choose_and_write(first, "Продажи", "Хочу заказать диван")
    expect(first.get_by_test_id("widget-operator-name")).to_have_text("Анна")  # routed at once
    expect(first.get_by_test_id("queue-position")).to_be_hidden()

    phone, errors2 = _visitor(browser, srv, locale="ru-RU", phone=True)
    expect(phone.get_by_test_id("widget-department")).to_have_count(2)
    shot(phone, "widget-departments-phone.png")
    _choose_and_write(phone, "Продажи", "А доставка в Казань есть?")
    expect(phone.get_by_test_id("queue-position")).to_have_text("Вы в очереди: 1. Оператор скоро ответит.")
    shot(phone, "widget-queue-phone.png")

    desktop, errors3 = _visitor(browser, srv, locale="en-US")
    expect(desktop.get_by_test_id("widget-departments")).to_contain_text("Choose a department")
    _choose_and_write(desktop, "Продажи", "Do you ship to Riga?")
    expect(desktop.get_by_test_id("queue-position")).to_have_text(
        "You are number 2 in the queue. An operator will answer soon.")
    shot(desktop, "widget-queue.png")

    # every conversation carries the department
    convs = anna.call("GET", "/api/v1/conversations").json()["conversations"]
    assert len(convs) == 3 and {c["department_id"] for c in convs} == {sales["id"]}
    mine = [c for c in convs if c["assignee"] and c["assignee"]["id"] == anna.operator["id"]]
    assert len(mine) == 1

    # Анна closes her chat: the phone visitor is next (Анна, no queue line), the desktop one moves to 1
    assert anna.call("POST", f"/api/v1/conversations/{mine[0]['id']}/close").status_code == 200
    expect(phone.get_by_test_id("widget-operator-name")).to_have_text("Анна")
    expect(phone.get_by_test_id("queue-position")).to_be_hidden()
    expect(desktop.get_by_test_id("queue-position")).to_have_text(
        "You are number 1 in the queue. An operator will answer soon.")

    # a reload keeps the place (sent again right after welcome)
    desktop.reload()
    desktop.get_by_test_id("widget-launcher").click()
    expect(desktop.get_by_test_id("queue-position")).to_have_text(
        "You are number 1 in the queue. An operator will answer soon.")
    assert errors1 == errors2 == errors3 == []
    for page in (first, phone, desktop):
        page.context.close()
    for client in (boss, anna, boris):
        client.close()
