"""The quality coach, wired (issue 13; docs/quality.md): the criteria engine of ``frontdesk.quality``
run over closed conversations **in the background** (``score_pending``, a supervised loop — never on
the message path), its results stored per conversation and criterion, read back for the dialog and
aggregated per operator with the best and worst examples; each site's weights and limits edited by
admins.

A conversation is (re)scored when it is closed and has no score for its current ``closed_at`` —
so a conversation reopened and closed again is scored again. Two nodes scoring the same one at
once is harmless: the second insert fails and is dropped (the results are the same).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from frontdesk import serialize
from frontdesk.actions import queries, reports, spelling
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef
from frontdesk.actions.validate import check_id
from frontdesk.language import spelling as spell_engine
from frontdesk.models import (
    Conversation,
    ConversationQuality,
    Message,
    QualityCriterion,
    Site,
    SiteQualitySettings,
    SpellWord,
    Visitor,
)
from frontdesk.quality import CRITERIA, DEFAULT_SETTINGS, Msg, score_conversation

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from frontdesk.runtime import Runtime

log = logging.getLogger(__name__)

BATCH = 100
EXAMPLES = 5          # best and worst examples shown
WEIGHT_MAX = 10
LIMITS = {"first_reply_seconds": (5, 3600), "silence_minutes": (1, 240)}


# --- settings ------------------------------------------------------------------------------------

def check_quality_settings(body: object) -> dict:
    """``{first_reply_seconds?, silence_minutes?, weights?: {criterion: 0..10}}`` → the full settings
    (defaults for what is left out). ``invalid_input`` for anything else."""
    if not isinstance(body, dict):
        raise ActionError("invalid_input", "settings must be an object")
    unknown = set(body) - {*LIMITS, "weights"}
    if unknown:
        raise ActionError("invalid_input", f"unknown setting {sorted(unknown)[0]!r}")
    out: dict = {k: v for k, v in DEFAULT_SETTINGS.items() if k != "weights"}
    for key, (low, high) in LIMITS.items():
        if key in body:
            v = body[key]
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
                raise ActionError("invalid_input", f"{key} must be a whole number {low}..{high}")
            out[key] = v
    weights = dict(DEFAULT_SETTINGS["weights"])
    given = body.get("weights", {})
    if not isinstance(given, dict):
        raise ActionError("invalid_input", "weights must be an object")
    for cid, w in given.items():
        if cid not in CRITERIA:
            raise ActionError("invalid_input", f"unknown criterion {str(cid)[:40]!r}")
        if isinstance(w, bool) or not isinstance(w, int | float) or not 0 <= w <= WEIGHT_MAX or w != w:
            raise ActionError("invalid_input", f"a weight is a number 0..{WEIGHT_MAX}")
        weights[cid] = int(w) if float(w).is_integer() else round(float(w), 2)
    out["weights"] = weights
    return out


async def settings_of(session: AsyncSession, site_id: int) -> dict:
    row = await session.get(SiteQualitySettings, site_id)
    if row is None:
        return check_quality_settings({})
    try:
        return check_quality_settings(row.settings)
    except ActionError:   # stored by an older version with other keys: the defaults
        return check_quality_settings({})


async def _site(session: AsyncSession, operator: OperatorRef, site_id: object) -> Site:
    sid = check_id(site_id, "site")
    site = await session.get(Site, sid)
    if site is None or sid not in await queries.operator_site_ids(session, operator):
        raise not_found("site")
    return site


async def get_settings(rt: Runtime, operator: OperatorRef, site_id: object) -> dict:
    """The coach settings of a site the operator works on (admins: any)."""
    async with rt.sessions() as session:
        site = await _site(session, operator, site_id)
        return {"site_id": site.id, "settings": await settings_of(session, site.id), "criteria": list(CRITERIA)}


async def set_settings(rt: Runtime, operator: OperatorRef, site_id: object, body: object) -> dict:
    """Admins only: replace a site's coach settings. Conversations scored before keep their scores."""
    if not operator.is_admin:
        raise ActionError("forbidden", "only an admin edits the coach settings", 403)
    clean = check_quality_settings(body)
    async with rt.sessions() as session, session.begin():
        site = await _site(session, operator, site_id)
        row = await session.get(SiteQualitySettings, site.id)
        if row is None:
            session.add(SiteQualitySettings(site_id=site.id, settings=clean, updated_at=rt.clock()))
        else:
            row.settings, row.updated_at = clean, rt.clock()
    return {"site_id": site.id, "settings": clean, "criteria": list(CRITERIA)}


