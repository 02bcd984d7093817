"""`frontdesk serve` with candidate optimisations patched in from the outside — to measure the gain
of a recommendation before anyone changes src/ (bench/relay.py --whatif a,b,c).

A **prototype for measurement only**: it replaces functions at import time in
this one process; nothing under src/ is edited. Patches (FD_WHATIF, comma-separated):

* ``gc``: ``gc.freeze()`` once the server is up and ``gc.set_threshold(10_000, 20, 20)``
  instead of (700, 10, 10). Every connected socket keeps ~500 GC-tracked objects
  (coroutine chain through the middleware stack, closures, tasks…); a full
  collection walks all of them (≈ 0.8 µs each here: ≈ 0.2 s at 500 sockets) and
  stops the event loop meanwhile.
* ``switch``: ``sys.setswitchinterval(0.0005)`` (default 0.005): an aiosqlite
  worker thread that finished its SQLite call waits for the GIL while the event
  loop thread computes; with the default interval that wait is up to 5 ms per hop.
* ``writer_thread``: MessageWriter._store_batch runs the whole transaction as
  **one** call on a dedicated thread with a synchronous SQLAlchemy engine
  (pysqlite, same pragmas) — one thread hop per batch instead of ≈ 18 (cursor,
  execute, fetchall, close per statement, commit, rollback-on-return …), each of
  which waits for a turn of a busy event loop. SQLite only; batches with an
  ``in_transaction`` hook keep the original path.
* ``writer_raw``: like ``writer_thread`` but the thread runs plain ``sqlite3``
  with fixed SQL strings (no SQLAlchemy statement construction, cache-key
  generation or ORM bulk machinery per batch — several ms of CPU per batch,
  whatever its size, in the ``case()``-based UPDATE alone). A batch that finds
  an already-stored client_id (a retry) falls back to the original path.
* ``hello_cache``: a visitor hello stops reading the site by key and the
  operators' online state from the database each time (1-second cache):
  2 of its 4 sessions.

Adopted in src/ at 1cf5dd1 and therefore gone from here: one multi-row
INSERT … RETURNING per batch, uvloop for ``serve``, Event.to_json without
``dataclasses.asdict``. ``gc`` was adopted at 07fd9e1 (kept here to measure
older commits; on 07fd9e1 and later it changes nothing).

With FD_BENCH_STATS set, bench/instrumented_serve.py's counters are installed too (around the patches).

Run: FD_WHATIF=gc,writer_thread python bench/whatif_serve.py serve --demo --data-dir D --port P
"""
from __future__ import annotations

import os
import sys
from datetime import UTC
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

PATCHES = ("gc", "switch", "writer_thread", "writer_raw", "hello_cache")


_URLS: dict = {}


def _url(rt) -> str:
    if id(rt) not in _URLS:
        _URLS[id(rt)] = rt.settings.resolved_database_url()
    return _URLS[id(rt)]


