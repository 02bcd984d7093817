"""Spell check of the operator's chat input (issue 9): the checker of ``language.spelling``, the
operator's own dictionary and the site's dictionary (brand and product names; admins edit it).

The dictionaries load once per process in a worker thread at start (``start_loading``); until
they are loaded ``check`` answers ``ready: false`` at once instead of holding the request."""
from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, select

from frontdesk.actions import queries
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef
from frontdesk.actions.validate import check_id
from frontdesk.language import spelling
from frontdesk.models import SpellWord

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

log = logging.getLogger(__name__)
MAX_CHECK_CHARS = 10_000
MAX_WORD = 64
_loading: threading.Thread | None = None


def start_loading() -> None:
    """Load the dictionaries in a daemon thread (once per process); never blocks the caller."""
    global _loading
    if _loading is not None or spelling.is_loaded():
        return

    def load() -> None:
        try:
            spelling.get_spell_checker().load()
            log.info("spell checker loaded")
        except Exception:  # a missing dictionary must not take the server down
            log.exception("the spell checker could not be loaded; spell check stays off")

    _loading = threading.Thread(target=load, name="spellcheck-load", daemon=True)
    _loading.start()


def ready() -> bool:
    return spelling.is_loaded()


def check_word(word: object) -> str:
    if not isinstance(word, str) or not word.strip() or len(word.strip()) > MAX_WORD or any(c.isspace() for c in
                                                                                          word.strip()):
        raise ActionError("invalid_input", f"a word is one word of at most {MAX_WORD} characters")
    return word.strip()


async def _words(rt: Runtime, op: OperatorRef, site_id: int | None) -> tuple[list[str], list[str]]:
    async with rt.sessions() as session:
        rows = (await session.execute(select(SpellWord.word, SpellWord.operator_id).where(
            or_(SpellWord.operator_id == op.id, SpellWord.site_id == site_id) if site_id is not None
            else SpellWord.operator_id == op.id))).all()
    return [w for w, o in rows if o is not None], [w for w, o in rows if o is None]


async def check(rt: Runtime, op: OperatorRef, text: object, conversation_id: object = None) -> dict:
    """{ready, issues: [{word, start, end, suggestions, lang, kind}]} with ``start``/``end`` in
    UTF-16 units (as the panel's strings count)."""
    if not isinstance(text, str) or len(text) > MAX_CHECK_CHARS:
        raise ActionError("invalid_input", f"text must be a string of at most {MAX_CHECK_CHARS} characters")
    if not spelling.is_loaded():
        return {"ready": False, "issues": []}
    site_id = None
    if conversation_id is not None:
        async with rt.sessions() as session:
            site_id = (await queries.operator_conversation(session, op, conversation_id)).site_id
    personal, site = await _words(rt, op, site_id)
    checker = spelling.get_spell_checker()
    issues = await asyncio.get_running_loop().run_in_executor(
        None, lambda: checker.check(text, personal=personal, site=site))
    out = []
    for i in issues:
        d = i.as_dict()
        d["start"], d["end"] = spelling.utf16_offset(text, i.start), spelling.utf16_offset(text, i.end)
        out.append(d)
    return {"ready": True, "issues": out}


async def list_words(rt: Runtime, op: OperatorRef) -> dict:
    async with rt.sessions() as session:
        site_ids = await queries.operator_site_ids(session, op)
        rows = (await session.execute(select(SpellWord).where(
            or_(SpellWord.operator_id == op.id, SpellWord.site_id.in_(site_ids))).order_by(SpellWord.word))).scalars()
        items = [{"id": w.id, "word": w.word, "scope": "personal" if w.operator_id else "site", "site_id": w.site_id}
                 for w in rows]
    return {"words": items}


async def add_word(rt: Runtime, op: OperatorRef, word: object, scope: object = "personal",
                   site_id: object = None) -> dict:
    """Add a word to the operator's dictionary, or (admins) to a site's dictionary."""
    w = check_word(word)
    sid: int | None = None
    if scope == "site":
        sid = check_id(site_id, "site")
        if not op.is_admin:
            raise ActionError("forbidden", "only an admin edits a site's dictionary", 403)
    elif scope != "personal":
        raise ActionError("invalid_input", "scope must be 'personal' or 'site'")
    async with rt.sessions() as session, session.begin():
        if sid is not None and sid not in await queries.operator_site_ids(session, op):
            raise not_found("site")
        owner = SpellWord.site_id == sid if sid is not None else SpellWord.operator_id == op.id
        found = (await session.execute(select(SpellWord).where(owner, SpellWord.word == w))).scalar_one_or_none()
        if found is None:
            found = SpellWord(operator_id=None if sid is not None else op.id, site_id=sid, word=w,
                              created_at=rt.clock())
            session.add(found)
            await session.flush()
        return {"id": found.id, "word": found.word, "scope": "site" if sid is not None else "personal",
                "site_id": sid}


async def remove_word(rt: Runtime, op: OperatorRef, word_id: object) -> None:
    wid = check_id(word_id, "word")
    async with rt.sessions() as session, session.begin():
        w = await session.get(SpellWord, wid)
        if w is None or (w.operator_id is not None and w.operator_id != op.id):
            raise not_found("word")
        if w.site_id is not None:
            if w.site_id not in await queries.operator_site_ids(session, op):
                raise not_found("word")
            if not op.is_admin:
                raise ActionError("forbidden", "only an admin edits a site's dictionary", 403)
        await session.execute(delete(SpellWord).where(SpellWord.id == wid))
