"""Quick phrases (issue 9): personal phrases of an operator and shared phrases of a site, the
suggestions under the chat input (``language.phrases.PhraseIndex``), variables filled from the
dialog, usage counts, Alt+digit bindings, and CSV import/export.

Shared phrases are edited by admins; every operator of the site sees them. The search index of
(site, operator) is cached on this node and rebuilt when a cheap fingerprint of the phrase list
(count, newest change, highest id) differs — correct across nodes without an event."""
from __future__ import annotations

import contextlib
import re
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.actions import queries
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef
from frontdesk.actions.validate import check_id, has_control
from frontdesk.language import phrases as engine
from frontdesk.models import Conversation, Phrase, PhraseHotkey, PhraseSettings, PhraseUsage, Site, Visitor

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

MAX_GROUP = 100
MAX_PHRASES = 5_000  # per owner (an operator, a site)
SEARCH_LIMIT = 8
_KEY_RE = re.compile(rf"^/?[\w-]{{1,{engine.MAX_KEY}}}$")
_CACHE_SIZE = 256
# (id(engine), site_id, operator_id) → (fingerprint, index)
_generation = [0]  # bumped by every change made on this node (same-instant edits on another node: the stamp)
_indexes: OrderedDict[tuple[int, int | None, int], tuple[tuple, engine.PhraseIndex]] = OrderedDict()


@contextlib.asynccontextmanager
async def _change(rt: Runtime) -> AsyncIterator[AsyncSession]:
    """A transaction that changes phrases; after its commit this node's cached indexes are stale."""
    async with rt.sessions() as session, session.begin():
        yield session
    _generation[0] += 1


# --- input ---------------------------------------------------------------------------------

def check_phrase(data: object) -> dict:
    """{key, title, text, group} of a phrase, normalised: key "" or "/word"; one-line title and group."""
    if not isinstance(data, dict):
        raise ActionError("invalid_input", "a phrase must be an object")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ActionError("invalid_input", "the text of a phrase must not be empty")
    text = text.replace("\r\n", "\n").strip()
    if len(text) > engine.MAX_TEXT:
        raise ActionError("invalid_input", f"the text is longer than {engine.MAX_TEXT} characters")
    out = {"text": text}
    for field, limit in (("title", engine.MAX_TITLE), ("group", MAX_GROUP)):
        value = data.get(field) or ""
        if not isinstance(value, str) or len(value.strip()) > limit or has_control(value):
            raise ActionError("invalid_input", f"the {field} must be one line of at most {limit} characters")
        out[field] = " ".join(value.split())
    key = data.get("key") or ""
    if not isinstance(key, str):
        raise ActionError("invalid_input", "the key must be a string")
    key = key.strip()
    if key and not _KEY_RE.match(key):
        raise ActionError("invalid_input", f"the key must be one word of letters, digits, '-' or '_' "
                                           f"(at most {engine.MAX_KEY})")
    out["key"] = "/" + key.lstrip("/") if key else ""
    return out


def check_scope(scope: object, site_id: object) -> tuple[str, int | None]:
    if scope == "personal":
        return "personal", None
    if scope == "site":
        return "site", check_id(site_id, "site")
    raise ActionError("invalid_input", "scope must be 'personal' or 'site'")


# --- reads -----------------------------------------------------------------------------------

def _shape(p: Phrase, uses: int = 0, hotkey: int | None = None) -> dict:
    return {"id": p.id, "scope": "personal" if p.operator_id is not None else "site", "site_id": p.site_id,
            "key": p.key, "title": p.title, "text": p.text, "group": p.group, "uses": uses, "hotkey": hotkey}


def _visible(op: OperatorRef, site_ids: set[int]) -> ColumnElement[bool]:
    return or_(Phrase.operator_id == op.id, Phrase.site_id.in_(site_ids))


async def _usage(session: AsyncSession, op: OperatorRef) -> dict[int | str | None, int]:
    rows = await session.execute(select(PhraseUsage.phrase_id, PhraseUsage.count)
                                 .where(PhraseUsage.operator_id == op.id))
    return {int(pid): int(n) for pid, n in rows}


async def _hotkeys(session: AsyncSession, op: OperatorRef) -> dict[int, int]:
    """phrase id → digit"""
    rows = await session.execute(select(PhraseHotkey.phrase_id, PhraseHotkey.digit)
                                 .where(PhraseHotkey.operator_id == op.id))
    return {pid: d for pid, d in rows}


