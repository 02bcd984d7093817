"""Reports: statistics of one site over a period, from one read of the period's conversations (a
row each, the same SQL on SQLite and PostgreSQL) folded here, with the visitor/operator message
counts that the background pass stored for closed conversations (``conversation_stats``; counted
live only where missing or out of date). Definitions (docs/reports.md):

* the conversations of a period: the site's conversations **started** (``created_at``) in
  [from, to) — local dates in the site's time zone (its working hours' zone, else UTC) — that
  have at least one message;
* **accepted**: an operator replied (``first_reply_at`` is set); **missed**: no operator reply yet —
  closed without one, or still waiting when the report is made;
* **first response**: ``first_reply_at − created_at`` of accepted conversations; **duration**:
  ``closed_at − created_at`` of closed ones. Median and p90 are *nearest-rank* percentiles: the
  value at rank ⌈p·n⌉ of the n sorted values;
* **messages per conversation**: visitor and operator messages (not notes or system messages)
  divided by the number of conversations;
* **CSAT**: the ratings of those conversations (1..5; thumbs down = 1, up = 5): average, count,
  how many of each value;
* **per operator**: by the operator holding the conversation (``assignee``); its CSAT by the
  operator stored with the rating; ``messages`` = replies that operator wrote in them; its
  **rating** (``operator_rating``) combines first-response speed, accepted share and CSAT;
* **per hour of the week**: conversations per local weekday (Monday first) and hour;
* **per department**: by the conversation's ``department_id`` (every department of the site, then
  "no department"); empty when the site has none;
* the previous period: the same number of days just before ``from`` (every number but the
  per-operator and per-department tables, which the page shows for the chosen period only: empty).
"""
from __future__ import annotations

import asyncio
import csv
import io
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, TextClause, bindparam, delete, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.actions import queries
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef
from frontdesk.actions.validate import check_id
from frontdesk.models import (
    Conversation,
    ConversationOperatorStats,
    ConversationStats,
    Department,
    Operator,
    Site,
)
from frontdesk.models.base import UTCDateTime

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

log = logging.getLogger(__name__)

MAX_DAYS = 366
# seconds: every real UTC offset is a multiple of 15 minutes, so 15-minute buckets fold into local days exactly
BUCKET = 900
TABLES = ("summary", "daily", "operators", "csat", "hours", "departments")
DEPARTMENT_COLUMNS = ("department_id", "name", "conversations", "accepted", "missed", "first_response_median",
                      "first_response_p90", "duration_avg", "messages", "csat_avg", "csat_count")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Period:
    first: date   # the first local day
    end: date     # the day after the last (exclusive)
    tz: ZoneInfo

    @property
    def days(self) -> int:
        return (self.end - self.first).days

    def bounds(self) -> tuple[datetime, datetime]:
        return (datetime.combine(self.first, datetime.min.time(), self.tz).astimezone(UTC),
                datetime.combine(self.end, datetime.min.time(), self.tz).astimezone(UTC))

    def previous(self) -> Period:
        return Period(self.first - timedelta(days=self.days), self.first, self.tz)


def check_period(date_from: object, date_to: object, tz: ZoneInfo) -> Period:
    """``from`` and ``to`` are ISO dates (``to`` exclusive), 1..366 days apart; ``invalid_input`` otherwise."""
    try:
        first = date.fromisoformat(str(date_from))
        end = date.fromisoformat(str(date_to))
    except ValueError:
        raise ActionError("invalid_input", "from and to must be dates such as 2026-11-01") from None
    if not 1 <= (end - first).days <= MAX_DAYS:
        raise ActionError("invalid_input", f"the period must be 1 to {MAX_DAYS} days, to after from")
    return Period(first, end, tz)


# --- dialect pieces: the only SQL that differs between SQLite and PostgreSQL ----------------------

def _epoch(dialect: str, col: str) -> str:
    if dialect == "sqlite":
        return f"CAST(strftime('%s', {col}) AS INTEGER)"
    return f"CAST(floor(extract(epoch from {col})) AS BIGINT)"


def _seconds(dialect: str, later: str, earlier: str) -> str:
    if dialect == "sqlite":
        return f"((julianday({later}) - julianday({earlier})) * 86400.0)"
    return f"CAST(extract(epoch from ({later} - {earlier})) AS DOUBLE PRECISION)"


def _params(stmt: str) -> TextClause:
    return text(stmt).bindparams(bindparam("start", type_=UTCDateTime), bindparam("end", type_=UTCDateTime))


