"""The reports on a big database: 50,000 conversations with 1,000,000 messages over a year (plus
ratings for a third of them and a coach score with six criteria for every closed one), on SQLite and
on a throwaway PostgreSQL (initdb/pg_ctl as tests/support.py does). Times every report the panel
asks for (docs/reports.md, docs/quality.md) against a raw-SQL baseline measured in the same run:
the two plain aggregate queries that must read the same rows (conversations of the period; their
visitor and operator messages), through the bare driver. Target: every report under 1 s.

    python bench/reports.py [--conversations 50000] [--messages 1000000] [--engines sqlite,postgresql]

Prints a Markdown table; writes bench/results/reports-<engine>.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

import psutil  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from frontdesk import db, migrate  # noqa: E402
from frontdesk.actions import coach, escalation, reports, transcripts  # noqa: E402
from frontdesk.actions.identity import OperatorRef  # noqa: E402
from frontdesk.models import (  # noqa: E402
    Conversation,
    ConversationQuality,
    ConversationRating,
    Department,
    Message,
    Operator,
    QualityCriterion,
    Site,
    Visitor,
)
from frontdesk.quality import CRITERIA  # noqa: E402
from frontdesk.settings import Settings  # noqa: E402

END = date(2026, 11, 30)           # the day after the data
DAYS = 365
CHUNK = 20_000
ADMIN = OperatorRef(id=1, email="admin@example.com", name="admin", role="admin", status="online", is_active=True,
                    language="ru", photo_type=None, photo_version=0)


async def fill(engine, n_conv: int, n_msgs: int, seed: int = 13) -> dict:
    """Generate the data set with the engine's bulk inserts (COPY on PostgreSQL for messages)."""
    rnd = random.Random(seed)
    start = datetime.combine(END - timedelta(days=DAYS), datetime.min.time(), UTC)
    t0 = time.perf_counter()
    async with engine.begin() as conn:
        await conn.execute(insert(Site), [{"id": 1, "site_key": "bench", "name": "Bench"}])
        await conn.execute(insert(Operator), [{"id": i, "email": f"op{i}@example.com", "name": f"Оператор {i}",
                                               "password_hash": "x", "role": "admin" if i == 1 else "operator"}
                                              for i in range(1, 11)])
        await conn.execute(insert(Department), [{"id": i, "site_id": 1, "name": name, "position": i}
                                                for i, name in enumerate(("Продажи", "Поддержка", "Опт"), 1)])
    per_conv = [1] * n_conv                       # at least one message each, the rest spread at random
    for _ in range(n_msgs - n_conv):
        per_conv[rnd.randrange(n_conv)] += 1
    convs, visitors, ratings, quality, criteria, messages = [], [], [], [], [], []
    for i in range(n_conv):
        cid = i + 1
        created = start + timedelta(seconds=rnd.randrange(DAYS * 86400))
        answered = rnd.random() < 0.85
        closed = rnd.random() < 0.97
        assignee = rnd.randrange(2, 11) if answered else None
        first = created + timedelta(seconds=rnd.lognormvariate(3.5, 1.0)) if answered else None
        closed_at = created + timedelta(seconds=300 + rnd.randrange(3000)) if closed else None
        visitors.append({"id": cid, "site_id": 1, "token_hash": f"{cid:064d}", "first_seen_at": created,
                         "last_seen_at": created})
        convs.append({"id": cid, "site_id": 1, "visitor_id": cid, "status": "closed" if closed else "open",
                      "assignee_id": assignee, "last_seq": per_conv[i], "created_at": created,
                      "last_message_at": created, "first_reply_at": first, "closed_at": closed_at,
                      "department_id": rnd.choice((None, 1, 1, 2, 2, 3))})
        if closed and rnd.random() < 0.33:
            ratings.append({"conversation_id": cid, "site_id": 1, "operator_id": assignee,
                            "value": rnd.choice((1, 3, 4, 5, 5, 5)), "scale": "stars", "created_at": closed_at,
                            "updated_at": closed_at})
        if closed:
            passed = [rnd.random() < 0.8 for _ in CRITERIA]
            quality.append({"conversation_id": cid, "site_id": 1, "operator_id": assignee,
                            "score": round(100 * sum(passed) / len(passed)), "created_at": created,
                            "applied_mask": (1 << len(CRITERIA)) - 1,
                            "passed_mask": sum(1 << k for k, p in enumerate(passed) if p),
                            "closed_at": closed_at, "scored_at": closed_at})
            criteria.extend({"conversation_id": cid, "criterion": c, "passed": p, "weight": 1.0,
                             "message_ids": [], "detail": {}} for c, p in zip(CRITERIA, passed, strict=True))
        for seq in range(1, per_conv[i] + 1):
            kind = "visitor" if seq % 2 else ("operator" if answered else "visitor")
            messages.append((cid, seq, kind, f"v{cid}" if kind == "visitor" else f"o{assignee}",
                             assignee if kind == "operator" else None, f"сообщение {seq}",
                             created + timedelta(seconds=20 * seq)))
    async with engine.begin() as conn:
        for model, rows in ((Visitor, visitors), (Conversation, convs), (ConversationRating, ratings),
                            (ConversationQuality, quality), (QualityCriterion, criteria)):
            for k in range(0, len(rows), CHUNK):
                await conn.execute(insert(model), rows[k:k + CHUNK])
    cols = ("conversation_id", "seq", "kind", "sender", "author_operator_id", "text", "created_at")
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            await raw.copy_records_to_table("messages", records=messages, columns=cols)
            await conn.commit()
    else:
        async with engine.begin() as conn:
            for k in range(0, len(messages), CHUNK):
                await conn.execute(insert(Message), [dict(zip(cols, m, strict=True)) for m in messages[k:k + CHUNK]])
    # the reports' stored message counts of the closed conversations: what migration 0006 / the coach's
    # background pass store (here in one statement, as the migration does)
    t1 = time.perf_counter()
    rt = SimpleNamespace(sessions=db.session_factory(engine), clock=lambda: datetime.now(UTC))
    stats = await reports.backfill_stats(rt)
    backfill = round(time.perf_counter() - t1, 1)
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE"))
    return {"stats_rows": stats, "stats_backfill_seconds": backfill,"conversations": len(convs), "messages": len(messages), "ratings": len(ratings),
            "scored": len(quality), "criteria_rows": len(criteria), "fill_seconds": round(time.perf_counter() - t0, 1)}