# --- scoring (background) ------------------------------------------------------------------------

async def _checker(session: AsyncSession, site_id: int) -> Callable[[str], list[str]] | None:
    """The spell checker as the engine wants it (wrong words of a text), with the site's own
    dictionary; None while the dictionaries are not loaded (the criterion then does not apply)."""
    if not spelling.ready():
        return None
    site_words = list((await session.execute(
        select(SpellWord.word).where(SpellWord.site_id == site_id))).scalars())
    checker = spell_engine.get_spell_checker()
    return lambda text: [i.word for i in checker.check(text, site=site_words)]


async def pending_ids(rt: Runtime, limit: int = BATCH, since: datetime | None = None) -> list[int]:
    """Closed conversations with messages and no score for their current close, oldest close first;
    ``since``: only those closed at or after it (the loop's cheap scan; None = all)."""
    q = ConversationQuality
    closed = [Conversation.status == "closed", Conversation.closed_at.is_not(None)]
    if since is not None:
        closed.append(Conversation.closed_at >= since)
    async with rt.sessions() as session:
        return list((await session.execute(
            select(Conversation.id).outerjoin(q, q.conversation_id == Conversation.id)
            .where(*closed, Conversation.last_seq > 0,
                   or_(q.conversation_id.is_(None), q.closed_at != Conversation.closed_at))
            .order_by(Conversation.closed_at, Conversation.id).limit(limit))).scalars())


async def score_one(rt: Runtime, conversation_id: int) -> int | None:
    """Score one closed conversation and store the result; returns the score (None: nothing to score)."""
    async with rt.sessions() as session:
        conv = await session.get(Conversation, conversation_id)
        if conv is None or conv.status != "closed" or conv.closed_at is None:
            return None
        rows = (await session.execute(
            select(Message.id, Message.kind, Message.text, Message.created_at)
            .where(Message.conversation_id == conv.id, Message.kind.in_(("visitor", "operator")))
            .order_by(Message.seq))).all()
        cfg = await settings_of(session, conv.site_id)
        misspelled = await _checker(session, conv.site_id) if cfg["weights"].get("spelling", 0) > 0 else None
    msgs = [Msg(r[0], r[1], r[2], r[3]) for r in rows]
    result = await asyncio.get_running_loop().run_in_executor(
        None, lambda: score_conversation(msgs, closed_at=conv.closed_at, settings=cfg, misspelled=misspelled))
    try:
        async with rt.sessions() as session, session.begin():
            await session.execute(delete(QualityCriterion).where(QualityCriterion.conversation_id == conv.id))
            await session.execute(delete(ConversationQuality).where(ConversationQuality.conversation_id == conv.id))
            by_id = result.by_id()
            applied = sum(1 << i for i, k in enumerate(CRITERIA) if k in by_id and by_id[k].passed is not None)
            passed = sum(1 << i for i, k in enumerate(CRITERIA) if k in by_id and by_id[k].passed is True)
            session.add(ConversationQuality(conversation_id=conv.id, site_id=conv.site_id, operator_id=conv.assignee_id,
                                            score=result.score, applied_mask=applied, passed_mask=passed,
                                            created_at=conv.created_at, closed_at=conv.closed_at, scored_at=rt.clock()))
            await session.flush()
            session.add_all(QualityCriterion(conversation_id=conv.id, criterion=c.id, passed=c.passed, weight=c.weight,
                                             message_ids=list(c.messages), detail=_plain(c.detail))
                            for c in result.criteria)
    except IntegrityError:   # another node stored the same result at the same moment
        log.debug("conversation %s was scored by another node", conv.id)
    return result.score


