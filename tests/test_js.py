"""The JavaScript unit tests (tests/js/, `node --test`), run from pytest so that `.ci/run` runs them.

Without `node` they are skipped on a developer machine and fail under CI (`CI` set):
`scripts/test` installs `nodejs` when it is missing.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import IN_CI, admin, make_operator, visitor_ws

REPO = Path(__file__).resolve().parent.parent
JS_TESTS = REPO / "tests" / "js"
KEEP_RECORDING = os.environ.get("FRONTDESK_KEEP_RECORDING")  # a path: keep the recorded session there


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            pytest.fail("node is not installed: the JavaScript unit tests cannot run (scripts/test installs nodejs)")
        pytest.skip("node is not installed")
    return node


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)


def test_javascript_unit_tests_pass() -> None:
    node = _node()
    done = _run([node, "--test", "tests/js/"])
    assert done.returncode == 0, f"node --test tests/js/ failed:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout


# --- the panel's conversation list: initial state + applied events == a fresh fetch --------

async def _record(server) -> dict:
    """A real session of the operator socket: the welcome, every frame while visitors write
    and operators take, answer and close, then a fresh welcome of a new socket."""
    boss = admin(server)
    boss.set_status("online")
    olga = make_operator(server, name="Ольга")
    olga.set_status("online")
    site_key = server.demo["site_key"]
    ows = await boss.ws()
    first_welcome = ows.welcome

    sent: list[str] = []

    async def visitor_says(text: str, v=None):
        v = v or await visitor_ws(server, site_key)
        client_id = f"c-{len(sent)}"
        sent.append(text)
        await v.send({"type": "message.send", "client_id": client_id, "text": text})
        ack = await v.expect("message.ack", client_id=client_id)
        return v, ack["message"]["conversation_id"]

    def act(op, cid: int, action: str) -> None:
        r = op.call("POST", f"/api/v1/conversations/{cid}/{action}")
        assert r.status_code == 200, r.text

    def reply(op, cid: int, text: str, kind: str = "operator") -> None:
        r = op.call("POST", f"/api/v1/conversations/{cid}/messages",
                    json={"client_id": f"o-{len(sent)}", "text": text, "kind": kind})
        sent.append(text)
        assert r.status_code in (200, 201), r.text

    va, a = await visitor_says("А: здравствуйте")
    vb, b = await visitor_says("Б: есть доставка?")
    act(boss, a, "take")
    reply(boss, a, "Добрый день!")
    await visitor_says("А: спасибо 😀", va)
    act(olga, b, "take")
    reply(olga, b, "Да, есть")
    reply(olga, b, "заметка для своих", kind="note")
    act(olga, b, "close")
    vc, c = await visitor_says("В: вопрос")
    act(boss, a, "close")
    act(boss, a, "reopen")
    reply(boss, a, "Ещё вопросы?")
    act(olga, c, "take")
    await visitor_says("В: ещё один", vc)
    for v in (va, vb, vc):
        await v.close()

    # every frame of the first socket up to the last message, then whatever still trickles in
    frames = []
    while not (frames and frames[-1]["type"] == "message.created"
               and frames[-1]["message"]["text"] == "В: ещё один"):
        frames.append(await ows.recv(timeout=15))
    while True:
        try:
            frames.append(await ows.recv(timeout=1))
        except TimeoutError:
            break
    await ows.close()
    fresh = await boss.ws()
    await fresh.close()
    for op in (boss, olga):
        op.close()
    return {"me": boss.operator, "welcome": first_welcome, "frames": frames, "fresh": fresh.welcome,
            "expect": {"open": sorted([a, c]), "closed": [b]}}


def test_panel_store_applied_events_equal_a_fresh_fetch(sqlite_server, tmp_path) -> None:
    node = _node()
    recording = asyncio.run(_record(sqlite_server))
    assert any(f["type"] == "message.created" for f in recording["frames"]), recording["frames"][:5]
    path = tmp_path / "operator-session.json"
    path.write_text(json.dumps(recording, ensure_ascii=False))
    if KEEP_RECORDING:
        shutil.copy(path, KEEP_RECORDING)
    done = _run([node, str(JS_TESTS / "replay_store.mjs"), str(path)])
    assert done.returncode == 0, f"{done.stdout[-6000:]}\n{done.stderr[-4000:]}"
    assert "same as a fresh fetch" in done.stdout
