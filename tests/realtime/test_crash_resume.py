"""SIGKILL the server mid-conversation: every acknowledged message survives with
gap-free seq, and a client resuming from its last seq gets exactly the missing ones."""
import asyncio

import websockets

from tests.support import admin, visitor_ws


async def _send_until_killed(v, prefix: str, acked: dict, sent: list) -> None:
    """Send as fast as possible; record acks; stop when the connection dies."""
    i = 0
    try:
        while True:
            cid = f"{prefix}-{i}"
            sent.append(cid)
            await v.send({"type": "message.send", "client_id": cid, "text": f"msg {cid}"})
            while True:
                frame = await v.recv(timeout=10)
                if frame.get("type") == "message.ack":
                    acked[frame["client_id"]] = frame["message"]["seq"]
                    break
            i += 1
    except (TimeoutError, websockets.ConnectionClosed, OSError):
        return


async def test_acknowledged_messages_survive_sigkill_and_resume_is_exact(server):
    site_key = server.demo["site_key"]
    op = admin(server)
    v = await visitor_ws(server, site_key)
    token = v.welcome["visitor_token"]
    await v.send({"type": "message.send", "client_id": "start", "text": "начало"})
    cid = (await v.expect("message.ack"))["message"]["conversation_id"]

    # the visitor keeps sending while the server is SIGKILLed under it
    acked: dict[str, int] = {"start": 1}
    sent: list[str] = []
    sender = asyncio.create_task(_send_until_killed(v, "burst", acked, sent))
    while len(acked) <= 5 and not sender.done():  # a condition, not a time: slow machines too
        await asyncio.sleep(0.02)
    await asyncio.to_thread(server.kill)
    await sender
    assert len(acked) > 5, "the burst should have stored some messages before the kill"

    await asyncio.to_thread(server.start)
    op = admin(server)
    history = op.call("GET", f"/api/v1/conversations/{cid}/messages", params={"limit": 200}).json()["messages"]
    seqs = [m["seq"] for m in history]
    assert seqs == list(range(1, len(seqs) + 1)), "seq must be gap-free"
    by_client = {m["client_id"]: m["seq"] for m in history}
    for client_id, seq in acked.items():
        assert by_client[client_id] == seq, f"acknowledged {client_id} lost or renumbered"

    # the visitor reconnects, resumes from its last seq, and retries what was never acked:
    # each retry is stored once, already-stored ones answer with their stored seq
    last_seen = max(acked.values())
    v2 = await visitor_ws(server, site_key, token=token, resume={str(cid): last_seen})
    await v2.send({"type": "ping"})
    await v2.expect("pong")  # the replay is sent before the socket reads frames: it is all in by now
    replayed = [f["message"] for f in v2.seen if f.get("type") == "message.created"]
    assert [m["seq"] for m in replayed] == [s for s in seqs if s > last_seen]
    unacked = [c for c in sent if c not in acked]
    for client_id in unacked:
        await v2.send({"type": "message.send", "client_id": client_id, "text": f"msg {client_id}"})
        await v2.expect("message.ack", client_id=client_id)
    history = op.call("GET", f"/api/v1/conversations/{cid}/messages", params={"limit": 200}).json()["messages"]
    texts = [m["text"] for m in history]
    assert len(texts) == len(set(texts)) == 1 + len(sent)
    assert [m["seq"] for m in history] == list(range(1, len(history) + 1))
    await v2.close()


async def test_resume_after_restart_delivers_exactly_the_missing_messages(server):
    site_key = server.demo["site_key"]
    op = admin(server)
    v = await visitor_ws(server, site_key)
    token = v.welcome["visitor_token"]
    await v.send({"type": "message.send", "client_id": "q1", "text": "Есть доставка?"})
    cid = (await v.expect("message.ack"))["message"]["conversation_id"]
    for i in range(3):
        r = op.call("POST", f"/api/v1/conversations/{cid}/messages", json={"client_id": f"a{i}", "text": f"ответ {i}"})
        assert r.status_code == 200
    # the visitor has seen everything up to seq 4; then it goes away
    got = []
    while len(got) < 3:
        f = await v.expect("message.created")
        if f["message"]["kind"] == "operator":
            got.append(f["message"]["seq"])
    assert got == [2, 3, 4]
    await v.close()

    # meanwhile the operator writes more, including an internal note; then the server dies
    for i in range(3, 6):
        op.call("POST", f"/api/v1/conversations/{cid}/messages", json={"client_id": f"a{i}", "text": f"ответ {i}"})
    op.call("POST", f"/api/v1/conversations/{cid}/messages", json={"client_id": "n1", "text": "заметка", "kind": "note"})
    op.call("POST", f"/api/v1/conversations/{cid}/messages", json={"client_id": "a6", "text": "ответ 6"})
    await asyncio.to_thread(server.restart)

    v2 = await visitor_ws(server, site_key, token=token, resume={str(cid): 4})
    await v2.send({"type": "ping"})
    await v2.expect("pong")
    replayed = [f["message"] for f in v2.seen if f.get("type") == "message.created"]
    assert [(m["seq"], m["text"]) for m in replayed] == [
        (5, "ответ 3"), (6, "ответ 4"), (7, "ответ 5"), (9, "ответ 6")]  # 8 is the note: never to visitors

    # the operator's panel resumes the same way and does get the note
    op2 = admin(server)
    ows = await op2.ws(resume={str(cid): 6})
    await ows.send({"type": "ping"})
    await ows.expect("pong")
    oreplayed = [f["message"]["seq"] for f in ows.seen if f.get("type") == "message.created"]
    assert oreplayed == [7, 8, 9]

    # a client claiming a seq the server never issued is told to reset
    v3 = await visitor_ws(server, site_key, token=token, resume={str(cid): 50})
    reset = await v3.expect("reset")
    assert reset["conversation_id"] == cid
    for ws in (v2, v3, ows):
        await ws.close()
