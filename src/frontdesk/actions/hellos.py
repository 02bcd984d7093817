"""Visitor hellos in batches (issue 18): the hellos that arrive while a batch is in the database
are identified together in the next one — one transaction and a fixed number of statements per
batch, whatever its size — first come, first served.

A hello is two batched steps, because the socket must be registered with the hub *between* them
(a message stored after the conversation was read must reach the socket live):

1. ``identify`` — visitors by ``token_hash IN (…)``, new visitors inserted in one multi-row INSERT,
   changed ones (another page, user agent, address, language) updated in one executemany; a
   returning visitor with nothing changed is not written (its last-seen time is queued to the
   writer, ``MessageWriter.touch``). A token that is not a visitor of the hello's site is
   ``unauthorized``, as in ``visitors.identify_visitor``.
2. ``welcome_state`` — every visitor's open conversation and the conversations its ``resume``
   names in one statement, the missing messages of all of them in one more (a join against the
   list of (conversation, last seq held) pairs), their operators in one, and the queue position
   for sites with automatic routing.

A batch that fails as a whole (e.g. a unique token hash clash) is run again one hello at a time, so
each hello gets its own answer.
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sqlite3
from collections import namedtuple
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import and_, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk import serialize
from frontdesk.actions import queries, routing
from frontdesk.actions.conversations import Replay
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import SiteRef, VisitorRef
from frontdesk.actions.validate import clip
from frontdesk.actions.visitors import token_hash
from frontdesk.actions.writer import MessageWriter, _Author, _from_sqlite_stamp, _sqlite_stamp, _SqliteBatchWriter
from frontdesk.context.geoip import store_ip
from frontdesk.models import Conversation, SiteRouting, Visitor
from frontdesk.models.base import UTCDateTime

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

log = logging.getLogger(__name__)

BATCH_MAX = 64  # hellos per database round


# --- the batching ------------------------------------------------------------------

In = TypeVar("In")
Out = TypeVar("Out")


class Batcher(Generic[In, Out]):
    """Requests that arrive while a batch is in the database go together into the next one, in
    arrival order (at most ``size`` per batch). ``run`` answers a batch: one result or one
    ``ActionError`` per request, in order."""

    def __init__(self, run: Callable[[list[In]], Awaitable[list[Out | ActionError]]], size: int = BATCH_MAX) -> None:
        self._run = run
        self._size = size
        self._waiting: list[tuple[In, asyncio.Future[Out]]] = []
        self._task: asyncio.Task | None = None
        self.batches = 0  # for tests and benchmarks: how many database rounds ran

    async def submit(self, request: In) -> Out:
        fut: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, fut))
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._drain())
        return await fut

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:self._size], self._waiting[self._size:]
            batch = [(r, f) for r, f in batch if not f.done()]  # a socket that went away meanwhile
            if not batch:
                continue
            self.batches += 1
            try:
                self._answer(batch, await self._run([r for r, _ in batch]))
            except asyncio.CancelledError:
                for _, f in batch:
                    f.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - one hello must not fail the others
                if len(batch) == 1:
                    self._fail(batch[0][1], exc)
                    continue
                log.info("a batch of %d hellos failed (%s); one at a time", len(batch), type(exc).__name__)
                for request, fut in batch:
                    try:
                        self._answer([(request, fut)], await self._run([request]))
                    except asyncio.CancelledError:
                        raise
                    except Exception as one:  # noqa: BLE001
                        self._fail(fut, one)

    @staticmethod
    def _answer(batch: list[tuple[In, asyncio.Future[Out]]], results: list[Out | ActionError]) -> None:
        for (_, fut), result in zip(batch, results, strict=True):
            if fut.done():
                continue
            if isinstance(result, ActionError):
                fut.set_exception(result)
            else:
                fut.set_result(result)

    @staticmethod
    def _fail(fut: asyncio.Future, exc: BaseException) -> None:
        if not fut.done():
            log.error("a hello failed: %s: %s", type(exc).__name__, str(exc)[:300])
            fut.set_exception(ActionError("internal", "the server failed; retry", 503))


def _batchers(rt: Runtime) -> tuple[Batcher[HelloIn, tuple[VisitorRef, str]], Batcher[StateIn, WelcomeState]]:
    found = rt.batchers.get("hellos")
    if found is None:
        found = (Batcher(lambda batch: identify_batch(rt, batch)),
                 Batcher(lambda batch: welcome_state_batch(rt, batch)))
        rt.batchers["hellos"] = found
    return found


# --- 1. identify -------------------------------------------------------------------

@dataclass(slots=True)
class HelloIn:
    """One visitor hello: the site, its token (None: a new visitor) and where it is now."""

    site: SiteRef
    token: object
    page: dict | None = None
    user_agent: str = ""
    ip: str = ""
    lang: object = ""


async def identify(rt: Runtime, site: SiteRef, token: object, *, page: dict | None = None, user_agent: str = "",
                   ip: str = "", lang: object = "") -> tuple[VisitorRef, str]:
    """``visitors.identify_visitor``, batched with the concurrent hellos of this node."""
    return await _batchers(rt)[0].submit(HelloIn(site, token, page, user_agent, ip, lang))


_VISITOR_COLUMNS = (Visitor.id, Visitor.site_id, Visitor.token_hash, Visitor.name, Visitor.email, Visitor.phone,
                    Visitor.language, Visitor.user_agent, Visitor.ip, Visitor.page_url, Visitor.page_title,
                    Visitor.referrer)


def _valid_token(token: object) -> bool:
    return isinstance(token, str) and 16 <= len(token) <= 128 and token.isascii()


async def identify_batch(rt: Runtime, batch: list[HelloIn]) -> list[tuple[VisitorRef, str] | ActionError]:
    """The visitors of a batch of hellos (see the module's docstring). SQLite: two calls on the
    writer thread at most (the lookup; the writes, when there are any); PostgreSQL: one session."""
    now = rt.clock()
    hashes = {i: token_hash(str(h.token)) for i, h in enumerate(batch) if _valid_token(h.token)}
    wanted = list(set(hashes.values()))
    thread = _sqlite_thread(rt)
    if thread is not None:
        known = await thread.call(partial(_sqlite_visitors, wanted)) if wanted else {}
        plan = _plan_identify(rt, batch, hashes, known, now)
        ids = await thread.call(partial(_sqlite_write_visitors, _stamp(now), list(plan.changed.values()),
                                        list(plan.fresh.values()))) if plan.changed or plan.fresh else {}
    else:
        async with rt.sessions() as session, session.begin():
            known = {row.token_hash: row for row in (await session.execute(
                select(*_VISITOR_COLUMNS).where(Visitor.token_hash.in_(wanted))))} if wanted else {}
            plan = _plan_identify(rt, batch, hashes, known, now)
            if plan.changed:
                await session.execute(update(Visitor), list(plan.changed.values()))
            ids = {h: vid for vid, h in (await session.execute(
                insert(Visitor).returning(Visitor.id, Visitor.token_hash), list(plan.fresh.values())))} \
                if plan.fresh else {}
    for i, row in plan.fresh.items():
        plan.out[i] = (VisitorRef(id=ids[row["token_hash"]], site_id=row["site_id"], name=None, email=None,
                                  phone=None, language=row["language"]), plan.tokens[i])
    for vid in plan.touched:
        rt.writer.touch(vid, now)
    return plan.out


@dataclass
class _IdentifyPlan:
    out: list[tuple[VisitorRef, str] | ActionError]
    fresh: dict[int, dict] = field(default_factory=dict)  # batch index → the new visitor's row
    tokens: dict[int, str] = field(default_factory=dict)  # batch index → the new visitor's token
    changed: dict[int, dict] = field(default_factory=dict)  # visitor id → its new values
    touched: list[int] = field(default_factory=list)  # returning visitors, nothing changed: last seen only


def _plan_identify(rt: Runtime, batch: list[HelloIn], hashes: dict[int, str], known: dict[str, Any],
                   now: datetime) -> _IdentifyPlan:
    """Who each hello is and what to write: the rules of ``visitors.identify_visitor``."""
    plan = _IdentifyPlan([ActionError("unauthorized", "unknown visitor", 401)] * len(batch))
    for i, hello in enumerate(batch):
        page = hello.page or {}
        user_agent = clip(hello.user_agent, 500)
        ip = store_ip(clip(hello.ip, 64), rt.settings.store_ip) or ""  # compared and stored as it is kept
        language = clip(hello.lang, 16) if hello.lang else None
        url = clip(page.get("url"), 2048) if page.get("url") else None
        title = clip(page.get("title"), 500)
        referrer = page.get("referrer")
        if hello.token is None:
            plan.tokens[i] = token = secrets.token_hex(32)  # 256 bits
            plan.fresh[i] = {"site_id": hello.site.id, "token_hash": token_hash(token), "first_seen_at": now,
                             "last_seen_at": now, "user_agent": user_agent, "ip": ip, "language": language or "",
                             "page_url": url or "", "page_title": title if url else "",
                             "referrer": clip(referrer, 2048) if url and referrer else ""}
            continue
        row = known.get(hashes.get(i, ""))
        if row is None or row.site_id != hello.site.id:
            continue  # unauthorized
        assert isinstance(hello.token, str)
        ref = VisitorRef(id=row.id, site_id=row.site_id, name=row.name, email=row.email, phone=row.phone,
                         language=row.language or "")
        plan.out[i] = (ref, hello.token)
        if (row.user_agent == user_agent and row.ip == ip and language in (None, row.language)
                and (url is None or (row.page_url == url and row.page_title == title
                                     and (row.referrer or not referrer)))):
            plan.touched.append(row.id)
            continue
        values = plan.changed.get(row.id) or {
            "id": row.id, "page_url": row.page_url, "page_title": row.page_title, "referrer": row.referrer,
            "language": row.language}
        values.update(last_seen_at=now, user_agent=user_agent, ip=ip)
        if language:
            values["language"] = ref.language = language
        if url:
            values["page_url"], values["page_title"] = url, title
            if referrer and not values["referrer"]:
                values["referrer"] = clip(referrer, 2048)
        plan.changed[row.id] = values
    return plan


# --- 2. the welcome's conversation, the resume replay, the queue position ---------------

@dataclass(slots=True)
class StateIn:
    visitor: VisitorRef
    wanted: dict[int, int]  # resume: conversation id → the last seq the client holds


@dataclass(slots=True)
class WelcomeState:
    conversation: dict | None  # the open (announced) conversation as the visitor sees it
    replays: list[Replay] = field(default_factory=list)  # as conversations.resume, the open one included
    queue_position: int | None = None


async def welcome_state(rt: Runtime, visitor: VisitorRef, wanted: dict[int, int]) -> WelcomeState:
    """``visitor_open_conversation`` + ``resume`` (with the open conversation) + the queue position,
    batched with the concurrent hellos of this node."""
    return await _batchers(rt)[1].submit(StateIn(visitor, wanted))


_CONVERSATION_COLUMNS = (Conversation.id, Conversation.visitor_id, Conversation.site_id, Conversation.status,
                         Conversation.last_seq, Conversation.is_offline, Conversation.assignee_id,
                         Conversation.created_at)

_MESSAGE_COLUMNS = ("m.id, m.conversation_id, m.seq, m.kind, m.text, m.client_id, m.created_at,"
                    " m.author_operator_id")
# the missing messages of every (conversation, last seq held) pair of a batch in one statement
_REPLAY_SQLITE_SQL = (
    f"SELECT {_MESSAGE_COLUMNS} FROM json_each(:pairs) AS w CROSS JOIN messages AS m"
    " WHERE m.conversation_id = json_extract(w.value, '$[0]') AND m.seq > json_extract(w.value, '$[1]')"
    " AND m.kind != 'note' ORDER BY m.conversation_id, m.seq")
_REPLAY_SQLITE = text(_REPLAY_SQLITE_SQL).columns(created_at=UTCDateTime)
_REPLAY_POSTGRESQL = text(
    f"SELECT {_MESSAGE_COLUMNS} FROM unnest(CAST(:cids AS bigint[]), CAST(:afters AS bigint[])) AS w(cid, after)"
    " JOIN messages AS m ON m.conversation_id = w.cid AND m.seq > w.after"
    " WHERE m.kind <> 'note' ORDER BY m.conversation_id, m.seq").columns(created_at=UTCDateTime)


async def welcome_state_batch(rt: Runtime, batch: list[StateIn]) -> list[WelcomeState | ActionError]:
    """The welcome's state of a batch of visitors. SQLite: one call on the writer thread;
    PostgreSQL: one session; a fixed number of statements either way."""
    vids = list({s.visitor.id for s in batch})
    cids = list({cid for s in batch for cid in s.wanted})
    thread = _sqlite_thread(rt)
    if thread is not None:
        plans, messages, ops, positions = await thread.call(partial(_sqlite_welcome, batch, vids, cids))
    else:
        async with rt.sessions() as session:
            where = and_(Conversation.visitor_id.in_(vids), Conversation.status == "open")
            if cids:
                where = or_(where, Conversation.id.in_(cids))
            convs = {row.id: row for row in await session.execute(select(*_CONVERSATION_COLUMNS).where(where))}
            plans, pairs = _plan_states(batch, convs)
            messages = {}
            if pairs:
                for m in await session.execute(_REPLAY_POSTGRESQL if rt.engine.dialect.name == "postgresql"
                                                else _REPLAY_SQLITE, _replay_params(rt, pairs)):
                    messages.setdefault(m.conversation_id, []).append(m)
            ops = await queries.authors(session, _operator_ids(plans, messages))
            positions = await _queue_positions(session, {c.site_id for c, _, _ in plans
                                                         if c is not None and c.assignee_id is None})
    out: list[WelcomeState | ActionError] = []
    for (conv, wanted, replays), s in zip(plans, batch, strict=True):
        for item in replays:
            after = wanted[item.conversation_id]
            if item.found and item.reset is None and after < item.last_seq:
                item.messages = [serialize.message(m, ops.get(m.author_operator_id or 0))
                                 for m in messages.get(item.conversation_id, ()) if after < m.seq <= item.last_seq]
        state = WelcomeState(None, replays)
        if conv is not None:
            state.conversation = serialize.visitor_conversation(conv, ops.get(conv.assignee_id or 0))
            found = positions.get(conv.id)
            if conv.status == "open" and conv.assignee_id is None and found is not None and found[0] == s.visitor.id:
                state.queue_position = found[1]
        out.append(state)
    return out


_Plan = tuple[Any, dict[int, int], list[Replay]]  # (open conversation row | None, resume + it, replays)


def _plan_states(batch: list[StateIn], convs: dict[int, Any]) -> tuple[list[_Plan], dict[int, int]]:
    """Per visitor: its open (announced) conversation and what each resume entry gets (the rules of
    ``conversations.resume``); and the (conversation → lowest seq held) pairs whose messages to read."""
    current = {c.visitor_id: c for c in convs.values() if c.status == "open"}
    plans: list[_Plan] = []
    pairs: dict[int, int] = {}
    for s in batch:
        conv = current.get(s.visitor.id)
        conv = conv if conv is not None and conv.last_seq > 0 else None
        wanted = s.wanted if conv is None or conv.id in s.wanted else {**s.wanted, conv.id: 0}
        replays = []
        for cid, after in wanted.items():
            row = convs.get(cid)
            if row is None or row.visitor_id != s.visitor.id:
                replays.append(Replay(cid, found=False))
                continue
            item = Replay.of(cid, row.last_seq, after)
            if item.wants_messages(after):
                pairs[cid] = min(after, pairs.get(cid, after))
            replays.append(item)
        plans.append((conv, wanted, replays))
    return plans, pairs


def _operator_ids(plans: list[_Plan], messages: dict[int, list[Any]]) -> set[int]:
    ids = {c.assignee_id for c, _, _ in plans if c is not None and c.assignee_id}
    ids.update(m.author_operator_id for rows in messages.values() for m in rows if m.author_operator_id)
    return ids


def _replay_params(rt: Runtime, pairs: dict[int, int]) -> dict:
    if rt.engine.dialect.name == "postgresql":
        return {"cids": list(pairs), "afters": list(pairs.values())}
    return {"pairs": json.dumps(list(pairs.items()))}


async def _queue_positions(session: AsyncSession, site_ids: set[int]) -> dict[int, tuple[int, int]]:
    """conversation id → (visitor id, place in the queue) for the sites with automatic routing."""
    if not site_ids:
        return {}
    auto = (await session.execute(select(SiteRouting.site_id).where(
        SiteRouting.site_id.in_(site_ids), SiteRouting.mode == "auto"))).scalars().all()
    out: dict[int, tuple[int, int]] = {}
    for site_id in auto:  # one statement per site with automatic routing in the batch
        out.update(routing.positions_of(await routing.waiting_conversations(session, site_id)))
    return out


# --- SQLite: one call per step on the writer thread (stdlib sqlite3, fixed SQL) ------------------

def _sqlite_thread(rt: Runtime) -> _SqliteBatchWriter | None:
    return rt.writer.sqlite_thread if isinstance(rt.writer, MessageWriter) else None


def _stamp(when: datetime) -> str:
    return _sqlite_stamp(when)


# the columns of _VISITOR_COLUMNS and _CONVERSATION_COLUMNS, in their order
_VisitorRow = namedtuple("_VisitorRow", ["id", "site_id", "token_hash", "name", "email", "phone", "language",
                                         "user_agent", "ip", "page_url", "page_title", "referrer"])
_ConversationRow = namedtuple("_ConversationRow", ["id", "visitor_id", "site_id", "status", "last_seq", "is_offline",
                                                   "assignee_id", "created_at"])
_MessageRow = namedtuple("_MessageRow", ["id", "conversation_id", "seq", "kind", "text", "client_id",
                                         "created_at", "author_operator_id"])
_WaitingRow = namedtuple("_WaitingRow", ["id", "visitor_id", "department_id"])

_IN = "IN (SELECT value FROM json_each(?))"  # one parameter, whatever the batch's size
_SQL_VISITORS = f"SELECT {', '.join(_VisitorRow._fields)} FROM visitors WHERE token_hash {_IN}"
_SQL_UPDATE_VISITORS = (
    "UPDATE visitors SET last_seen_at = ?, user_agent = json_extract(w.value, '$[1]'),"
    " ip = json_extract(w.value, '$[2]'), language = json_extract(w.value, '$[3]'),"
    " page_url = json_extract(w.value, '$[4]'), page_title = json_extract(w.value, '$[5]'),"
    " referrer = json_extract(w.value, '$[6]')"
    " FROM json_each(?) AS w WHERE visitors.id = json_extract(w.value, '$[0]')")
_SQL_INSERT_VISITORS = (
    "INSERT INTO visitors (site_id, token_hash, user_agent, ip, language, page_url, page_title, referrer,"
    " first_seen_at, last_seen_at, visit_count, fields)"
    " SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),"
    " json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'),"
    " json_extract(value, '$[6]'), json_extract(value, '$[7]'), ?, ?, 0, '{}' FROM json_each(?) WHERE true"
    " RETURNING id, token_hash")
_SQL_CONVERSATIONS = (
    f"SELECT {', '.join(_ConversationRow._fields)} FROM conversations WHERE visitor_id {_IN} AND status = 'open'"
    f" UNION SELECT {', '.join(_ConversationRow._fields)} FROM conversations WHERE id {_IN}")
_SQL_OPERATORS = ("SELECT id, name, email, role, status, language, is_active, photo_type, photo_version"
                  f" FROM operators WHERE id {_IN}")
_SQL_AUTO_SITES = f"SELECT site_id FROM site_routing WHERE mode = 'auto' AND site_id {_IN}"
_SQL_WAITING = ("SELECT id, visitor_id, department_id FROM conversations WHERE site_id = ? AND status = 'open'"
                " AND assignee_id IS NULL AND last_seq > 0 ORDER BY created_at, id")


def _sqlite_visitors(hashes: list[str], con: sqlite3.Connection) -> dict[str, Any]:
    return {row[2]: _VisitorRow(*row) for row in con.execute(_SQL_VISITORS, (json.dumps(hashes),))}


def _sqlite_write_visitors(stamp: str, changed: list[dict], fresh: list[dict],
                           con: sqlite3.Connection) -> dict[str, int]:
    """The changed visitors' new values and the new visitors, in one transaction: token hash → id."""
    con.execute("BEGIN IMMEDIATE")
    try:
        if changed:
            con.execute(_SQL_UPDATE_VISITORS, (stamp, json.dumps([
                [v["id"], v["user_agent"], v["ip"], v["language"], v["page_url"], v["page_title"], v["referrer"]]
                for v in changed])))
        ids = {h: vid for vid, h in con.execute(_SQL_INSERT_VISITORS, (stamp, stamp, json.dumps([
            [v["site_id"], v["token_hash"], v["user_agent"], v["ip"], v["language"], v["page_url"], v["page_title"],
             v["referrer"]] for v in fresh])))} if fresh else {}
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    return ids


def _sqlite_welcome(batch: list[StateIn], vids: list[int], cids: list[int], con: sqlite3.Connection
                    ) -> tuple[list[_Plan], dict[int, list[Any]], dict[int, Any], dict[int, tuple[int, int]]]:
    """Everything a batch of welcomes reads, in one read transaction (one snapshot)."""
    con.execute("BEGIN")
    try:
        convs = {}
        for row in con.execute(_SQL_CONVERSATIONS, (json.dumps(vids), json.dumps(cids))):
            conv = _ConversationRow(*row)
            convs[conv.id] = conv._replace(is_offline=bool(conv.is_offline),
                                           created_at=_from_sqlite_stamp(conv.created_at))
        plans, pairs = _plan_states(batch, convs)
        messages: dict[int, list[Any]] = {}
        if pairs:
            for row in con.execute(_REPLAY_SQLITE_SQL, {"pairs": json.dumps(list(pairs.items()))}):
                m = _MessageRow(*row)
                messages.setdefault(m.conversation_id, []).append(m._replace(
                    created_at=_from_sqlite_stamp(m.created_at)))
        ops: dict[int, Any] = {}
        wanted_ops = _operator_ids(plans, messages)
        if wanted_ops:
            for a in con.execute(_SQL_OPERATORS, (json.dumps(list(wanted_ops)),)):
                ops[a[0]] = _Author(id=a[0], name=a[1], email=a[2], role=a[3], status=a[4], language=a[5],
                                    is_active=bool(a[6]), photo_type=a[7], photo_version=a[8] or 0)
        positions: dict[int, tuple[int, int]] = {}
        waiting_sites = list({c.site_id for c, _, _ in plans if c is not None and c.assignee_id is None})
        if waiting_sites:
            for (site_id,) in con.execute(_SQL_AUTO_SITES, (json.dumps(waiting_sites),)).fetchall():
                positions.update(routing.positions_of(
                    [_WaitingRow(*r) for r in con.execute(_SQL_WAITING, (site_id,))]))  # type: ignore[misc]
    finally:
        if con.in_transaction:
            con.execute("COMMIT")
    return plans, messages, ops, positions
