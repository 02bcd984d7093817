"""Reports: statistics of one site over a period, computed by the database (SQL aggregates and
window functions that run the same on SQLite and PostgreSQL). Definitions (docs/reports.md):

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
* the previous period: the same number of days just before ``from`` (every number but the
  per-operator table, which the page shows for the chosen period only: ``operators`` is empty).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.actions import queries
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import OperatorRef
from frontdesk.actions.validate import check_id
from frontdesk.models import Operator, Site
from frontdesk.models.base import UTCDateTime

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

MAX_DAYS = 366
# seconds: every real UTC offset is a multiple of 15 minutes, so 15-minute buckets fold into local days exactly
BUCKET = 900
TABLES = ("summary", "daily", "operators", "csat", "hours")
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
    return f"extract(epoch from ({later} - {earlier}))"


def _params(stmt: str) -> TextClause:
    return text(stmt).bindparams(bindparam("start", type_=UTCDateTime), bindparam("end", type_=UTCDateTime))


# the conversations of the period
_SCOPE = "c.site_id = :site AND c.created_at >= :start AND c.created_at < :end AND c.last_seq > 0"


def _percentiles(dialect: str, value: str, group: str, where: str) -> str:
    """count, average, nearest-rank median and p90 of ``value`` per ``group`` (window functions)."""
    return f"""
        WITH d AS (
            SELECT {group} AS g, {value} AS v,
                   ROW_NUMBER() OVER (PARTITION BY {group} ORDER BY {value}) AS rn,
                   COUNT(*) OVER (PARTITION BY {group}) AS n
            FROM conversations c WHERE {_SCOPE} AND {where})
        SELECT g, COUNT(*), AVG(v),
               MAX(CASE WHEN rn = (n * 50 + 99) / 100 THEN v END),
               MAX(CASE WHEN rn = (n * 90 + 99) / 100 THEN v END)
        FROM d GROUP BY g"""


def _num(x: object, digits: int = 1) -> float | None:
    return None if x is None else round(float(x), digits)  # type: ignore[arg-type]


async def _stats(session: AsyncSession, site_id: int, period: Period, *, per_operator: bool = True) -> dict:
    """Every statistic of one period (``per_operator=False``: without the per-operator table, which
    the page shows for the chosen period only)."""
    dialect = session.get_bind().dialect.name
    start, end = period.bounds()
    p = {"site": site_id, "start": start, "end": end}

    async def rows(stmt: str) -> list:
        return list((await session.execute(_params(stmt), p)).all())

    counts = (await rows(f"""
        SELECT COUNT(*), SUM(CASE WHEN c.first_reply_at IS NOT NULL THEN 1 ELSE 0 END),
               SUM(CASE WHEN c.status = 'closed' THEN 1 ELSE 0 END)
        FROM conversations c WHERE {_SCOPE}"""))[0]
    total, accepted, closed = int(counts[0] or 0), int(counts[1] or 0), int(counts[2] or 0)
    # proactive (started from an invitation, actions/invitations.py) vs incoming, and by rule
    origin: dict = {"incoming": 0, "proactive": 0}
    for kind, n in await rows(f"SELECT c.origin, COUNT(*) FROM conversations c WHERE {_SCOPE} GROUP BY c.origin"):
        origin[kind] = origin.get(kind, 0) + int(n)
    origin["by_rule"] = [{"name": name or "", "conversations": int(n)} for name, n in await rows(f"""
        SELECT c.invitation_name, COUNT(*) FROM conversations c WHERE {_SCOPE} AND c.origin = 'proactive'
        GROUP BY c.invitation_name ORDER BY COUNT(*) DESC, c.invitation_name""")]
    # one pass over the period's messages (covering index ix_messages_conversation_kind): the total,
    # and the replies per operator for the per-operator table
    by_author = await rows(f"""
        SELECT m.kind, m.author_operator_id, COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE {_SCOPE} AND m.kind IN ('visitor', 'operator') GROUP BY m.kind, m.author_operator_id""")
    messages = sum(int(n) for _k, _a, n in by_author)

    frt = _seconds(dialect, "c.first_reply_at", "c.created_at")
    dur = _seconds(dialect, "c.closed_at", "c.created_at")
    response = {r[0]: r for r in await rows(_percentiles(dialect, frt, "0", "c.first_reply_at IS NOT NULL"))}
    duration = {r[0]: r for r in await rows(_percentiles(dialect, dur, "0", "c.closed_at IS NOT NULL"))}

    csat_rows = await rows(f"""
        SELECT r.value, COUNT(*) FROM conversation_ratings r JOIN conversations c ON c.id = r.conversation_id
        WHERE {_SCOPE} GROUP BY r.value""")
    distribution = {str(v): 0 for v in range(1, 6)}
    for value, n in csat_rows:
        distribution[str(value)] = int(n)
    csat_count = sum(distribution.values())
    csat_avg = sum(int(k) * n for k, n in distribution.items()) / csat_count if csat_count else None

    # per local day: 15-minute buckets counted by the database, folded into the site's days here
    daily = {(period.first + timedelta(days=i)).isoformat(): {"conversations": 0, "accepted": 0, "missed": 0}
             for i in range(period.days)}
    # and per hour of the week (local): 7 rows Monday..Sunday of 24 counts, from the same buckets
    week = [[0] * 24 for _ in range(7)]
    for bucket, n, acc in await rows(f"""
            SELECT {_epoch(dialect, "c.created_at")} / {BUCKET} AS b, COUNT(*),
                   SUM(CASE WHEN c.first_reply_at IS NOT NULL THEN 1 ELSE 0 END)
            FROM conversations c WHERE {_SCOPE} GROUP BY b"""):
        local = datetime.fromtimestamp(int(bucket) * BUCKET, period.tz)
        week[local.weekday()][local.hour] += int(n)
        day = local.date().isoformat()
        if day in daily:
            d = daily[day]
            d["conversations"] += int(n)
            d["accepted"] += int(acc or 0)
            d["missed"] += int(n) - int(acc or 0)

    # per operator
    ops: dict[int, dict] = {}

    def op(oid: int) -> dict:
        return ops.setdefault(oid, {"operator_id": oid, "name": "", "conversations": 0, "accepted": 0,
                                    "first_response_median": None, "first_response_p90": None,
                                    "duration_avg": None, "messages": 0, "csat_avg": None, "csat_count": 0})

    held = "c.assignee_id IS NOT NULL"
    if per_operator:
        for oid, n, acc in await rows(f"""
                SELECT c.assignee_id, COUNT(*), SUM(CASE WHEN c.first_reply_at IS NOT NULL THEN 1 ELSE 0 END)
                FROM conversations c WHERE {_SCOPE} AND {held} GROUP BY c.assignee_id"""):
            op(oid).update(conversations=int(n), accepted=int(acc or 0))
        for oid, _n, _avg, med, p90 in await rows(_percentiles(dialect, frt, "c.assignee_id",
                                                               f"c.first_reply_at IS NOT NULL AND {held}")):
            op(oid).update(first_response_median=_num(med), first_response_p90=_num(p90))
        for oid, _n, avg, _med, _p90 in await rows(_percentiles(dialect, dur, "c.assignee_id",
                                                                f"c.closed_at IS NOT NULL AND {held}")):
            op(oid)["duration_avg"] = _num(avg)
        for kind, oid, n in by_author:
            if kind == "operator" and oid is not None:
                op(oid)["messages"] = int(n)
        for oid, n, avg in await rows(f"""
                SELECT r.operator_id, COUNT(*), AVG(r.value) FROM conversation_ratings r
                JOIN conversations c ON c.id = r.conversation_id
                WHERE {_SCOPE} AND r.operator_id IS NOT NULL GROUP BY r.operator_id"""):
            op(oid).update(csat_count=int(n), csat_avg=_num(avg, 2))
    names = await queries.authors(session, ops)
    for oid, row in ops.items():
        found: Operator | None = names.get(oid)
        row["name"] = found.name if found else f"#{oid}"
        row["rating"] = operator_rating(row)

    fr, du = response.get(0), duration.get(0)
    summary = {
        "conversations": total, "accepted": accepted, "missed": total - accepted, "closed": closed,
        "accepted_share": _num(accepted / total, 3) if total else None,
        "first_response_median": _num(fr[3]) if fr else None, "first_response_p90": _num(fr[4]) if fr else None,
        "first_response_avg": _num(fr[2]) if fr else None,
        "duration_median": _num(du[3]) if du else None, "duration_p90": _num(du[4]) if du else None,
        "duration_avg": _num(du[2]) if du else None,
        "messages": int(messages), "messages_per_conversation": _num(messages / total, 2) if total else None,
        "csat_avg": _num(csat_avg, 2), "csat_count": csat_count,
    }
    return {"from": period.first.isoformat(), "to": period.end.isoformat(), "summary": summary,
            "daily": [{"date": k, **v} for k, v in daily.items()], "csat": distribution, "origin": origin,
            "hour_of_week": week,
            "operators": sorted(ops.values(), key=lambda r: (-r["conversations"], r["name"]))}


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
        current = await _stats(session, site.id, period)
        previous = await _stats(session, site.id, period.previous(), per_operator=False)
    return {"site": {"id": site.id, "name": site.name}, "timezone": period.tz.key,
            "current": current, "previous": previous}


def report_csv(report: dict, table: object) -> str:
    """One table of a report as CSV (UTF-8, comma, header row). ``table``: summary | daily | operators | csat."""
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