def _plain(detail: dict) -> dict:
    return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in detail.items()}


async def score_pending(rt: Runtime, limit: int = BATCH, since: datetime | None = None) -> int:
    """One pass of the coach: score up to ``limit`` conversations waiting for it (closed at or after
    ``since`` when given); how many were scored."""
    done = 0
    for cid in await pending_ids(rt, limit, since):
        await score_one(rt, cid)
        done += 1
    return done


class Coach:
    """The background loop's state (scoring, and the reports' stored message counts): a full scan at
    start and every ``FULL_SCAN_EVERY`` passes (a node that was down, or the coach turned off for a
    while, catches up), in between only the conversations closed in the last ``RECENT`` — so an idle
    pass costs a few index probes, not one per closed conversation ever."""

    RECENT = timedelta(hours=1)
    FULL_SCAN_EVERY = 360

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.passes = 0

    async def run_once(self) -> int:
        full = self.passes % self.FULL_SCAN_EVERY == 0
        since = None if full else self.rt.clock() - self.RECENT
        done = await score_pending(self.rt, BATCH, since)
        # the same pass stores the closed conversations' message counts for the reports (actions/reports.py)
        done = max(done, await reports.refresh_pending_stats(self.rt, BATCH, since))
        if done < BATCH:   # the backlog is done: the next pass may be a cheap one
            self.passes += 1
        return done


# --- reading -------------------------------------------------------------------------------------

async def conversation_quality(rt: Runtime, operator: OperatorRef, conversation_id: object) -> dict:
    """The coach's result for one conversation the operator may see:
    ``{conversation_id, state: open | pending | scored, score, scored_at, criteria: [...]}``; each
    criterion with ``passed`` (null: did not apply), ``weight``, ``detail`` and the ``messages``
    that triggered it (id, seq, kind, text)."""
    async with rt.sessions() as session:
        conv = await queries.operator_conversation(session, operator, conversation_id)
        row = await session.get(ConversationQuality, conv.id)
        base: dict = {"conversation_id": conv.id, "score": None, "scored_at": None, "criteria": []}
        if conv.status != "closed":
            return {**base, "state": "open"}
        if row is None or row.closed_at != conv.closed_at:
            return {**base, "state": "pending"}
        crits = {c.criterion: c for c in (await session.execute(
            select(QualityCriterion).where(QualityCriterion.conversation_id == conv.id))).scalars()}
        wanted = {int(i) for c in crits.values() for i in c.message_ids}
        msgs = {m.id: m for m in (await session.execute(
            select(Message).where(Message.conversation_id == conv.id, Message.id.in_(wanted)))).scalars()} \
            if wanted else {}
    criteria = []
    for cid in CRITERIA:   # the engine's order
        c = crits.get(cid)
        if c is None:
            continue
        criteria.append({"id": cid, "passed": c.passed, "weight": c.weight, "detail": c.detail,
                         "messages": [{"id": m.id, "seq": m.seq, "kind": m.kind, "text": m.text[:300]}
                                      for i in c.message_ids if (m := msgs.get(int(i))) is not None]})
    return {**base, "state": "scored", "score": row.score, "scored_at": serialize.iso(row.scored_at),
            "criteria": criteria}


