"""Status: away operators are not offered chats; the last tab closing sets offline after the grace period."""
from tests.support import ServerProcess, admin, make_operator, visitor_ws, wait_until


async def test_away_operator_is_not_offered_new_chats(sqlite_server):
    online, away = admin(sqlite_server), make_operator(sqlite_server, name="Борис")
    online.set_status("online")
    away.set_status("away")
    ws_online, ws_away = await online.ws(), await away.ws()
    v = await visitor_ws(sqlite_server, sqlite_server.demo["site_key"])
    await v.send({"type": "message.send", "client_id": "x", "text": "Есть кто?"})
    await ws_online.expect("conversation.offered")
    # the away operator still sees the conversation list update, but no offer
    await ws_away.expect("message.created")
    await ws_away.send({"type": "ping"})
    await ws_away.expect("pong")
    assert not [f for f in ws_away.seen if f["type"] == "conversation.offered"]
    assert [f for f in ws_away.seen if f["type"] == "conversation.created"]
    # status set over the socket reaches everyone
    await ws_away.send({"type": "status.set", "status": "online"})
    changed = await ws_online.expect("operator.status_changed")
    assert changed == {"type": "operator.status_changed", "operator_id": away.operator["id"], "status": "online"}
    for ws in (ws_online, ws_away, v):
        await ws.close()


async def test_visitor_is_told_when_the_last_operator_goes_away(sqlite_server):
    op = admin(sqlite_server)
    op.set_status("online")
    v = await visitor_ws(sqlite_server, sqlite_server.demo["site_key"])
    assert v.welcome["operators_online"] is True
    op.set_status("away")
    frame = await v.expect("availability")
    assert frame["operators_online"] is False
    await v.close()


async def test_closing_the_last_panel_tab_sets_offline_after_grace(tmp_path):
    server = ServerProcess(tmp_path / "d", env={"FRONTDESK_OFFLINE_GRACE": "0.5"}).start()
    try:
        op = admin(server)
        op.set_status("online")
        tab1, tab2 = await op.ws(), await op.ws()
        await tab1.close()
        # one tab still open: stays online well past the grace period
        await tab2.send({"type": "ping"})
        await tab2.expect("pong")
        await __import__("asyncio").sleep(1.0)
        assert op.http.get("/api/v1/me").json()["operator"]["status"] == "online"
        await tab2.close()
        wait_until(lambda: op.http.get("/api/v1/me").json()["operator"]["status"] == "offline", 10,
                   what="offline after grace")
    finally:
        server.stop()
