"""The message writer: one task per node stores every message (group commit).

It takes all pending sends, stores them in **one** transaction (one UPDATE …
RETURNING hands out the seqs of every conversation in the batch, one multi-row
INSERT stores the rows), commits, and only then resolves each sender's future
(→ ack) and publishes ``message.created``. On SQLite a per-message transaction
costs a thread hop per statement (≈2.9k msg/s); batching amortises that.

**One message never fails another.** Text is validated where it is decoded
(``validate.check_text``), so nothing that cannot be stored reaches a batch; and if
a batch fails anyway, for any reason, its messages are stored one by one, so each
sender gets its own answer.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk import events as ev
from frontdesk import serialize
from frontdesk.actions import queries
from frontdesk.actions.errors import ActionError
from frontdesk.events import Event
from frontdesk.models import Conversation, Message, Visitor
from frontdesk.serialize import OperatorLike

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

log = logging.getLogger(__name__)
_T = TypeVar("_T")

# How long the writer waits for more messages when batches are small (moderate load).
LINGER = 0.002
SMALL_BATCH = 16
BUSY_GAP = 0.02  # a batch that ended less than this long ago means messages are streaming
TOUCH_EVERY = 1.0  # seconds between writes of queued visitor last-seen times
# SQLite: the WAL is copied back into the database (a checkpoint, with its fsyncs) on a
# thread of its own at most this often, not inside a batch's COMMIT (bench/README.md,
# "p99 at 1,000 msg/s": the automatic checkpoint made 1 commit in ~80 take 8–20 ms).
CHECKPOINT_EVERY = 0.5


@dataclass(slots=True)
class StoredMessage:
    """A row just inserted — plain attributes, not an ORM instance (those cost ~20 µs each to build)."""

    id: int
    conversation_id: int
    seq: int
    kind: str
    sender: str
    author_operator_id: int | None
    text: str
    client_id: str | None
    created_at: datetime


@dataclass
class PendingMessage:
    conversation_id: int
    site_id: int
    visitor_id: int
    kind: str
    sender: str  # "v<visitor id>" | "o<operator id>" | "system"
    text: str
    client_id: str | None
    author: OperatorLike | None = None
    # Visitor messages go to the visitor's *open* conversation: when it was closed
    # meanwhile, the send fails with conversation_closed and the caller opens a new one.
    require_open: bool = False
    # Runs inside the storing transaction after the row is flushed (e.g. to queue
    # an e-mail atomically with the message); not run for an idempotent retry.
    in_transaction: Callable[[AsyncSession, StoredMessage], Awaitable[None]] | None = None
    # the site's profanity setting for a visitor message (off | flag | mask): operators get the
    # flagged / masked view in the event (``operator_message``), the visitor its own text
    profanity: str = "off"
    future: asyncio.Future[dict] = field(default=None)  # type: ignore[arg-type]  # set by store()


class MessageWriter:
    """The single writer of messages on this node (group commit)."""

    def __init__(self, runtime: Runtime, batch_max: int = 256, linger: float = LINGER) -> None:
        self._rt = runtime
        self._batch_max = batch_max
        self._linger = linger
        self._queue: asyncio.Queue[PendingMessage] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._touches: dict[int, datetime] = {}  # visitor id → last seen, not yet written
        self._touch_task: asyncio.Task | None = None
        # SQLite: one call per batch on a dedicated thread with the standard sqlite3 module
        # (the aiosqlite path costs ≈ 18 thread hops per batch, each waiting for the busy loop).
        url = runtime.engine.url
        path = url.database if url.get_backend_name() == "sqlite" else None
        self._raw = _SqliteBatchWriter(path) if path and path != ":memory:" and not path.startswith("file:") else None

    @property
    def sqlite_thread(self) -> _SqliteBatchWriter | None:
        """SQLite (a file): the writer thread with its connection, for other batched work that
        wants one call per batch (``actions.hellos``); None on PostgreSQL."""
        return self._raw

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="message-writer")
        self._touch_task = asyncio.create_task(self._touch_loop(), name="visitor-touches")

    async def stop(self) -> None:
        for task in (self._task, self._touch_task):
            if task:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        await self.flush_touches()
        if self._raw is not None:
            await self._raw.close()

    async def store(self, item: PendingMessage) -> dict:
        """Store one message; returns its MESSAGE dict once committed (or the stored duplicate)."""
        item.future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(item)
        return await item.future

    def touch(self, visitor_id: int, when: datetime) -> None:
        """A returning visitor was seen: its ``last_seen_at`` is written with the next flush
        (within ``TOUCH_EVERY`` seconds), not on the hello's path."""
        self._touches[visitor_id] = when

    async def _touch_loop(self) -> None:
        while True:
            await asyncio.sleep(TOUCH_EVERY)
            await self.flush_touches()

    async def flush_touches(self) -> None:
        if not self._touches:
            return
        touches, self._touches = self._touches, {}
        try:
            if self._raw is not None:
                await self._raw.touch([(_sqlite_stamp(when), vid) for vid, when in touches.items()])
            else:
                async with self._rt.sessions() as session, session.begin():
                    await session.execute(update(Visitor), [{"id": vid, "last_seen_at": when}
                                                            for vid, when in touches.items()])
        except Exception as exc:  # noqa: BLE001 - a last-seen time is not worth failing anything for
            log.warning("writing %d visitors' last-seen times failed: %s", len(touches), _brief(exc))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        previous, finished = 0, -1.0
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            if (previous < SMALL_BATCH and len(batch) < SMALL_BATCH and self._linger > 0
                    and loop.time() - finished < BUSY_GAP):
                # Moderate load: messages arrive steadily but few at a time (the last batch was
                # small and ended moments ago). A short, bounded wait for more costs a little
                # latency and saves a commit per handful of messages. A lone message after a
                # quiet spell is stored at once.
                await asyncio.sleep(self._linger)
                while len(batch) < self._batch_max and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
            previous = len(batch)
            try:
                await self._store_batch(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the writer must survive anything
                if len(batch) == 1:
                    log.error("storing a message failed: %s", _brief(exc))
                    _fail(batch[0])
                    continue
                # A conflict with another node (same client_id at the same time), a
                # deadlock, or one bad row: store one by one so each gets its own answer.
                log.info("batch of %d failed (%s); storing one by one", len(batch), type(exc).__name__)
                for item in batch:
                    if item.future.done():
                        continue
                    try:
                        await self._store_batch([item])
                    except asyncio.CancelledError:
                        raise
                    except Exception as one_exc:  # noqa: BLE001
                        log.error("storing a message failed: %s", _brief(one_exc))
                        _fail(item)
            finally:
                finished = loop.time()

    async def _store_batch(self, batch: list[PendingMessage]) -> None:
        if self._raw is not None and not any(item.in_transaction for item in batch):
            await self._store_batch_sqlite(batch)
        else:
            await self._store_batch_orm(batch)

    async def _store_batch_sqlite(self, batch: list[PendingMessage]) -> None:
        """The batch as one call on the writer thread (fixed SQL, stdlib sqlite3)."""
        assert self._raw is not None
        now = self._rt.clock()
        first_of_key, duplicates_in_batch, to_insert = _plan(batch)
        items: list[_Item] = []
        for i in to_insert:
            item = batch[i]
            items.append((i, item.conversation_id, item.kind, item.sender,
                          item.author.id if item.author is not None else None, item.text, item.client_id,
                          item.require_open))
        rows, found, closed, authors = await self._raw.store(items, _sqlite_stamp(now))
        results: dict[int, dict] = {}
        failures: dict[int, ActionError] = {}
        for i, row in found.items():
            stored = StoredMessage(id=row[0], conversation_id=row[1], seq=row[2], kind=row[3], sender=row[4],
                                   author_operator_id=row[5], text=row[6], client_id=row[7],
                                   created_at=_from_sqlite_stamp(row[8]))
            author = authors.get(row[5]) if row[5] is not None else None
            results[i] = serialize.message(stored, author)
        for i in closed:
            failures[i] = ActionError("conversation_closed", "the conversation was closed", 409)
        created = []
        for i, mid, cid, seq in rows:
            item = batch[i]
            created.append((i, StoredMessage(
                id=mid, conversation_id=cid, seq=seq, kind=item.kind, sender=item.sender,
                author_operator_id=item.author.id if item.author else None, text=item.text,
                client_id=item.client_id, created_at=now)))
        await self._finish(batch, results, failures, created, duplicates_in_batch)

    async def _store_batch_orm(self, batch: list[PendingMessage]) -> None:
        rt = self._rt
        now = rt.clock()
        results: dict[int, dict] = {}  # index in batch → MESSAGE
        failures: dict[int, ActionError] = {}
        first_of_key, duplicates_in_batch, to_insert = _plan(batch)

        async with rt.sessions() as session:
            async with session.begin():
                if first_of_key:
                    # two expanding INs (their compiled SQL is cached) rather than a tuple IN
                    # (compiled anew for every batch); the exact pairs are picked out here
                    found = (await session.execute(select(Message).where(
                        Message.client_id.in_({c for _, c in first_of_key}),
                        Message.sender.in_({snd for snd, _ in first_of_key})))).scalars().all()
                    stored = [m for m in found if (m.sender, m.client_id or "") in first_of_key]
                    authors = await queries.authors(session, {m.author_operator_id for m in stored})
                    for row in stored:
                        i = first_of_key[(row.sender, row.client_id or "")]
                        results[i] = serialize.message(row, authors.get(row.author_operator_id or 0))
                    to_insert = [i for i in to_insert if i not in results]

                must_be_open = {batch[i].conversation_id for i in to_insert if batch[i].require_open}
                if must_be_open:
                    still_open = set((await session.execute(select(Conversation.id).where(
                        Conversation.id.in_(must_be_open), Conversation.status == "open"))).scalars())
                    for i in to_insert:
                        if batch[i].require_open and batch[i].conversation_id not in still_open:
                            failures[i] = ActionError("conversation_closed", "the conversation was closed", 409)
                    to_insert = [i for i in to_insert if i not in failures]

                created: list[tuple[int, StoredMessage]] = []
                if to_insert:
                    per_conv: dict[int, list[int]] = {}
                    for i in to_insert:
                        per_conv.setdefault(batch[i].conversation_id, []).append(i)
                    # (a lock-order deadlock between two nodes is detected by PostgreSQL; the
                    # batch then goes one message at a time, see _run)
                    conv_ids = sorted(per_conv)
                    # one UPDATE … RETURNING per distinct count (almost always just "+1"):
                    # a per-batch CASE would be compiled anew every time
                    by_count: dict[int, list[int]] = {}
                    for cid in conv_ids:
                        by_count.setdefault(len(per_conv[cid]), []).append(cid)
                    new_last: dict[int, int] = {}
                    for count, cids in sorted(by_count.items()):
                        new_last.update((await session.execute(
                            update(Conversation).where(Conversation.id.in_(cids))
                            .values(last_seq=Conversation.last_seq + count, last_message_at=now)
                            .returning(Conversation.id, Conversation.last_seq))).all())
                    replied = [cid for cid in conv_ids if any(  # the automatic holding line is not a reply
                        batch[i].kind == "operator" and not serialize.is_holding("operator", batch[i].client_id)
                        for i in per_conv[cid])]
                    if replied:
                        await session.execute(
                            update(Conversation)
                            .where(Conversation.id.in_(replied), Conversation.first_reply_at.is_(None))
                            .values(first_reply_at=now))
                    new_rows: list[dict] = []
                    order: list[int] = []  # batch index of each row
                    for cid in conv_ids:
                        idxs = per_conv[cid]
                        seq = new_last[cid] - len(idxs)
                        for i in idxs:
                            seq += 1
                            item = batch[i]
                            new_rows.append({
                                "conversation_id": cid, "seq": seq, "kind": item.kind, "sender": item.sender,
                                "author_operator_id": item.author.id if item.author else None,
                                "text": item.text, "client_id": item.client_id, "created_at": now})
                            order.append(i)
                    # One multi-row INSERT … RETURNING. (The ORM's add_all + flush wants the
                    # returned ids in parameter order, which SQLite cannot promise for a
                    # multi-row INSERT, so it sends one INSERT per row: two thread hops per
                    # message.) (conversation_id, seq) is unique: it matches ids back.
                    returned = (await session.execute(
                        insert(Message).returning(Message.id, Message.conversation_id, Message.seq), new_rows)).all()
                    ids = {(cid, seq): mid for mid, cid, seq in returned}
                    created = [(i, StoredMessage(id=ids[(row["conversation_id"], row["seq"])], **row))
                               for i, row in zip(order, new_rows)]
                    for i, new in created:
                        hook = batch[i].in_transaction
                        if hook is not None:
                            await hook(session, new)
            # committed
        await self._finish(batch, results, failures, created, duplicates_in_batch)

    async def _finish(self, batch: list[PendingMessage], results: dict[int, dict],
                      failures: dict[int, ActionError], created: list[tuple[int, StoredMessage]],
                      duplicates_in_batch: dict[int, int]) -> None:
        """After the commit: answer every sender, then publish."""
        events: list[Event] = []
        for i, new in created:
            item = batch[i]
            results[i] = serialize.message(new, item.author)
            if new.seq == 1:
                events.append(Event(ev.CONVERSATION_CREATED, item.site_id, {"announce": True},
                                    conversation_id=new.conversation_id, visitor_id=item.visitor_id))
            payload = {"message": results[i]}
            if item.profanity != "off":
                shown = serialize.operator_view(results[i], item.profanity)
                if shown is not results[i]:
                    payload["operator_message"] = shown
            events.append(Event(ev.MESSAGE_CREATED, item.site_id, payload,
                                conversation_id=new.conversation_id, visitor_id=item.visitor_id))
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
            await self._publish(events)

    async def _publish(self, events: list[Event]) -> None:
        """conversation.created needs the full CONVERSATION (with its first message): load it now."""
        out: list[Event] = []
        for e in events:
            if e.name == ev.CONVERSATION_CREATED and e.payload.get("announce") and e.conversation_id:
                try:
                    out.extend(await queries.new_conversation_events(self._rt, e.conversation_id))
                except Exception as exc:  # noqa: BLE001 - the batch is committed and acked: publish the rest
                    # (e.g. no pooled connection within 30 s under overload); operators still get the
                    # conversation from the offer repeat and from their list when they reconnect
                    log.warning("announcing conversation %d failed: %s", e.conversation_id, _brief(exc))
            else:
                out.append(e)
        await self._rt.publish(*out)


def _plan(batch: list[PendingMessage]) -> tuple[dict[tuple[str, str], int], dict[int, int], list[int]]:
    """The first of each (sender, client_id) in the batch, the repeats in the batch, what to store."""
    first_of_key: dict[tuple[str, str], int] = {}
    duplicates_in_batch: dict[int, int] = {}
    to_insert: list[int] = []
    for i, item in enumerate(batch):
        if item.client_id is not None:
            key = (item.sender, item.client_id)
            if key in first_of_key:
                duplicates_in_batch[i] = first_of_key[key]
                continue
            first_of_key[key] = i
        to_insert.append(i)
    return first_of_key, duplicates_in_batch, to_insert


def _sqlite_stamp(dt: datetime) -> str:
    """A datetime as SQLAlchemy stores it on SQLite (naive UTC, microseconds)."""
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _from_sqlite_stamp(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


@dataclass(slots=True)
class _Author:
    """An operator read by the SQLite writer (OperatorLike)."""

    id: int
    name: str
    email: str
    role: str
    status: str
    language: str
    is_active: bool
    photo_type: str | None
    photo_version: int


_FIND = ("SELECT id, conversation_id, seq, kind, sender, author_operator_id, text, client_id, created_at"
         " FROM messages WHERE sender = ? AND client_id = ?")
_AUTHOR = ("SELECT id, name, email, role, status, language, is_active, photo_type, photo_version"
           " FROM operators WHERE id = ?")
_STATUS = "SELECT status FROM conversations WHERE id = ?"
_SEQ = "UPDATE conversations SET last_seq = last_seq + ?, last_message_at = ? WHERE id = ? RETURNING last_seq"
_REPLIED = "UPDATE conversations SET first_reply_at = ? WHERE id = ? AND first_reply_at IS NULL"
_TOUCH = "UPDATE visitors SET last_seen_at = ? WHERE id = ?"
_INSERT = ("INSERT INTO messages (conversation_id, seq, kind, sender, author_operator_id, text, client_id,"
           " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id")

# (batch index, conversation id, kind, sender, author id, text, client_id, require_open)
_Item = tuple[int, int, str, str, int | None, str, str | None, bool]
_Outcome = tuple[list[tuple[int, int, int, int]], dict[int, tuple[Any, ...]], set[int], dict[int, _Author]]


class _SqliteBatchWriter:
    """One sqlite3 connection on one thread; every batch is one call and one transaction."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._con: sqlite3.Connection | None = None
        self._thread: int | None = None
        self._checkpoint_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-checkpoint")
        self._checkpoint_con: sqlite3.Connection | None = None
        self._checkpoint_at = time.monotonic()
        self._checkpointing: Future[tuple[int, int, int] | None] | None = None

    async def store(self, items: list[_Item], stamp: str) -> _Outcome:
        out = await asyncio.get_running_loop().run_in_executor(self._pool, self._store, items, stamp)
        self._maybe_checkpoint()
        return out

    def _maybe_checkpoint(self) -> None:
        """Start a checkpoint on the checkpoint thread when the last one began ≥ CHECKPOINT_EVERY
        ago and has finished. Same durability as SQLite's automatic checkpoint (same
        ``synchronous``, same fsyncs), only not in the writer's COMMIT."""
        now = time.monotonic()
        if self._checkpointing is not None and not self._checkpointing.done():
            return
        if now - self._checkpoint_at < CHECKPOINT_EVERY:
            return
        self._checkpoint_at = now
        self._checkpointing = self._checkpoint_pool.submit(self._checkpoint)

    def _checkpoint(self) -> tuple[int, int, int] | None:
        """(busy, WAL frames, frames checkpointed), None when it failed."""
        try:
            if self._checkpoint_con is None:
                self._checkpoint_con = sqlite3.connect(self._path, timeout=30, isolation_level=None,
                                                       check_same_thread=False)
                self._checkpoint_con.execute("PRAGMA busy_timeout=30000")
            # PASSIVE: copies what no reader still needs, never waits for (or blocks) the writer
            busy, frames, done = self._checkpoint_con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            return busy, frames, done
        except Exception as exc:  # noqa: BLE001 - the next one retries; the WAL only grows meanwhile
            log.warning("WAL checkpoint failed: %s", _brief(exc))
            return None

    async def touch(self, rows: list[tuple[str, int]]) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, self._touch, rows)
        self._maybe_checkpoint()

    async def call(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """``fn(connection)`` on the writer thread: one thread hop (a batch of hellos, actions/hellos.py)."""
        out = await asyncio.get_running_loop().run_in_executor(self._pool, lambda: fn(self._connect()))
        self._maybe_checkpoint()
        return out

    def _touch(self, rows: list[tuple[str, int]]) -> None:
        con = self._connect()
        con.execute("BEGIN IMMEDIATE")
        try:
            con.executemany(_TOUCH, rows)
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, self._close)
        self._pool.shutdown(wait=False)
        await asyncio.get_running_loop().run_in_executor(self._checkpoint_pool, self._close_checkpoint)
        self._checkpoint_pool.shutdown(wait=False)

    def _close_checkpoint(self) -> None:
        if self._checkpoint_con is not None:
            self._checkpoint_con.close()
            self._checkpoint_con = None

    def _close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def _connect(self) -> sqlite3.Connection:
        if self._con is None:
            con = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False,
                                  cached_statements=32)
            # the same settings as db.create_engine's connections
            # wal_autocheckpoint=0: this connection's COMMIT never runs a checkpoint; the checkpoint
            # thread does (_maybe_checkpoint). Other connections keep the default (1,000 pages).
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000",
                           "wal_autocheckpoint=0"):
                con.execute(f"PRAGMA {pragma}")
            self._con = con
            self._thread = threading.get_ident()
        assert self._thread == threading.get_ident()
        return self._con

    def _store(self, items: list[_Item], stamp: str) -> _Outcome:
        con = self._connect()
        found: dict[int, tuple[Any, ...]] = {}
        closed: set[int] = set()
        authors: dict[int, _Author] = {}
        rows: list[tuple[int, int, int, int]] = []  # batch index, id, conversation, seq
        # IMMEDIATE: take the write lock first (a read-then-write transaction could not wait for it)
        con.execute("BEGIN IMMEDIATE")
        try:
            is_open: dict[int, bool] = {}
            per_conv: dict[int, list[_Item]] = {}
            for it in items:
                i, cid, _kind, sender, _author, _text, client_id, require_open = it
                if client_id is not None:
                    row = con.execute(_FIND, (sender, client_id)).fetchone()
                    if row is not None:  # a retry of a stored message
                        found[i] = row
                        if row[5] is not None and row[5] not in authors:
                            a = con.execute(_AUTHOR, (row[5],)).fetchone()
                            if a is not None:
                                authors[row[5]] = _Author(id=a[0], name=a[1], email=a[2], role=a[3], status=a[4],
                                                          language=a[5], is_active=bool(a[6]),
                                                          photo_type=a[7], photo_version=a[8] or 0)
                        continue
                if require_open:
                    if cid not in is_open:
                        st = con.execute(_STATUS, (cid,)).fetchone()
                        is_open[cid] = st is not None and st[0] == "open"
                    if not is_open[cid]:
                        closed.add(i)
                        continue
                per_conv.setdefault(cid, []).append(it)
            for cid in sorted(per_conv):
                its = per_conv[cid]
                last = con.execute(_SEQ, (len(its), stamp, cid)).fetchone()
                if last is None:
                    raise LookupError(f"conversation {cid} does not exist")
                # the automatic holding line is not a reply (first_reply_at)
                if any(it[2] == "operator" and not serialize.is_holding("operator", it[6]) for it in its):
                    con.execute(_REPLIED, (stamp, cid))
                seq = last[0] - len(its)
                for it in its:
                    seq += 1
                    mid = con.execute(_INSERT, (cid, seq, it[2], it[3], it[4], it[5], it[6], stamp)).fetchone()[0]
                    rows.append((it[0], mid, cid, seq))
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        return rows, found, closed, authors


def _fail(item: PendingMessage) -> None:
    if not item.future.done():
        item.future.set_exception(ActionError("internal", "could not store; retry with the same client_id", 503))


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:300]}"


