"""Reconnect and resume (docs/protocol.md § Delivery guarantees) as an operator sees it:
after a network cut or a server crash the panel shows every message that arrived
meanwhile, sends what was written meanwhile, and shows nothing twice."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.e2e.test_panel import (
    Desk,
    close_page,
    conversation_item,
    open_panel,
    seqs,
    set_status,
    texts,
    wait_connected,
)

pytestmark = pytest.mark.e2e


class SwitchableNetwork:
    """Sits between the panel and /ws/operator: passes frames through, or cuts every
    connection and refuses new ones — a network cut the panel cannot tell from a real one."""

    def __init__(self, page: Page) -> None:
        self.down = False
        self.live: list[tuple[WebSocketRoute, WebSocketRoute]] = []
        page.route_web_socket(re.compile(r"/ws/operator$"), self._connect)

    def _connect(self, route: WebSocketRoute) -> None:
        if self.down:
            route.close(code=4000, reason="network down")
            return
        self.live.append((route, route.connect_to_server()))

    def cut(self) -> None:
        self.down = True
        for page_side, server_side in self.live:
            page_side.close(code=4000, reason="network down")
            server_side.close(code=1001, reason="network down")
        self.live.clear()

    def restore(self) -> None:
        self.down = False


def banner(page: Page):
    return page.get_by_test_id("connection-banner")


def test_network_cut_the_panel_catches_up_and_sends_what_was_written_meanwhile(browser, sqlite_server):
    srv = sqlite_server
    desk = Desk(srv, "Связист")
    network: list[SwitchableNetwork] = []
    page = open_panel(browser, srv, desk.email, desk.password, setup=lambda p: network.append(SwitchableNetwork(p)))
    net = network[0]
    set_status(page, "online")
    visitor = desk.visitor(srv)
    cid = visitor.say("1: здравствуйте")["conversation_id"]
    conversation_item(page, cid).click()
    page.get_by_test_id("chat-input").fill("2: добрый день")
    page.keyboard.press("Enter")
    visitor.wait_text("2: добрый день")
    expect(page.locator("[data-testid='chat-message']")).to_have_count(2)

    net.cut()
    expect(banner(page)).to_have_text("Переподключение…")
    visitor.say("3: вы тут?")
    visitor.say("4: алло")
    page.get_by_test_id("chat-input").fill("5: да, связь пропадала")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("chat-message-pending")).to_contain_text("5: да, связь пропадала")
    # a visitor who connects meanwhile (new chat) must show up too
    late = desk.visitor(srv)
    late_cid = late.say("Новый посетитель, пока вас не было")["conversation_id"]

    net.restore()
    wait_connected(page)
    expect(banner(page)).to_be_hidden()
    expect(page.locator("[data-testid='chat-message']")).to_have_count(5)
    expect(page.get_by_test_id("chat-message-pending")).to_have_count(0)
    assert seqs(page) == [1, 2, 3, 4, 5]
    assert texts(page) == ["1: здравствуйте", "2: добрый день", "3: вы тут?", "4: алло", "5: да, связь пропадала"]
    visitor.wait_text("5: да, связь пропадала")
    assert sorted(visitor.messages) == [1, 2, 3, 4, 5]
    expect(conversation_item(page, late_cid)).to_be_visible()

    # a second cut and return: still no duplicates
    net.cut()
    expect(banner(page)).to_be_visible()
    visitor.say("6: ещё раз")
    net.restore()
    wait_connected(page)
    expect(page.locator("[data-testid='chat-message']")).to_have_count(6)
    assert seqs(page) == [1, 2, 3, 4, 5, 6]
    visitor.close()
    late.close()
    close_page(page)


def test_server_crash_and_restart_both_sides_continue_nothing_lost_or_doubled(browser, sqlite_server):
    srv = sqlite_server
    desk = Desk(srv, "Дежурный")
    network: list[SwitchableNetwork] = []
    page = open_panel(browser, srv, desk.email, desk.password, setup=lambda p: network.append(SwitchableNetwork(p)))
    net = network[0]
    set_status(page, "online")
    visitor = desk.visitor(srv)
    cid = visitor.say("1: до сбоя")["conversation_id"]
    conversation_item(page, cid).click()
    page.get_by_test_id("chat-input").fill("2: отвечаю до сбоя")
    page.keyboard.press("Enter")
    visitor.wait_text("2: отвечаю до сбоя")
    page.get_by_test_id("note-mode").click()
    page.get_by_test_id("chat-input").fill("3: заметка до сбоя")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid='chat-message']")).to_have_count(3)
    expect(page.get_by_test_id("note-mode")).to_have_attribute("aria-selected", "false")   # a note is one line
    page.keyboard.press("Alt+m")                # the hotkey toggles note mode …
    expect(page.get_by_test_id("note-mode")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Alt+m")                # … and back to replies
    expect(page.get_by_test_id("note-mode")).to_have_attribute("aria-selected", "false")

    srv.kill()                                  # SIGKILL: no goodbye frames
    expect(banner(page)).to_have_text("Переподключение…")
    page.get_by_test_id("chat-input").fill("6: пишу, пока сервер лежит")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("chat-message-pending")).to_have_count(1)
    visitor.close()

    net.cut()                                   # keep the panel away until the visitor has written
    srv.start()
    back = desk.visitor(srv, token=visitor.token, resume={str(cid): max(visitor.messages)})
    assert back.welcome["conversation"]["id"] == cid
    back.say("4: после перезапуска")
    back.say("5: ответьте, пожалуйста")
    net.restore()

    wait_connected(page)
    expect(page.locator("[data-testid='chat-message']")).to_have_count(6)
    expect(page.get_by_test_id("chat-message-pending")).to_have_count(0)
    assert seqs(page) == [1, 2, 3, 4, 5, 6]
    assert texts(page)[3:] == ["4: после перезапуска", "5: ответьте, пожалуйста", "6: пишу, пока сервер лежит"]
    back.wait_text("6: пишу, пока сервер лежит")
    received = {**visitor.messages, **back.messages}
    assert sorted(received) == [1, 2, 4, 5, 6]     # 3 is the note: operators only
    # a reload loads the same history, once
    page.reload()
    wait_connected(page)
    conversation_item(page, cid).click()
    expect(page.locator("[data-testid='chat-message']")).to_have_count(6)
    assert seqs(page) == [1, 2, 3, 4, 5, 6]
    back.close()
    close_page(page)
