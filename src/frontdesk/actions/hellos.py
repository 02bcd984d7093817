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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import and_, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk import serialize
from frontdesk.actions import queries, routing
from frontdesk.actions.conversations import REPLAY_MAX, Replay
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import SiteRef, VisitorRef
from frontdesk.actions.validate import clip
from frontdesk.actions.visitors import token_hash
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
    """The visitors of a batch of hellos, in one transaction (see the module's docstring)."""
    now = rt.clock()
    unauthorized = ActionError("unauthorized", "unknown visitor", 401)
    out: list[tuple[VisitorRef, str] | ActionError] = [unauthorized] * len(batch)
    hashes = {i: token_hash(str(h.token)) for i, h in enumerate(batch) if _valid_token(h.token)}
    fresh: dict[int, dict] = {}  # batch index → the new visitor's row
    changed: dict[int, dict] = {}  # visitor id → its new values
    touched: list[int] = []
    async with rt.sessions() as session, session.begin():
        known = {row.token_hash: row for row in (await session.execute(
            select(*_VISITOR_COLUMNS).where(Visitor.token_hash.in_(set(hashes.values()))))).all()} if hashes else {}
        for i, hello in enumerate(batch):
            page = hello.page or {}
            user_agent = clip(hello.user_agent, 500)
            ip = store_ip(clip(hello.ip, 64), rt.settings.store_ip) or ""  # compared and stored as it is kept
            language = clip(hello.lang, 16) if hello.lang else None
            url = clip(page.get("url"), 2048) if page.get("url") else None
            title = clip(page.get("title"), 500)
            referrer = page.get("referrer")
            if hello.token is None:
                token = secrets.token_hex(32)  # 256 bits
                fresh[i] = {"site_id": hello.site.id, "token_hash": token_hash(token), "first_seen_at": now,
                            "last_seen_at": now, "user_agent": user_agent, "ip": ip, "language": language or "",
                            "page_url": url or "", "page_title": title if url else "",
                            "referrer": clip(referrer, 2048) if url and referrer else "", "_token": token}
                continue
            row = known.get(hashes.get(i, ""))
            if row is None or row.site_id != hello.site.id:
                continue  # unauthorized
            assert isinstance(hello.token, str)
            ref = VisitorRef(id=row.id, site_id=row.site_id, name=row.name, email=row.email, phone=row.phone,
                             language=row.language or "")
            if (row.user_agent == user_agent and row.ip == ip and language in (None, row.language)
                    and (url is None or (row.page_url == url and row.page_title == title
                                         and (row.referrer or not referrer)))):
                touched.append(row.id)
                out[i] = (ref, hello.token)
                continue
            values = changed.get(row.id) or {
                "id": row.id, "page_url": row.page_url, "page_title": row.page_title, "referrer": row.referrer,
                "language": row.language}
            values.update(last_seen_at=now, user_agent=user_agent, ip=ip)
            if language:
                values["language"] = ref.language = language
            if url:
                values["page_url"], values["page_title"] = url, title
                if referrer and not values["referrer"]:
                    values["referrer"] = clip(referrer, 2048)
            changed[row.id] = values
            out[i] = (ref, hello.token)
        if changed:
            await session.execute(update(Visitor), list(changed.values()))
        if fresh:
            rows = [{k: v for k, v in r.items() if k != "_token"} for r in fresh.values()]
            ids = {h: vid for vid, h in (await session.execute(
                insert(Visitor).returning(Visitor.id, Visitor.token_hash), rows)).all()}
            for i, r in fresh.items():
                out[i] = (VisitorRef(id=ids[r["token_hash"]], site_id=r["site_id"], name=None, email=None, phone=None,
                                     language=r["language"]), r["_token"])
    for vid in touched:
        rt.writer.touch(vid, now)
    return out


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
_REPLAY_SQLITE = text(
    f"SELECT {_MESSAGE_COLUMNS} FROM json_each(:pairs) AS w CROSS JOIN messages AS m"
    " WHERE m.conversation_id = json_extract(w.value, '$[0]') AND m.seq > json_extract(w.value, '$[1]')"
    " AND m.kind != 'note' ORDER BY m.conversation_id, m.seq").columns(created_at=UTCDateTime)
_REPLAY_POSTGRESQL = text(
    f"SELECT {_MESSAGE_COLUMNS} FROM unnest(CAST(:cids AS bigint[]), CAST(:afters AS bigint[])) AS w(cid, after)"
    " JOIN messages AS m ON m.conversation_id = w.cid AND m.seq > w.after"
    " WHERE m.kind <> 'note' ORDER BY m.conversation_id, m.seq").columns(created_at=UTCDateTime)


async def welcome_state_batch(rt: Runtime, batch: list[StateIn]) -> list[WelcomeState | ActionError]:
    vids = {s.visitor.id for s in batch}
    cids = {cid for s in batch for cid in s.wanted}
    async with rt.sessions() as session:
        where = and_(Conversation.visitor_id.in_(vids), Conversation.status == "open")
        if cids:
            where = or_(where, Conversation.id.in_(cids))
        convs = {row.id: row for row in (await session.execute(select(*_CONVERSATION_COLUMNS).where(where))).all()}
        current = {c.visitor_id: c for c in convs.values() if c.status == "open" and c.visitor_id in vids}
        plans: list[tuple[Any, dict[int, int], list[Replay]]] = []
        pairs: dict[int, int] = {}  # conversation id → the lowest seq held in the batch
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
                item = Replay(cid, last_seq=row.last_seq)
                if after > row.last_seq:
                    item.reset = "unknown_seq"
                elif row.last_seq - after > REPLAY_MAX:
                    item.reset = "gap_too_large"
                elif after < row.last_seq:
                    pairs[cid] = min(after, pairs.get(cid, after))
                replays.append(item)
            plans.append((conv, wanted, replays))
        messages: dict[int, list[Any]] = {}
        if pairs:
            if rt.engine.dialect.name == "postgresql":
                result = await session.execute(_REPLAY_POSTGRESQL,
                                               {"cids": list(pairs), "afters": list(pairs.values())})
            else:
                result = await session.execute(_REPLAY_SQLITE, {"pairs": json.dumps(list(pairs.items()))})
            for m in result.all():
                messages.setdefault(m.conversation_id, []).append(m)
        wanted_ops = {c.assignee_id for c, _, _ in plans if c is not None and c.assignee_id}
        wanted_ops.update(m.author_operator_id for rows in messages.values() for m in rows if m.author_operator_id)
        ops = await queries.authors(session, wanted_ops)
        waiting_sites = {c.site_id for c, _, _ in plans if c is not None and c.assignee_id is None}
        positions = await _queue_positions(session, waiting_sites)
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