async def list_phrases(rt: Runtime, op: OperatorRef) -> dict:
    """The operator's personal phrases and the shared phrases of its sites (with its usage counts
    and Alt+digit bindings), grouped order: group, title."""
    async with rt.sessions() as session:
        site_ids = await queries.operator_site_ids(session, op)
        rows = (await session.execute(select(Phrase).where(_visible(op, site_ids))
                                      .order_by(Phrase.group, Phrase.title, Phrase.id))).scalars().all()
        usage = await _usage(session, op)
        hot = await _hotkeys(session, op)
        sites = {s.id: s.name for s in (await session.execute(select(Site).where(Site.id.in_(site_ids)))).scalars()}
        settings = await session.get(PhraseSettings, op.id)
    return {"phrases": [_shape(p, usage.get(p.id, 0), hot.get(p.id)) for p in rows],
            "sites": [{"id": i, "name": n} for i, n in sorted(sites.items())],
            "can_edit_shared": op.is_admin,
            "settings": _settings_shape(settings)}


def _settings_shape(row: PhraseSettings | None) -> dict:
    return {"spell_warn": bool(row and row.spell_warn)}


async def get_settings(rt: Runtime, op: OperatorRef) -> dict:
    async with rt.sessions() as session:
        return {"settings": _settings_shape(await session.get(PhraseSettings, op.id))}


async def set_settings(rt: Runtime, op: OperatorRef, *, spell_warn: object) -> dict:
    """The operator's composer settings (``spell_warn``: ask once before sending a message with
    underlined words). Returns ``{"settings": …}``."""
    if not isinstance(spell_warn, bool):
        raise ActionError("invalid_input", "spell_warn must be true or false")
    async with rt.sessions() as session, session.begin():
        row = await session.get(PhraseSettings, op.id)
        if row is None:
            row = PhraseSettings(operator_id=op.id, spell_warn=spell_warn)
            session.add(row)
        else:
            row.spell_warn = spell_warn
        out = _settings_shape(row)
    return {"settings": out}


async def _editable(session: AsyncSession, op: OperatorRef, phrase_id: object) -> Phrase:
    pid = check_id(phrase_id, "phrase")
    p = await session.get(Phrase, pid)
    if p is None:
        raise not_found("phrase")
    if p.operator_id is not None:
        if p.operator_id != op.id:
            raise not_found("phrase")
    else:
        if p.site_id not in await queries.operator_site_ids(session, op):
            raise not_found("phrase")
        if not op.is_admin:
            raise ActionError("forbidden", "only an admin edits the shared phrases of a site", 403)
    return p


async def _check_owner(session: AsyncSession, op: OperatorRef, scope: str, site_id: int | None) -> None:
    if scope == "site":
        if site_id not in await queries.operator_site_ids(session, op):
            raise not_found("site")
        if not op.is_admin:
            raise ActionError("forbidden", "only an admin edits the shared phrases of a site", 403)
    owner = Phrase.operator_id == op.id if scope == "personal" else Phrase.site_id == site_id
    count = (await session.execute(select(func.count()).select_from(Phrase).where(owner))).scalar_one()
    if count >= MAX_PHRASES:
        raise ActionError("invalid_input", f"at most {MAX_PHRASES} phrases")


async def create_phrase(rt: Runtime, op: OperatorRef, data: object, scope: object = "personal",
                        site_id: object = None) -> dict:
    clean = check_phrase(data)
    kind, sid = check_scope(scope, site_id)
    async with _change(rt) as session:
        await _check_owner(session, op, kind, sid)
        now = rt.clock()
        p = Phrase(operator_id=op.id if kind == "personal" else None, site_id=sid, created_at=now,
                   updated_at=now, **clean)
        session.add(p)
        await session.flush()
        return _shape(p)


async def update_phrase(rt: Runtime, op: OperatorRef, phrase_id: object, data: object) -> dict:
    clean = check_phrase(data)
    async with _change(rt) as session:
        p = await _editable(session, op, phrase_id)
        for k, v in clean.items():
            setattr(p, k, v)
        p.updated_at = rt.clock()
        usage = await _usage(session, op)
        hot = await _hotkeys(session, op)
        return _shape(p, usage.get(p.id, 0), hot.get(p.id))