SERVER_PIDS: list[int] = []   # PostgreSQL: the postmaster; its backends' CPU counts as the report's


def cpu_seconds() -> float:
    """CPU time of this process (SQLite runs in it) plus the PostgreSQL server's processes."""
    total = time.process_time()
    for pid in SERVER_PIDS:
        try:
            parent = psutil.Process(pid)
            for p in (parent, *parent.children(recursive=True)):
                c = p.cpu_times()
                total += c.user + c.system
        except psutil.Error:
            pass
    return total


CPU: dict[int, float] = {}   # id(fn) → median CPU ms of the last ``timed``


async def timed(fn, repeat: int = 3) -> float:
    """Median wall time of ``repeat`` runs, ms (one warm-up run first); the median CPU time (this
    process + the database server) of the same runs goes to ``CPU[id(fn)]`` — on a loaded machine
    the wall time waits for other work, the CPU time does not."""
    await fn()
    runs, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), cpu_seconds()
        await fn()
        runs.append((time.perf_counter() - t) * 1000)
        cpu.append((cpu_seconds() - c) * 1000)
    CPU[id(fn)] = statistics.median(cpu)
    return statistics.median(runs)


async def baseline(engine, first: date, end: date) -> float:
    """The floor: the conversations of the period and their visitor/operator messages, counted by two
    plain statements through the bare driver (no action code, no percentiles, no grouping)."""
    start_at = datetime.combine(first, datetime.min.time(), UTC)
    end_at = datetime.combine(end, datetime.min.time(), UTC)
    pg = engine.dialect.name == "postgresql"
    q1 = ("SELECT COUNT(*), SUM(CASE WHEN first_reply_at IS NOT NULL THEN 1 ELSE 0 END) FROM conversations "
          "WHERE site_id = {p1} AND created_at >= {p2} AND created_at < {p3} AND last_seq > 0")
    q2 = ("SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.site_id = {p1} "
          "AND c.created_at >= {p2} AND c.created_at < {p3} AND c.last_seq > 0 AND m.kind IN ('visitor', 'operator')")
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        if pg:
            async def run() -> None:
                for q in (q1, q2):
                    await raw.fetch(q.format(p1="$1", p2="$2", p3="$3"), 1, start_at, end_at)
        else:
            s, e = (d.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") for d in (start_at, end_at))

            async def run() -> None:
                for q in (q1, q2):
                    cur = await raw.execute(q.format(p1="?", p2="?", p3="?"), (1, s, e))
                    await cur.fetchall()
        return await timed(run)


async def bench_engine(name: str, url: str, n_conv: int, n_msgs: int) -> dict:
    engine = db.create_engine(url)
    await migrate.upgrade(engine)
    data = await fill(engine, n_conv, n_msgs)
    rt = SimpleNamespace(sessions=db.session_factory(engine), settings=Settings(), clock=lambda: datetime.now(UTC))
    rows = []
    for days in (30, 365):
        first = END - timedelta(days=days)
        f, t = first.isoformat(), END.isoformat()
        base = await baseline(engine, first, END)

        async def export() -> None:
            _n, chunks = await transcripts.export_period(rt, ADMIN, 1, (END - timedelta(days=1)).isoformat(),
                                                         END.isoformat(), "jsonl")
            async for _ in chunks:
                pass

        cases = [
            ("report (this + previous period)", lambda f=f, t=t: reports.site_report(rt, ADMIN, 1, f, t)),
            ("operators.csv", lambda f=f, t=t: reports.site_report_csv(rt, ADMIN, 1, f, t, "operators")),
            ("departments.csv", lambda f=f, t=t: reports.site_report_csv(rt, ADMIN, 1, f, t, "departments")),
            ("missed (escalation)", lambda f=f, t=t: escalation.missed_report(rt, ADMIN, 1, f, t)),
            ("quality (coach per operator, best/worst)", lambda f=f, t=t: coach.site_quality(rt, ADMIN, 1, f, t)),
        ]
        if days == 30:
            cases.append(("export JSONL, last day", export))
        for label, fn in cases:
            ms = await timed(fn)
            rows.append({"period_days": days, "report": label, "ms": round(ms, 1), "cpu_ms": round(CPU[id(fn)], 1),
                         "baseline_ms": round(base, 1), "x_baseline": round(ms / base, 1) if base else None})
    # the coach loop's look for work when everything is scored: a full scan, and the usual one
    since = datetime.combine(END, datetime.min.time(), UTC) - coach.Coach.RECENT
    others = [("coach: look for unscored closes, full scan", lambda: coach.pending_ids(rt)),
              ("coach: look for unscored closes, last hour", lambda: coach.pending_ids(rt, since=since)),
              ("coach pass: look for closes without stored counts, full scan", lambda: reports.stale_stats_ids(rt)),
              ("coach pass: the same, last hour", lambda: reports.stale_stats_ids(rt, since=since)),
              # one dialog's coach result (the panel asks it when a closed dialog opens)
              ("one conversation's quality", lambda: coach.conversation_quality(rt, ADMIN, 17))]
    for label, fn in others:
        ms = await timed(fn)
        rows.append({"period_days": None, "report": label, "baseline_ms": None, "x_baseline": None,
                     "ms": round(ms, 1), "cpu_ms": round(CPU[id(fn)], 1)})
    await engine.dispose()
    return {"engine": name, "data": data, "rows": rows}


def table(results: list[dict]) -> str:
    out = ["| engine | period | report | time | CPU | raw-SQL baseline | × baseline | under 1 s |",
           "|---|---:|---|---:|---:|---:|---:|---|"]
    for r in results:
        for row in r["rows"]:
            period = f"{row['period_days']} d" if row["period_days"] else "—"
            out.append(f"| {r['engine']} | {period} | {row['report']} | {row['ms']:,.0f} ms | {row['cpu_ms']:,.0f} ms | "
                       + (f"{row['baseline_ms']:,.0f} ms | {row['x_baseline']}× |" if row["baseline_ms"] else "— | — |")
                       + (" yes |" if row["ms"] < 1000 else " **no** |"))
    return "\n".join(out)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conversations", type=int, default=50_000)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--engines", default="sqlite,postgresql")
    args = ap.parse_args()
    results = []
    for name in args.engines.split(","):
        if name == "sqlite":
            tmp = Path(tempfile.mkdtemp(prefix="fd-bench-reports-"))
            results.append(await bench_engine(name, f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
                                              args.conversations, args.messages))
        else:
            from tests.support import PostgresCluster
            pg = PostgresCluster().start()
            SERVER_PIDS[:] = [int((pg._data / "postmaster.pid").read_text().split()[0])]
            try:
                results.append(await bench_engine(name, pg.create_database(), args.conversations, args.messages))
            finally:
                pg.stop()
        print(f"{name}: {results[-1]['data']}", flush=True)
    print(table(results))
    (HERE / "results").mkdir(exist_ok=True)
    for r in results:
        r["machine"] = {"cpus": os.cpu_count(), "load": os.getloadavg(), "python": platform.python_version()}
        (HERE / "results" / f"reports-{r['engine']}.json").write_text(json.dumps(r, indent=1, default=str))


if __name__ == "__main__":
    asyncio.run(main())