# the conversations of the period
_SCOPE = "c.site_id = :site AND c.created_at >= :start AND c.created_at < :end AND c.last_seq > 0"


def _percentiles(values: list[float]) -> tuple[float | None, float | None, float | None]:
    """average, nearest-rank median and p90 (the value at rank ⌈p·n⌉ of the n sorted values)."""
    if not values:
        return None, None, None
    v = sorted(values)
    n = len(v)
    return sum(v) / n, v[(n * 50 + 99) // 100 - 1], v[(n * 90 + 99) // 100 - 1]


def _num(x: object, digits: int = 1) -> float | None:
    return None if x is None else round(float(x), digits)  # type: ignore[arg-type]


class _Group:
    """The figures of a group of the period's conversations (the whole period, an operator, a department)."""

    __slots__ = ("conversations", "accepted", "closed", "response", "duration", "messages", "ratings")

    def __init__(self) -> None:
        self.conversations = self.accepted = self.closed = self.messages = 0
        self.response: list[float] = []
        self.duration: list[float] = []
        self.ratings: list[int] = []

    def add(self, frt: float | None, dur: float | None, closed: bool, messages: int) -> None:
        self.conversations += 1
        self.closed += closed
        self.messages += messages
        if frt is not None:
            self.accepted += 1
            self.response.append(frt)
        if dur is not None:
            self.duration.append(dur)

    def table_row(self) -> dict:
        _a, med, p90 = _percentiles(self.response)
        avg_d = _percentiles(self.duration)[0]
        n = len(self.ratings)
        return {"conversations": self.conversations, "accepted": self.accepted,
                "missed": self.conversations - self.accepted,
                "first_response_median": _num(med), "first_response_p90": _num(p90), "duration_avg": _num(avg_d),
                "messages": self.messages, "csat_avg": _num(sum(self.ratings) / n, 2) if n else None,
                "csat_count": n}


def _group(groups: dict, key: object) -> _Group:
    g = groups.get(key)
    if g is None:
        g = groups[key] = _Group()
    return g


# one row per conversation of the period; its visitor + operator messages from conversation_stats when
# they were counted at the conversation's current last_seq (closed ones, counted by the background pass)
def _rows_sql(dialect: str) -> str:
    return f"""
        SELECT c.id, {_epoch(dialect, "c.created_at")} / {BUCKET},
               {_seconds(dialect, "c.first_reply_at", "c.created_at")},
               {_seconds(dialect, "c.closed_at", "c.created_at")},
               c.assignee_id, c.status, c.origin, c.invitation_name, c.department_id,
               CASE WHEN s.last_seq = c.last_seq THEN s.visitor_messages + s.operator_messages END,
               r.value, r.operator_id
        FROM conversations c
        LEFT JOIN conversation_stats s ON s.conversation_id = c.id
        LEFT JOIN conversation_ratings r ON r.conversation_id = c.id
        WHERE {_SCOPE}"""


ID_CHUNK = 500


async def _live_messages(session: AsyncSession, ids: list[int]) -> list:
    """(conversation, kind, author, count) of the visitor and operator messages of these conversations,
    counted from the messages themselves (the conversations without current stored counts: few)."""
    out: list = []
    for k in range(0, len(ids), ID_CHUNK):
        out += (await session.execute(text("""
            SELECT m.conversation_id, m.kind, m.author_operator_id, COUNT(*) FROM messages m
            WHERE m.conversation_id IN :ids AND m.kind IN ('visitor', 'operator')
            GROUP BY m.conversation_id, m.kind, m.author_operator_id""").bindparams(
            bindparam("ids", expanding=True)), {"ids": ids[k:k + ID_CHUNK]})).all()
    return out


async def _stats(session: AsyncSession, site_id: int, period: Period, *, per_operator: bool = True) -> dict:
    """Every statistic of one period (``per_operator=False``: without the per-operator and
    per-department tables, which the page shows for the chosen period only).

    One read of the period's conversations (a row each: times, holder, department, rating and the
    stored message count), folded here; messages are counted live only for the conversations
    whose stored counts are missing or out of date (still open, or written to since they closed)."""
    dialect = session.get_bind().dialect.name
    start, end = period.bounds()
    p = {"site": site_id, "start": start, "end": end}
    rows = (await session.execute(_params(_rows_sql(dialect)), p)).all()
    site_departments = (await session.execute(
        select(Department.id, Department.name).where(Department.site_id == site_id)
        .order_by(Department.position, Department.id))).all() if per_operator else []
    by_department = bool(site_departments)

    stale = [r[0] for r in rows if r[9] is None]
    live = await _live_messages(session, stale) if stale else []
    live_total: dict[int, int] = {}
    for cid, _kind, _author, n in live:
        live_total[cid] = live_total.get(cid, 0) + int(n)

    # columns of the period's rows (zip in C; the loops below only where a row's group matters)
    cols = list(zip(*rows)) if rows else [()] * 12
    cids, bucket_col, frt_col, dur_col, assignees, statuses, kinds, rules, dep_col, stored, rating_col, raters = cols
    total = _Group()
    total.conversations = len(rows)
    total.closed = statuses.count("closed")
    total.response = [f for f in frt_col if f is not None]
    total.duration = [d for d in dur_col if d is not None]
    total.accepted = len(total.response)
    total.messages = sum(m for m in stored if m is not None) + sum(live_total.values())
    total.ratings = [int(r) for r in rating_col if r is not None]
    origin: dict = {"incoming": 0, "proactive": 0}
    for kind, n in Counter(kinds).items():
        origin[kind] = origin.get(kind, 0) + n
    by_rule = Counter(rule or "" for kind, rule in zip(kinds, rules, strict=True) if kind == "proactive")
    count_of = Counter(bucket_col)
    accepted_of = Counter(b for b, f in zip(bucket_col, frt_col, strict=True) if f is not None)
    buckets = {b: (n, accepted_of.get(b, 0)) for b, n in count_of.items()}
    ops: dict[int, _Group] = {}
    deps: dict[int | None, _Group] = {}
    if per_operator:
        for assignee, frt, dur, status in zip(assignees, frt_col, dur_col, statuses, strict=True):
            if assignee is not None:
                _group(ops, assignee).add(frt, dur, status == "closed", 0)
        for rating, rated_by in zip(rating_col, raters, strict=True):
            if rating is not None and rated_by is not None:
                _group(ops, rated_by).ratings.append(int(rating))
        if by_department:
            for cid, dep, frt, dur, status, msgs, rating in zip(cids, dep_col, frt_col, dur_col, statuses, stored,
                                                                 rating_col, strict=True):
                d = _group(deps, dep)
                d.add(frt, dur, status == "closed", int(msgs) if msgs is not None else live_total.get(cid, 0))
                if rating is not None:
                    d.ratings.append(int(rating))
    origin["by_rule"] = [{"name": name, "conversations": n}
                         for name, n in sorted(by_rule.items(), key=lambda x: (-x[1], x[0]))]

    # per local day, and per hour of the week (7 rows Monday..Sunday of 24 counts): 15-minute buckets
    # folded into the site's local time
    daily = {(period.first + timedelta(days=i)).isoformat(): {"conversations": 0, "accepted": 0, "missed": 0}
             for i in range(period.days)}
    week = [[0] * 24 for _ in range(7)]
    for bucket, (n, acc) in buckets.items():
        local = datetime.fromtimestamp(int(bucket) * BUCKET, period.tz)
        week[local.weekday()][local.hour] += n
        day = local.date().isoformat()
        if day in daily:
            counts = daily[day]
            counts["conversations"] += n
            counts["accepted"] += acc
            counts["missed"] += n - acc

    operators: list[dict] = []
    departments: list[dict] = []
    if per_operator:
        # replies per operator: the stored counts of the period, without the stale ones, plus those live
        written: dict[int, int] = {}
        for oid, n in (await session.execute(_params("""
                SELECT o.operator_id, SUM(o.messages) FROM conversation_operator_stats o
                WHERE o.site_id = :site AND o.created_at >= :start AND o.created_at < :end
                GROUP BY o.operator_id"""), p)).all():
            written[oid] = int(n)
        for k in range(0, len(stale), ID_CHUNK):
            for oid, n in (await session.execute(text("""
                    SELECT o.operator_id, SUM(o.messages) FROM conversation_operator_stats o
                    WHERE o.conversation_id IN :ids GROUP BY o.operator_id""").bindparams(
                    bindparam("ids", expanding=True)), {"ids": stale[k:k + ID_CHUNK]})).all():
                written[oid] = written.get(oid, 0) - int(n)
        for _cid, kind, author, n in live:
            if kind == "operator" and author is not None:
                written[author] = written.get(author, 0) + int(n)
        for oid, n in written.items():
            if n > 0:
                _group(ops, oid).messages = n
        names = await queries.authors(session, ops)
        for oid, g in ops.items():
            found: Operator | None = names.get(oid)
            row = {"operator_id": oid, "name": found.name if found else f"#{oid}", **g.table_row()}
            del row["missed"]
            row["rating"] = operator_rating(row)
            operators.append(row)
        operators.sort(key=lambda r: (-r["conversations"], r["name"]))
        departments = _department_rows(site_departments, deps)

    ar, mr, pr = _percentiles(total.response)
    ad, md, pd = _percentiles(total.duration)
    n_conv, accepted, csat_count = total.conversations, total.accepted, len(total.ratings)
    distribution = {str(v): 0 for v in range(1, 6)}
    for v in total.ratings:
        distribution[str(v)] = distribution.get(str(v), 0) + 1
    summary = {
        "conversations": n_conv, "accepted": accepted, "missed": n_conv - accepted, "closed": total.closed,
        "accepted_share": _num(accepted / n_conv, 3) if n_conv else None,
        "first_response_median": _num(mr), "first_response_p90": _num(pr), "first_response_avg": _num(ar),
        "duration_median": _num(md), "duration_p90": _num(pd), "duration_avg": _num(ad),
        "messages": total.messages, "messages_per_conversation": _num(total.messages / n_conv, 2) if n_conv else None,
        "csat_avg": _num(sum(total.ratings) / csat_count, 2) if csat_count else None, "csat_count": csat_count,
    }
    return {"from": period.first.isoformat(), "to": period.end.isoformat(), "summary": summary,
            "daily": [{"date": k, **v} for k, v in daily.items()], "csat": distribution, "origin": origin,
            "hour_of_week": week, "operators": operators, "departments": departments}


def _department_rows(found: Sequence, groups: dict[int | None, _Group]) -> list[dict]:
    """Per department of the site (``found``: every department, zeros included, in the site's order),
    then the conversations without one (``department_id`` null, ``name`` ""); empty when the site
    has no departments."""
    if not found:
        return []
    out = [{"department_id": did, "name": name, **groups.get(did, _Group()).table_row()} for did, name in found]
    known = {did for did, _n in found}
    rest = _Group()
    for did, g in groups.items():   # no department, or one deleted since (SET NULL makes it None anyway)
        if did not in known:
            for attr in ("conversations", "accepted", "closed", "messages"):
                setattr(rest, attr, getattr(rest, attr) + getattr(g, attr))
            rest.response += g.response
            rest.duration += g.duration
            rest.ratings += g.ratings
    if rest.conversations:
        out.append({"department_id": None, "name": "", **rest.table_row()})
    return out


# --- stored per-conversation message counts (models/report.py), filled in the background ---------

_FILL = """
INSERT INTO conversation_stats (conversation_id, site_id, created_at, last_seq, visitor_messages, operator_messages,
                                computed_at)
SELECT c.id, c.site_id, c.created_at, c.last_seq,
       SUM(CASE WHEN m.kind = 'visitor' THEN 1 ELSE 0 END), SUM(CASE WHEN m.kind = 'operator' THEN 1 ELSE 0 END), :now
FROM conversations c
LEFT JOIN messages m ON m.conversation_id = c.id AND m.seq <= c.last_seq AND m.kind IN ('visitor', 'operator')
WHERE c.status = 'closed' AND c.last_seq > 0 AND {where}
GROUP BY c.id, c.site_id, c.created_at, c.last_seq"""
# counted up to the stats row's last_seq, so both tables describe the same messages
_FILL_OPERATORS = """
INSERT INTO conversation_operator_stats (conversation_id, operator_id, site_id, created_at, messages)
SELECT s.conversation_id, m.author_operator_id, s.site_id, s.created_at, COUNT(*)
FROM conversation_stats s JOIN messages m ON m.conversation_id = s.conversation_id AND m.seq <= s.last_seq
WHERE m.kind = 'operator' AND m.author_operator_id IS NOT NULL AND {where}
GROUP BY s.conversation_id, m.author_operator_id, s.site_id, s.created_at"""


async def stale_stats_ids(rt: Runtime, limit: int = 100, since: datetime | None = None) -> list[int]:
    """Closed conversations with messages whose stored counts are missing or were taken at another
    ``last_seq``, oldest close first; ``since``: closed at or after it only (the cheap scan)."""
    c, s = Conversation, ConversationStats
    where = [c.status == "closed", c.closed_at.is_not(None), c.last_seq > 0,
             or_(s.conversation_id.is_(None), s.last_seq != c.last_seq)]
    if since is not None:
        where.append(c.closed_at >= since)
    async with rt.sessions() as session:
        return list((await session.execute(
            select(c.id).outerjoin(s, s.conversation_id == c.id).where(*where)
            .order_by(c.closed_at, c.id).limit(limit))).scalars())


async def refresh_stats(rt: Runtime, ids: list[int]) -> None:
    """Count (again) the messages of these conversations into conversation_stats (closed ones only)."""
    if not ids:
        return
    expanding: BindParameter = bindparam("ids", expanding=True)
    try:
        async with rt.sessions() as session, session.begin():
            await session.execute(delete(ConversationOperatorStats)
                                  .where(ConversationOperatorStats.conversation_id.in_(ids)))
            await session.execute(delete(ConversationStats).where(ConversationStats.conversation_id.in_(ids)))
            await session.execute(text(_FILL.format(where="c.id IN :ids")).bindparams(
                expanding, bindparam("now", type_=UTCDateTime)), {"ids": ids, "now": rt.clock()})
            await session.execute(text(_FILL_OPERATORS.format(where="s.conversation_id IN :ids")).bindparams(
                expanding), {"ids": ids})
    except IntegrityError:   # another node counted the same conversations at the same moment
        log.debug("report stats of %s were refreshed by another node", ids[:3])


async def refresh_pending_stats(rt: Runtime, limit: int = 100, since: datetime | None = None) -> int:
    """One background pass: refresh up to ``limit`` conversations' stored counts; how many."""
    ids = await stale_stats_ids(rt, limit, since)
    await refresh_stats(rt, ids)
    return len(ids)


async def backfill_stats(rt: Runtime) -> int:
    """Count every closed conversation that has no stored counts yet in one statement (what the
    migration does; for a database filled around the application, e.g. bench/reports.py)."""
    missing = "NOT EXISTS (SELECT 1 FROM conversation_stats x WHERE x.conversation_id = c.id)"
    async with rt.sessions() as session, session.begin():
        before = (await session.execute(text("SELECT COUNT(*) FROM conversation_stats"))).scalar_one()
        await session.execute(text(_FILL.format(where=missing)).bindparams(bindparam("now", type_=UTCDateTime)),
                              {"now": rt.clock()})
        no_rows = "NOT EXISTS (SELECT 1 FROM conversation_operator_stats y WHERE y.conversation_id = s.conversation_id)"
        await session.execute(text(_FILL_OPERATORS.format(where=no_rows)))
        after = (await session.execute(text("SELECT COUNT(*) FROM conversation_stats"))).scalar_one()
    return int(after) - int(before)


# --- the operator rating (docs/reports.md § Operator rating) --------------------------------------

RATING_WEIGHTS = {"speed": 0.3, "accepted": 0.3, "csat": 0.4}
RATING_TARGET_SECONDS = 60   # a median first response at or under this earns the whole speed part


def operator_rating(row: dict) -> dict:
    """0–100 from an operator's figures of the period: the weighted average of the parts that apply
    (each 0–100): speed = 100·min(1, 60 s ÷ median first response); accepted = 100·accepted ÷
    conversations (the missed chats pull it down); csat = 100·(average rating − 1) ÷ 4.
    No accepted chat: no speed part; no rating: no csat part; no conversation: no rating at all."""
    parts: dict[str, float | None] = {"speed": None, "accepted": None, "csat": None}
    median = row.get("first_response_median")
    if median is not None:
        parts["speed"] = 100.0 * min(1.0, RATING_TARGET_SECONDS / max(float(median), 0.001))
    if row.get("conversations"):
        parts["accepted"] = 100.0 * row["accepted"] / row["conversations"]
    if row.get("csat_avg") is not None and row.get("csat_count"):
        parts["csat"] = 100.0 * (float(row["csat_avg"]) - 1) / 4
    applied = {k: v for k, v in parts.items() if v is not None}
    weight = sum(RATING_WEIGHTS[k] for k in applied)
    value = round(sum(RATING_WEIGHTS[k] * v for k, v in applied.items()) / weight) if weight else None
    return {"value": value, **{k: (None if v is None else round(v, 1)) for k, v in parts.items()}}


async def _site_for(session: AsyncSession, operator: OperatorRef, site_id: object) -> Site:
    sid = check_id(site_id, "site")
    if sid not in await queries.operator_site_ids(session, operator):
        raise not_found("site")
    site = await session.get(Site, sid)
    if site is None:
        raise not_found("site")
    return site


def site_zone(site: Site) -> ZoneInfo:
    tz = (site.hours or {}).get("timezone") if isinstance(site.hours, dict) else None
    try:
        return ZoneInfo(tz) if tz else ZoneInfo("UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


async def report_sites(rt: Runtime, operator: OperatorRef) -> list[dict]:
    """The sites this operator may see reports of (admins: every site), with their time zones."""
    async with rt.sessions() as session:
        ids = await queries.operator_site_ids(session, operator)
        sites = [await session.get(Site, i) for i in sorted(ids)]
    return [{"id": s.id, "name": s.name, "timezone": site_zone(s).key} for s in sites if s is not None]


async def site_report(rt: Runtime, operator: OperatorRef, site_id: object, date_from: object,
                      date_to: object) -> dict:
    """The report of one site the operator works on (admins: any) for [from, to) and the previous
    period of the same length: ``{site, timezone, current, previous}``."""
    async with rt.sessions() as session:
        site = await _site_for(session, operator, site_id)
        period = check_period(date_from, date_to, site_zone(site))

    async def stats(p: Period, per_operator: bool) -> dict:
        async with rt.sessions() as session:
            return await _stats(session, site.id, p, per_operator=per_operator)

    # the two periods on two connections at once: their reads overlap (a year with a full year before it)
    current, previous = await asyncio.gather(stats(period, True), stats(period.previous(), False))
    return {"site": {"id": site.id, "name": site.name}, "timezone": period.tz.key,
            "current": current, "previous": previous}


def report_csv(report: dict, table: object) -> str:
    """One table of a report as CSV (UTF-8, comma, header row). ``table``: one of ``TABLES``."""
    if table not in TABLES:
        raise ActionError("invalid_input", f"table must be one of {', '.join(TABLES)}")
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    cur, prev = report["current"], report["previous"]
    if table == "summary":
        w.writerow(["metric", f"{cur['from']}..{cur['to']}", f"{prev['from']}..{prev['to']}"])
        for k, v in cur["summary"].items():
            w.writerow([k, _cell(v), _cell(prev["summary"][k])])
    elif table == "daily":
        w.writerow(["date", "conversations", "accepted", "missed"])
        for d in cur["daily"]:
            w.writerow([d["date"], d["conversations"], d["accepted"], d["missed"]])
    elif table == "csat":
        w.writerow(["value", "count", "previous_count"])
        for k, n in cur["csat"].items():
            w.writerow([k, n, prev["csat"][k]])
    elif table == "hours":
        w.writerow(["weekday", *[f"{h:02d}" for h in range(24)]])
        for day, counts in zip(WEEKDAYS, cur["hour_of_week"], strict=True):
            w.writerow([day, *counts])
    elif table == "departments":
        w.writerow(DEPARTMENT_COLUMNS)
        for r in cur["departments"]:
            w.writerow([_safe(_cell(r[c])) for c in DEPARTMENT_COLUMNS])
    else:
        cols = ["operator_id", "name", "conversations", "accepted", "first_response_median", "first_response_p90",
                "duration_avg", "messages", "csat_avg", "csat_count"]
        w.writerow([*cols, "rating"])
        for r in cur["operators"]:
            w.writerow([*[_safe(_cell(r[c])) for c in cols], _cell(r["rating"]["value"])])
    return out.getvalue()


def _cell(v: object) -> str:
    return "" if v is None else str(v)


def _safe(v: str) -> str:
    """Spreadsheets run a cell that starts with = + - @ as a formula: such names get a leading quote."""
    return "'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") and not v.lstrip("-").replace(".", "").isdigit() else v


safe_cell = _safe


async def site_report_csv(rt: Runtime, operator: OperatorRef, site_id: object, date_from: object,
                          date_to: object, table: object) -> tuple[str, str]:
    """``(file name, CSV text)`` of one table of ``site_report``."""
    if table not in TABLES:
        raise ActionError("invalid_input", f"table must be one of {', '.join(TABLES)}")
    report = await site_report(rt, operator, site_id, date_from, date_to)
    name = f"frontdesk-{table}-site{report['site']['id']}-{report['current']['from']}-{report['current']['to']}.csv"
    return name, report_csv(report, table)