async def site_quality(rt: Runtime, operator: OperatorRef, site_id: object, date_from: object,
                       date_to: object) -> dict:
    """The coach's figures for the conversations of a period (started in it, as the reports count
    them): the average score, each criterion's pass rate, the same per operator (by who held the
    conversation at the close), and the best and worst scored examples."""
    q = ConversationQuality
    async with rt.sessions() as session:
        site = await _site(session, operator, site_id)
        period = reports.check_period(date_from, date_to, reports.site_zone(site))
        start, end = period.bounds()
        scope = (q.site_id == site.id, q.created_at >= start, q.created_at < end)
        # one scan of the period's scores: per operator the scored count, sum, min and max, and the pass
        # rates from the bit masks (no join to quality_criteria); the totals are their sums
        bits = [(cid, 1 << i) for i, cid in enumerate(CRITERIA)]
        per_op_rows = (await session.execute(
            select(q.operator_id, func.count(q.score), func.sum(q.score), func.min(q.score), func.max(q.score),
                   *[func.sum(case((q.passed_mask.op("&")(b) != 0, 1), else_=0)) for _c, b in bits],
                   *[func.sum(case((q.applied_mask.op("&")(b) != 0, 1), else_=0)) for _c, b in bits])
            .where(*scope).group_by(q.operator_id))).all()
        per_op = [(r[0], int(r[1]), int(r[2]) / int(r[1]), r[3], r[4]) for r in per_op_rows if r[1]]
        overall = (sum(int(r[1]) for r in per_op_rows), sum(int(r[2] or 0) for r in per_op_rows))
        per_crit = [(r[0], cid, r[5 + i], r[5 + len(bits) + i])
                    for r in per_op_rows for i, (cid, _b) in enumerate(bits)]

        async def examples(order: list) -> list[dict]:
            # the few best/worst first, then their visitors (not a join over the whole period)
            rows = (await session.execute(
                select(q.conversation_id, q.score, q.operator_id, q.closed_at)
                .where(*scope, q.score.is_not(None)).order_by(*order).limit(EXAMPLES))).all()
            who = {cid: (vid, name) for cid, vid, name in (await session.execute(
                select(Conversation.id, Visitor.id, Visitor.name).join(Visitor, Visitor.id == Conversation.visitor_id)
                .where(Conversation.id.in_([r[0] for r in rows])))).all()} if rows else {}
            return [{"conversation_id": r[0], "score": r[1], "operator_id": r[2], "closed_at": serialize.iso(r[3]),
                     "visitor": {"id": who.get(r[0], (None, None))[0], "name": who.get(r[0], (None, None))[1]}}
                    for r in rows]

        best = await examples([q.score.desc(), q.closed_at.desc(), q.conversation_id.desc()])
        worst = await examples([q.score.asc(), q.closed_at.desc(), q.conversation_id.desc()])
        names = await queries.authors(session, [r[0] for r in per_op] + [e["operator_id"] for e in best + worst])

    def name(oid: int | None) -> str:
        found = names.get(oid or 0)
        return found.name if found else ("—" if oid is None else f"#{oid}")

    crit_totals: dict[str, list[int]] = {k: [0, 0] for k in CRITERIA}
    crit_by_op: dict[int | None, dict[str, float | None]] = {}
    for oid, cid, passed, applied in per_crit:
        if cid not in crit_totals:
            continue
        crit_totals[cid][0] += int(passed or 0)
        crit_totals[cid][1] += int(applied or 0)
        crit_by_op.setdefault(oid, {})[cid] = round(int(passed or 0) / int(applied), 3) if applied else None
    operators = [{"operator_id": oid, "name": name(oid), "scored": int(n), "score_avg": round(float(avg), 1),
                  "score_min": int(lo), "score_max": int(hi),
                  "criteria": {k: crit_by_op.get(oid, {}).get(k) for k in CRITERIA}}
                 for oid, n, avg, lo, hi in per_op]
    operators.sort(key=lambda r: (-r["scored"], r["name"]))
    scored = overall[0]
    avg_all = round(overall[1] / scored, 1) if scored else None
    for e in best + worst:
        e["operator_name"] = name(e["operator_id"])
    return {"site": {"id": site.id, "name": site.name}, "from": period.first.isoformat(), "to": period.end.isoformat(),
            "scored": scored, "score_avg": avg_all,
            "criteria": {k: (round(p / n, 3) if n else None) for k, (p, n) in crit_totals.items()},
            "operators": operators, "best": best, "worst": [w for w in worst if w["score"] < 100]}