async def delete_phrase(rt: Runtime, op: OperatorRef, phrase_id: object) -> None:
    async with _change(rt) as session:
        p = await _editable(session, op, phrase_id)
        await session.execute(delete(PhraseUsage).where(PhraseUsage.phrase_id == p.id))
        await session.execute(delete(PhraseHotkey).where(PhraseHotkey.phrase_id == p.id))
        await session.delete(p)


async def set_hotkey(rt: Runtime, op: OperatorRef, digit: object, phrase_id: object) -> dict:
    """Bind Alt+``digit`` (1…9) to a phrase the operator sees (``phrase_id`` None unbinds)."""
    if not isinstance(digit, int) or isinstance(digit, bool) or not 1 <= digit <= 9:
        raise ActionError("invalid_input", "digit must be 1-9")
    async with rt.sessions() as session, session.begin():
        await session.execute(delete(PhraseHotkey).where(PhraseHotkey.operator_id == op.id,
                                                         PhraseHotkey.digit == digit))
        if phrase_id is not None:
            p = await _visible_phrase(session, op, phrase_id)
            await session.execute(delete(PhraseHotkey).where(PhraseHotkey.operator_id == op.id,
                                                             PhraseHotkey.phrase_id == p.id))
            session.add(PhraseHotkey(operator_id=op.id, digit=digit, phrase_id=p.id))
    return {"digit": digit, "phrase_id": phrase_id}


async def _visible_phrase(session: AsyncSession, op: OperatorRef, phrase_id: object) -> Phrase:
    p = await session.get(Phrase, check_id(phrase_id, "phrase"))
    if p is None or (p.operator_id is not None and p.operator_id != op.id) or \
            (p.site_id is not None and p.site_id not in await queries.operator_site_ids(session, op)):
        raise not_found("phrase")
    return p


# --- suggestions -----------------------------------------------------------------------------

async def _dialog(session: AsyncSession, op: OperatorRef, conversation_id: object) -> tuple[int, dict[str, str]]:
    conv: Conversation = await queries.operator_conversation(session, op, conversation_id)
    site = await session.get(Site, conv.site_id)
    visitor = await session.get(Visitor, conv.visitor_id)
    return conv.site_id, {
        "visitor_name": (visitor.name or "").strip() if visitor else "",
        "operator_name": op.name,
        "site_name": site.name if site else "",
        "page_title": (visitor.page_title or "").strip() if visitor else "",
    }


async def _index(session: AsyncSession, rt: Runtime, op: OperatorRef, site_id: int) -> engine.PhraseIndex:
    where = or_(Phrase.operator_id == op.id, Phrase.site_id == site_id)
    stamp = tuple((await session.execute(select(func.count(), func.max(Phrase.updated_at), func.max(Phrase.id))
                                          .where(where))).one()) + (_generation[0],)
    key = (id(rt.engine), site_id, op.id)
    cached = _indexes.get(key)
    if cached is not None and cached[0] == stamp:
        _indexes.move_to_end(key)
        return cached[1]
    rows = (await session.execute(select(Phrase).where(where).order_by(Phrase.id))).scalars().all()
    index = engine.PhraseIndex([engine.Phrase(id=p.id, key=p.key, title=p.title, text=p.text, group=p.group)
                                for p in rows])
    _indexes[key] = (stamp, index)
    while len(_indexes) > _CACHE_SIZE:
        _indexes.popitem(last=False)
    return index


def _filled(text: str, variables: dict[str, str]) -> str:
    return engine.fill(text, variables)


async def search(rt: Runtime, op: OperatorRef, conversation_id: object, query: object,
                 limit: int = SEARCH_LIMIT) -> list[dict]:
    """Phrases for what the operator typed in the dialog's input, best first, with the text filled
    from the dialog (``filled``; plain text — the panel escapes it)."""
    if not isinstance(query, str) or len(query) > 200:
        raise ActionError("invalid_input", "query must be a string of at most 200 characters")
    async with rt.sessions() as session:
        site_id, variables = await _dialog(session, op, conversation_id)
        index = await _index(session, rt, op, site_id)
        usage = await _usage(session, op)
        hot = await _hotkeys(session, op)
        scopes = {pid: owner for pid, owner in (await session.execute(select(Phrase.id, Phrase.operator_id).where(
            or_(Phrase.operator_id == op.id, Phrase.site_id == site_id)))).all()}
    found = index.search(query, usage=usage, limit=max(1, min(limit, 20)))
    out = []
    for m in found:
        p = m.phrase
        pid = int(p.id) if p.id is not None else 0
        out.append({"id": pid, "scope": "personal" if scopes.get(pid) is not None else "site", "key": p.key,
                    "title": p.title, "text": p.text, "group": p.group, "filled": _filled(p.text, variables),
                    "how": m.how, "score": m.score, "uses": usage.get(pid, 0), "hotkey": hot.get(pid)})
    return out