def patch_writer_thread() -> None:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import case, create_engine, event, insert, select, tuple_, update
    from sqlalchemy.orm import Session

    from frontdesk import events as ev
    from frontdesk import serialize
    from frontdesk.actions import ActionError
    from frontdesk.actions import messages as mm
    from frontdesk.events import Event
    from frontdesk.models import Conversation, Message, Operator

    original = mm.MessageWriter._store_batch
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="writer")
    engines: dict = {}

    def engine_for(url: str):
        if url not in engines:
            eng = create_engine(url.replace("sqlite+aiosqlite", "sqlite"), connect_args={"timeout": 30})

            @event.listens_for(eng, "connect")
            def _pragmas(dbapi_conn, _record) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

            engines[url] = eng
        return engines[url]

    def store_sync(url: str, batch: list, now) -> tuple:
        results: dict = {}
        failures: dict = {}
        to_insert: list = []
        first_of_key: dict = {}
        duplicates_in_batch: dict = {}
        for i, item in enumerate(batch):
            if item.client_id is not None:
                key = (item.sender, item.client_id)
                if key in first_of_key:
                    duplicates_in_batch[i] = first_of_key[key]
                    continue
                first_of_key[key] = i
            to_insert.append(i)
        created: list = []
        with Session(engine_for(url), expire_on_commit=False) as session, session.begin():
            if first_of_key:
                rows = session.execute(select(Message).where(
                    tuple_(Message.sender, Message.client_id).in_(list(first_of_key)))).scalars().all()
                op_ids = {m.author_operator_id for m in rows if m.author_operator_id}
                authors = {o.id: o for o in session.execute(
                    select(Operator).where(Operator.id.in_(op_ids))).scalars()} if op_ids else {}
                for m in rows:
                    results[first_of_key[(m.sender, m.client_id)]] = serialize.message(
                        m, authors.get(m.author_operator_id))
                to_insert = [i for i in to_insert if i not in results]
            must_be_open = {batch[i].conversation_id for i in to_insert if batch[i].require_open}
            if must_be_open:
                still_open = set(session.execute(select(Conversation.id).where(
                    Conversation.id.in_(must_be_open), Conversation.status == "open")).scalars())
                for i in to_insert:
                    if batch[i].require_open and batch[i].conversation_id not in still_open:
                        failures[i] = ActionError("conversation_closed", "the conversation was closed", 409)
                to_insert = [i for i in to_insert if i not in failures]
            if to_insert:
                per_conv: dict = {}
                for i in to_insert:
                    per_conv.setdefault(batch[i].conversation_id, []).append(i)
                conv_ids = sorted(per_conv)
                new_last = dict(session.execute(
                    update(Conversation).where(Conversation.id.in_(conv_ids))
                    .values(last_seq=Conversation.last_seq + case(
                        {cid: len(per_conv[cid]) for cid in conv_ids}, value=Conversation.id), last_message_at=now)
                    .returning(Conversation.id, Conversation.last_seq)).all())
                replied = [cid for cid in conv_ids if any(batch[i].kind == "operator" for i in per_conv[cid])]
                if replied:
                    session.execute(update(Conversation).where(
                        Conversation.id.in_(replied), Conversation.first_reply_at.is_(None)).values(first_reply_at=now))
                rows_in: list = []
                order: list = []
                for cid in conv_ids:
                    idxs = per_conv[cid]
                    seq = new_last[cid] - len(idxs)
                    for i in idxs:
                        seq += 1
                        item = batch[i]
                        rows_in.append({"conversation_id": cid, "seq": seq, "kind": item.kind, "sender": item.sender,
                                        "author_operator_id": item.author.id if item.author else None,
                                        "text": item.text, "client_id": item.client_id, "created_at": now})
                        order.append(i)
                returned = session.execute(
                    insert(Message).returning(Message.id, Message.conversation_id, Message.seq), rows_in).all()
                ids = {(c, s): mid for mid, c, s in returned}
                created = [(i, Message(id=ids[(r["conversation_id"], r["seq"])], **r)) for i, r in zip(order, rows_in)]
        return results, failures, duplicates_in_batch, created

    async def _store_batch(self, batch):
        url = _url(self._rt)
        if not url.startswith("sqlite") or any(item.in_transaction is not None for item in batch):
            return await original(self, batch)
        rt = self._rt
        now = rt.clock()
        results, failures, duplicates_in_batch, created = await asyncio.get_running_loop().run_in_executor(
            executor, store_sync, url, batch, now)
        events: list = []
        for i, m in created:
            item = batch[i]
            results[i] = serialize.message(m, item.author)
            if m.seq == 1:
                events.append(Event(ev.CONVERSATION_CREATED, item.site_id, {"announce": True},
                                    conversation_id=m.conversation_id, visitor_id=item.visitor_id))
            events.append(Event(ev.MESSAGE_CREATED, item.site_id, {"message": results[i]},
                                conversation_id=m.conversation_id, visitor_id=item.visitor_id))
        for i, first in duplicates_in_batch.items():
            if first in failures:
                failures[i] = failures[first]
            else:
                results[i] = results[first]
        for i, item in enumerate(batch):
            if item.future.done():
                continue
            if i in failures:
                item.future.set_exception(failures[i])
            else:
                item.future.set_result(results[i])
        if events:
            await mm._publish_with_conversations(rt, events)

    mm.MessageWriter._store_batch = _store_batch


