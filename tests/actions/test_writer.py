"""The group-commit writer: one bad message never fails the others in its batch."""
from __future__ import annotations

import asyncio

import pytest

from frontdesk.actions import conversations, sites, visitors
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import SiteRef
from frontdesk.actions.validate import check_text
from frontdesk.actions.writer import PendingMessage
from tests.support import wait_for


async def test_a_message_that_cannot_be_stored_fails_alone(rt):
    async with rt.sessions() as session, session.begin():
        site = SiteRef.of(await sites.add_site(session, name="Shop"))
    people = [(await visitors.identify_visitor(rt, site, None))[0] for _ in range(5)]
    cids = [await conversations.open_conversation_id(rt, v) for v in people]

    def pending(i: int, text: str) -> PendingMessage:
        v = people[i]
        return PendingMessage(conversation_id=cids[i], site_id=site.id, visitor_id=v.id, kind="visitor",
                              sender=f"v{v.id}", text=text, client_id=f"c-{i}", require_open=True)

    # bypass validation on purpose: a lone surrogate cannot be encoded by the database driver
    items = [pending(i, "a\ud800" if i == 2 else f"ordinary {i}") for i in range(5)]
    results = await asyncio.gather(*(rt.writer.store(item) for item in items), return_exceptions=True)
    for i, result in enumerate(results):
        if i == 2:
            assert isinstance(result, ActionError) and result.code == "internal"
        else:
            assert isinstance(result, dict) and result["seq"] == 1 and result["text"] == f"ordinary {i}"


def test_check_text_decides_once_what_a_valid_text_is():
    assert check_text("  привет\r\nмир\r  ", 100) == "привет\nмир"
    assert check_text("a\x00b\x07c\u0085d\te", 100) == "abcd\te"  # C0/C1 controls removed, TAB kept
    assert check_text("\u202eRTL\u202c", 100) == "\u202eRTL\u202c"  # bidi controls kept (shown isolated)
    assert check_text("😀" * 4000, 4000) == "😀" * 4000  # length in code points, as the composers count
    for bad, code in [("a\ud800", "invalid_text"), ("   ", "empty_text"), ("\x00\x01", "empty_text"),
                      ("я" * 4001, "text_too_long"), (42, "invalid_frame")]:
        with pytest.raises(ActionError) as caught:
            check_text(bad, 4000)
        assert caught.value.code == code


async def test_sqlite_wal_checkpoints_run_on_their_own_thread_not_in_the_writers_commit(tmp_path, monkeypatch):
    """The writer's connection never checkpoints in a COMMIT (wal_autocheckpoint=0: the fsyncs of a
    checkpoint made 1 commit in ~80 take 8–20 ms); the checkpoint thread copies the WAL back instead,
    so the WAL does not grow without bound."""
    from frontdesk.actions import writer

    monkeypatch.setattr(writer, "CHECKPOINT_EVERY", 0.0)
    w = writer._SqliteBatchWriter(str(tmp_path / "w.db"))
    try:
        await w.call(lambda con: con.execute("CREATE TABLE t (x INTEGER)"))
        assert await w.call(lambda con: con.execute("PRAGMA wal_autocheckpoint").fetchone()[0]) == 0
        assert await w.call(lambda con: con.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
        for i in range(20):
            await w.call(lambda con, i=i: con.execute("INSERT INTO t VALUES (?)", (i,)))
        await wait_for(lambda: w._checkpointing is not None and w._checkpointing.done(), what="a checkpoint")
        outcome = w._checkpointing.result()
        assert outcome is not None
        busy, frames, done = outcome
        assert busy == 0 and frames > 0 and done == frames
        assert await w.call(lambda con: con.execute("SELECT count(*) FROM t").fetchone()[0]) == 20
    finally:
        await w.close()
