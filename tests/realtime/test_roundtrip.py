"""A visitor writes, an operator answers — over real sockets, on SQLite and PostgreSQL."""
from tests.support import admin, visitor_ws


async def test_visitor_message_reaches_operator_and_reply_reaches_visitor(server):
    op = admin(server)
    op.set_status("online")
    ows = await op.ws()
    site_key = server.demo["site_key"]
    v = await visitor_ws(server, site_key)
    assert v.welcome["conversation"] is None and v.welcome["operators_online"] is True

    await v.send({"type": "message.send", "client_id": "c-1", "text": "  Здравствуйте! <b>?</b> "})
    ack = await v.expect("message.ack", client_id="c-1")
    msg = ack["message"]
    assert (msg["seq"], msg["kind"], msg["text"]) == (1, "visitor", "Здравствуйте! <b>?</b>")

    created = await ows.expect("conversation.created")
    cid = created["conversation"]["id"]
    assert created["conversation"]["visitor"]["page_title"] == "Магазин"
    await ows.expect("conversation.offered")
    got = await ows.expect("message.created")
    assert got["message"]["text"] == "Здравствуйте! <b>?</b>"

    await ows.send({"type": "message.send", "conversation_id": cid, "client_id": "o-1", "text": "Добрый день!"})
    oack = await ows.expect("message.ack", client_id="o-1")
    assert oack["message"]["seq"] == 2 and oack["message"]["author"]["name"] == "Администратор"
    assigned = await v.expect("conversation.assigned")
    assert assigned["operator"]["name"] == "Администратор"
    reply = await v.expect("message.created", timeout=10)
    while reply["message"]["seq"] != 2:
        reply = await v.expect("message.created")
    assert reply["message"]["text"] == "Добрый день!"
    await v.close()
    await ows.close()
    op.close()