async def use_phrase(rt: Runtime, op: OperatorRef, phrase_id: object, conversation_id: object) -> dict:
    """The operator put a phrase into the input (picked or Alt+digit): count it, and return the
    text filled from this dialog."""
    async with rt.sessions() as session, session.begin():
        p = await _visible_phrase(session, op, phrase_id)
        site_id, variables = await _dialog(session, op, conversation_id)
        if p.site_id is not None and p.site_id != site_id:
            raise not_found("phrase")
        done = await session.execute(update(PhraseUsage).where(
            PhraseUsage.operator_id == op.id, PhraseUsage.phrase_id == p.id).values(count=PhraseUsage.count + 1))
        if not getattr(done, "rowcount", 0):
            session.add(PhraseUsage(operator_id=op.id, phrase_id=p.id, count=1))
        return {"id": p.id, "text": _filled(p.text, variables)}


async def hotkey_phrase(rt: Runtime, op: OperatorRef, digit: object) -> int | None:
    """The phrase bound to Alt+``digit``, if any."""
    if not isinstance(digit, int) or not 1 <= digit <= 9:
        raise ActionError("invalid_input", "digit must be 1-9")
    async with rt.sessions() as session:
        return (await session.execute(select(PhraseHotkey.phrase_id).where(
            PhraseHotkey.operator_id == op.id, PhraseHotkey.digit == digit))).scalar_one_or_none()


# --- CSV ---------------------------------------------------------------------------------------

async def export_csv(rt: Runtime, op: OperatorRef, scope: object, site_id: object = None) -> str:
    kind, sid = check_scope(scope, site_id)
    async with rt.sessions() as session:
        if kind == "site" and sid not in await queries.operator_site_ids(session, op):
            raise not_found("site")
        owner = Phrase.operator_id == op.id if kind == "personal" else Phrase.site_id == sid
        rows = (await session.execute(select(Phrase).where(owner).order_by(Phrase.group, Phrase.title, Phrase.id)))
        items = [engine.Phrase(id=p.id, key=p.key, title=p.title, text=p.text, group=p.group)
                 for p in rows.scalars()]
    return engine.phrases_to_csv(items, bom=True)


async def import_csv(rt: Runtime, op: OperatorRef, data: bytes, scope: object, site_id: object = None) -> dict:
    """Add the phrases of a CSV file (UTF-8): a row whose ``id`` is a phrase of the same owner
    updates it (so an export imported again changes nothing), any other row adds a phrase."""
    kind, sid = check_scope(scope, site_id)
    try:
        items = engine.phrases_from_csv(data)
    except engine.PhraseCSVError as exc:
        raise ActionError("invalid_input", str(exc)[:2000]) from None
    created = updated = unchanged = 0
    async with _change(rt) as session:
        await _check_owner(session, op, kind, sid)
        owner = Phrase.operator_id == op.id if kind == "personal" else Phrase.site_id == sid
        mine = {p.id: p for p in (await session.execute(select(Phrase).where(owner))).scalars()}
        if len(mine) + len(items) > MAX_PHRASES:
            raise ActionError("invalid_input", f"at most {MAX_PHRASES} phrases")
        now = rt.clock()
        for item in items:
            clean = check_phrase({"key": item.key, "title": item.title, "text": item.text, "group": item.group})
            existing = mine.get(item.id) if isinstance(item.id, int) else None
            if existing is not None:
                if all(getattr(existing, k) == v for k, v in clean.items()):
                    unchanged += 1
                    continue
                for k, v in clean.items():
                    setattr(existing, k, v)
                existing.updated_at = now
                updated += 1
            else:
                session.add(Phrase(operator_id=op.id if kind == "personal" else None, site_id=sid,
                                   created_at=now, updated_at=now, **clean))
                created += 1
    return {"created": created, "updated": updated, "unchanged": unchanged}


__all__ = ["check_phrase", "create_phrase", "delete_phrase", "export_csv", "hotkey_phrase", "import_csv",
           "list_phrases", "search", "set_hotkey", "update_phrase", "use_phrase"]
