#!/usr/bin/env python
"""Evidence for the group-commit writer: how one batch of messages reaches SQLite.

    python bench/insert_paths.py [--batch 150 --batches 40]

Stores batches of ``--batch`` messages through frontdesk's own engine and
models (db.create_engine: aiosqlite, WAL, synchronous=NORMAL) in three ways,
each batch one transaction like MessageWriter._store_batch:

* ``orm``: ``session.add_all(Message(...)); flush()`` — what the writer does.
  SQLAlchemy must return the new ids *in parameter order*, which SQLite
  cannot promise for a multi-row INSERT … RETURNING, so it degrades to one
  INSERT … RETURNING per row (documented "insertmanyvalues" behaviour):
  two aiosqlite thread hops (execute + fetch) per message.
* ``core_returning``: one ``insert(Message).returning(id, conversation_id, seq)``
  with the list of rows (no order needed: (conversation_id, seq) is unique,
  so ids are matched back by it) — one multi-row INSERT per batch.
* ``core_executemany``: ``insert(Message)`` with the list, no RETURNING
  (ids not needed by the caller, or assigned by the single writer) —
  one ``executemany``.

Prints rows/s, statements and thread hops per batch. Nothing under src/ is touched.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

STATS: collections.Counter = collections.Counter()


def instrument() -> None:
    import aiosqlite.core as ac
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "before_cursor_execute", lambda *a: STATS.update(["stmt"]))
    orig = ac.Connection._execute

    async def _execute(self, fn, *args, **kwargs):
        STATS["hop"] += 1
        return await orig(self, fn, *args, **kwargs)

    ac.Connection._execute = _execute


async def run(args) -> None:
    from sqlalchemy import insert, text

    from frontdesk import db, migrate
    from frontdesk.models import Message, utcnow

    instrument()
    d = Path(tempfile.mkdtemp(prefix="fd-insert-"))
    try:
        engine = db.create_engine(f"sqlite+aiosqlite:///{d}/x.db")
        await migrate.upgrade(engine)
        sessions = db.session_factory(engine)
        async with sessions() as s, s.begin():
            await s.execute(text("PRAGMA foreign_keys=OFF"))  # per connection; rows below point nowhere
        seq = 0
        results = {}
        for mode in ("orm", "core_returning", "core_executemany", "orm"):
            STATS.clear()
            t0 = time.perf_counter()
            cpu0 = time.process_time()
            for _ in range(args.batches):
                rows = []
                for i in range(args.batch):
                    seq += 1
                    rows.append({"conversation_id": 1 + i % 50, "seq": seq, "kind": "visitor", "sender": f"v{i}",
                                 "author_operator_id": None, "text": "x" * 120, "client_id": f"c{seq}",
                                 "created_at": utcnow()})
                async with sessions() as s, s.begin():
                    await s.execute(text("PRAGMA foreign_keys=OFF"))
                    if mode == "orm":
                        objs = [Message(**r) for r in rows]
                        s.add_all(objs)
                        await s.flush()
                        ids = [m.id for m in objs]
                    elif mode == "core_returning":
                        got = (await s.execute(insert(Message).returning(
                            Message.id, Message.conversation_id, Message.seq), rows)).all()
                        by_key = {(c, q): i for i, c, q in got}
                        ids = [by_key[(r["conversation_id"], r["seq"])] for r in rows]
                    else:
                        await s.execute(insert(Message), rows)
                        ids = []
                    assert mode == "core_executemany" or len(ids) == len(rows)
            dt = time.perf_counter() - t0
            cpu = time.process_time() - cpu0
            n = args.batch * args.batches
            key = mode if mode not in results else mode + " (again)"
            results[key] = (n / dt, STATS["stmt"] / args.batches, STATS["hop"] / args.batches, 1e6 * cpu / n)
        await engine.dispose()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print(f"\n{args.batches} transactions of {args.batch} messages each, frontdesk's engine (aiosqlite, WAL)\n")
    print("| insert path | messages/s | statements per batch | thread hops per batch | CPU µs per message |")
    print("|---|---:|---:|---:|---:|")
    for k, (rate, st, hops, cpu) in results.items():
        print(f"| {k} | {rate:,.0f} | {st:.0f} | {hops:.0f} | {cpu:.0f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=150)
    ap.add_argument("--batches", type=int, default=40)
    asyncio.run(run(ap.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