def patch_writer_raw() -> None:
    import asyncio
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor
    from types import SimpleNamespace

    from frontdesk import events as ev
    from frontdesk import serialize
    from frontdesk.actions import ActionError
    from frontdesk.actions import messages as mm
    from frontdesk.events import Event

    original = mm.MessageWriter._store_batch
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="writer")
    conns: dict = {}
    RETRY = object()

    def conn_for(path: str) -> sqlite3.Connection:
        if path not in conns:
            c = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
                c.execute("PRAGMA " + pragma)
            conns[path] = c
        return conns[path]

    def store_raw(path: str, batch: list, now):
        ts = now.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        failures: dict = {}
        to_insert: list = []
        first_of_key: dict = {}
        duplicates_in_batch: dict = {}
        for i, item in enumerate(batch):
            if item.client_id is not None:
                key = (item.sender, item.client_id)
                if key in first_of_key:
                    duplicates_in_batch[i] = first_of_key[key]
                    continue
                first_of_key[key] = i
            to_insert.append(i)
        cur = conn_for(path).cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            for key in first_of_key:  # one indexed lookup each (uq_messages_sender_client_id)
                if cur.execute("SELECT 1 FROM messages WHERE sender = ? AND client_id = ?", key).fetchone():
                    cur.execute("ROLLBACK")
                    return RETRY
            must_be_open = list({batch[i].conversation_id for i in to_insert if batch[i].require_open})
            if must_be_open:
                still_open = {r[0] for r in cur.execute(
                    f"SELECT id FROM conversations WHERE status = 'open' AND id IN "
                    f"({','.join('?' * len(must_be_open))})", must_be_open)}
                for i in to_insert:
                    if batch[i].require_open and batch[i].conversation_id not in still_open:
                        failures[i] = ActionError("conversation_closed", "the conversation was closed", 409)
                to_insert = [i for i in to_insert if i not in failures]
            created: list = []
            per_conv: dict = {}
            for i in to_insert:
                per_conv.setdefault(batch[i].conversation_id, []).append(i)
            for cid in sorted(per_conv):
                idxs = per_conv[cid]
                last = cur.execute("UPDATE conversations SET last_seq = last_seq + ?, last_message_at = ? "
                                   "WHERE id = ? RETURNING last_seq", (len(idxs), ts, cid)).fetchone()[0]
                if any(batch[i].kind == "operator" for i in idxs):
                    cur.execute("UPDATE conversations SET first_reply_at = ? WHERE id = ? AND first_reply_at IS NULL",
                                (ts, cid))
                seq = last - len(idxs)
                for i in idxs:
                    seq += 1
                    item = batch[i]
                    author = item.author.id if item.author else None
                    mid = cur.execute("INSERT INTO messages (conversation_id, seq, kind, sender, author_operator_id, "
                                      "text, client_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                      (cid, seq, item.kind, item.sender, author, item.text, item.client_id, ts)
                                      ).fetchone()[0]
                    created.append((i, SimpleNamespace(id=mid, conversation_id=cid, seq=seq, kind=item.kind,
                                                       sender=item.sender, author_operator_id=author, text=item.text,
                                                       client_id=item.client_id, created_at=now)))
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return failures, duplicates_in_batch, created

    async def _store_batch(self, batch):
        url = _url(self._rt)
        if not url.startswith("sqlite") or any(item.in_transaction is not None for item in batch):
            return await original(self, batch)
        rt = self._rt
        now = rt.clock()
        out = await asyncio.get_running_loop().run_in_executor(executor, store_raw, url.split("///", 1)[1], batch, now)
        if out is RETRY:
            return await original(self, batch)
        failures, duplicates_in_batch, created = out
        results: dict = {}
        events: list = []
        for i, m in created:
            item = batch[i]
            results[i] = serialize.message(m, item.author)
            if m.seq == 1:
                events.append(Event(ev.CONVERSATION_CREATED, item.site_id, {"announce": True},
                                    conversation_id=m.conversation_id, visitor_id=item.visitor_id))
            events.append(Event(ev.MESSAGE_CREATED, item.site_id, {"message": results[i]},
                                conversation_id=m.conversation_id, visitor_id=item.visitor_id))
        for i, first in duplicates_in_batch.items():
            if first in failures:
                failures[i] = failures[first]
            else:
                results[i] = results[first]
        for i, item in enumerate(batch):
            if item.future.done():
                continue
            if i in failures:
                item.future.set_exception(failures[i])
            else:
                item.future.set_result(results[i])
        if events:
            await mm._publish_with_conversations(rt, events)

    mm.MessageWriter._store_batch = _store_batch


def patch_hello_cache() -> None:
    import time

    from frontdesk.actions import offline, sites
    from frontdesk.realtime import visitor_ws

    ttl = 1.0
    site_cache: dict = {}
    avail_cache: dict = {}
    orig_site, orig_avail = sites.site_by_key, offline.site_availability

    async def site_by_key(session, site_key):
        hit = site_cache.get(site_key)
        if hit and time.monotonic() - hit[0] < ttl:
            return hit[1]
        site = await orig_site(session, site_key)
        if site is not None:
            session.expunge(site)
        site_cache[site_key] = (time.monotonic(), site)
        return site

    async def site_availability(session, site, now):
        hit = avail_cache.get(site.id)
        if hit and time.monotonic() - hit[0] < ttl:
            return hit[1]
        value = await orig_avail(session, site, now)
        avail_cache[site.id] = (time.monotonic(), value)
        return value

    sites.site_by_key = site_by_key
    offline.site_availability = site_availability
    visitor_ws.site_availability = site_availability  # imported by name there


def main() -> int:
    wanted = {w.strip() for w in os.environ.get("FD_WHATIF", "").split(",") if w.strip()}
    unknown = wanted - set(PATCHES)
    if unknown:
        print(f"whatif_serve: unknown patches {sorted(unknown)} (known: {', '.join(PATCHES)})", file=sys.stderr)
        return 2
    if "writer_thread" in wanted:
        patch_writer_thread()
    if "writer_raw" in wanted:
        patch_writer_raw()
    if "hello_cache" in wanted:
        patch_hello_cache()
    if "switch" in wanted:
        sys.setswitchinterval(0.0005)
    if "gc" in wanted:
        import gc
        import threading

        gc.set_threshold(10_000, 20, 20)
        gc.freeze()
        threading.Timer(8.0, gc.freeze).start()  # again once startup (migrations, demo data) is done
    if os.environ.get("FD_BENCH_STATS"):  # last: its counters wrap whatever is installed now
        import instrumented_serve

        instrumented_serve._install()
    from frontdesk.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
