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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk import events as ev
from frontdesk import serialize
from frontdesk.actions import queries
from frontdesk.actions.errors import ActionError
from frontdesk.events import Event
from frontdesk.models import Conversation, Message
from frontdesk.serialize import OperatorLike

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

log = logging.getLogger(__name__)


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
    future: asyncio.Future[dict] = field(default=None)  # type: ignore[arg-type]  # set by store()


class MessageWriter:
    """The single writer of messages on this node (group commit)."""

    def __init__(self, runtime: Runtime, batch_max: int = 256) -> None:
        self._rt = runtime
        self._batch_max = batch_max
        self._queue: asyncio.Queue[PendingMessage] = asyncio.Queue()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="message-writer")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def store(self, item: PendingMessage) -> dict:
        """Store one message; returns its MESSAGE dict once committed (or the stored duplicate)."""
        item.future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(item)
        return await item.future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
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

    async def _store_batch(self, batch: list[PendingMessage]) -> None:
        rt = self._rt
        now = rt.clock()
        results: dict[int, dict] = {}  # index in batch → MESSAGE
        failures: dict[int, ActionError] = {}
        to_insert: list[int] = []
        first_of_key: dict[tuple[str, str], int] = {}
        duplicates_in_batch: dict[int, int] = {}
        for i, item in enumerate(batch):
            if item.client_id is not None:
                key = (item.sender, item.client_id)
                if key in first_of_key:
                    duplicates_in_batch[i] = first_of_key[key]
                    continue
                first_of_key[key] = i
            to_insert.append(i)

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
                    replied = [cid for cid in conv_ids
                               if any(batch[i].kind == "operator" for i in per_conv[cid])]
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
        events: list[Event] = []
        for i, new in created:
            item = batch[i]
            results[i] = serialize.message(new, item.author)
            if new.seq == 1:
                events.append(Event(ev.CONVERSATION_CREATED, item.site_id, {"announce": True},
                                    conversation_id=new.conversation_id, visitor_id=item.visitor_id))
            events.append(Event(ev.MESSAGE_CREATED, item.site_id, {"message": results[i]},
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
                out.extend(await queries.new_conversation_events(self._rt, e.conversation_id))
            else:
                out.append(e)
        await self._rt.publish(*out)


def _fail(item: PendingMessage) -> None:
    if not item.future.done():
        item.future.set_exception(ActionError("internal", "could not store; retry with the same client_id", 503))


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:300]}"


