"""Idle CPU of the background loops with N open conversations waiting for an operator.

    PYTHONPATH=src python bench/loops.py [--sizes 0 1000 10000] [--seconds 30] [--engine sqlite|postgresql]
                                         [--offer-repeat 60] [--min-age 0]

For each N: a real ``frontdesk serve --demo`` on a fresh data dir (its operators offline, so nothing
is taken), stopped after its first start, then its database is filled directly with N visitors, each
with one open conversation nobody took: the visitor's message and, for those older than the holding
delay, the holding message; ``offer_count`` and the escalation step as the loops would have left
them (the conversations' ages spread evenly over the last 50 minutes). The demo site routes
automatically (``site_routing.mode = auto``) and escalates with the default steps, so every loop has
something to look at. The server starts again, settles, and its CPU (user + system, psutil) is read
over ``--seconds``: "ms of CPU per second". What came due meanwhile (offer repeats, escalation steps,
holding messages) is real work and is counted next to it. On PostgreSQL only the frontdesk process is
measured (the database server's own CPU is not in the figure). The raw baseline is an idle uvicorn
(bench/echo_server.py) measured over the same window in the same run.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.append(str(HERE.parent / "src"))  # after PYTHONPATH: a run may point at another tree
sys.path.insert(0, str(HERE))

from sqlalchemy import func, insert, select  # noqa: E402

import _harness as h  # noqa: E402
from frontdesk import db  # noqa: E402
from frontdesk.actions import escalation  # noqa: E402
from frontdesk.models import (  # noqa: E402
    Conversation,
    Message,
    Site,
    SiteEscalation,
    SiteRouting,
    Visitor,
)

SPREAD = 50 * 60      # the conversations' ages: evenly over the last 50 minutes
NO_REPLY = 60.0       # the product's default (settings.py)
CHUNK = 2000


async def fill(url: str, site_key: str, n: int, offer_repeat: float = 60.0, min_age: float = 0.0) -> None:
    engine = db.create_engine(url)
    now = datetime.now(UTC)
    settings = escalation.check_settings({"enabled": True})
    last = escalation.last_step(settings)
    try:
        async with engine.begin() as conn:
            site_id = (await conn.execute(select(Site.id).where(Site.site_key == site_key))).scalar_one()
            await conn.execute(insert(SiteRouting), [{"site_id": site_id, "mode": "auto", "choose_department": False}])
            await conn.execute(insert(SiteEscalation), [{"site_id": site_id, "settings": settings, "updated_at": now}])
            start = (await conn.execute(select(func.coalesce(func.max(Visitor.id), 0)))).scalar_one() + 1
            cstart = (await conn.execute(select(func.coalesce(func.max(Conversation.id), 0)))).scalar_one() + 1
        for base in range(0, n, CHUNK):
            visitors, convs, msgs = [], [], []
            for i in range(base, min(n, base + CHUNK)):
                vid, cid = start + i, cstart + i
                age = min_age + SPREAD * (i + 0.5) / max(n, 1)
                created = now - timedelta(seconds=age)
                held = age >= NO_REPLY
                step = escalation.due_step(settings, age)
                visitors.append({"id": vid, "site_id": site_id, "token_hash": secrets.token_hex(32),
                                 "page_url": "https://shop.example/catalog/sofa", "page_title": "Диван «Уют»",
                                 "language": "ru", "first_seen_at": created, "last_seen_at": created})
                convs.append({"id": cid, "site_id": site_id, "visitor_id": vid, "status": "open", "assignee_id": None,
                              "last_seq": 2 if held else 1, "created_at": created,
                              "last_message_at": created + timedelta(seconds=NO_REPLY) if held else created,
                              "offer_count": int(age // offer_repeat), "escalation_step": step,
                              "missed_at": created + timedelta(seconds=600) if step >= last else None})
                msgs.append({"conversation_id": cid, "seq": 1, "kind": "visitor", "sender": f"v{vid}",
                             "text": "Здравствуйте! Есть ли этот диван в сером цвете?", "client_id": f"c-{vid}",
                             "created_at": created})
                if held:
                    msgs.append({"conversation_id": cid, "seq": 2, "kind": "system", "sender": "system",
                                 "text": "Оставьте, пожалуйста, контакты", "client_id": f"ask_contacts:{cid}",
                                 "created_at": created + timedelta(seconds=NO_REPLY)})
            async with engine.begin() as conn:
                await conn.execute(insert(Visitor), visitors)
                await conn.execute(insert(Conversation), convs)
                await conn.execute(insert(Message), msgs)
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                for table in ("visitors", "conversations", "messages"):
                    await conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                               f"(SELECT max(id) FROM {table}))")
                await conn.commit()
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql("ANALYZE")
        else:
            async with engine.connect() as conn:
                await conn.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()


async def due_work(url: str) -> tuple[int, int, int]:
    """(offer repeats done, escalation steps done, holding messages) so far, for the window's difference."""
    engine = db.create_engine(url)
    try:
        async with engine.connect() as conn:
            offers, steps = (await conn.execute(select(func.coalesce(func.sum(Conversation.offer_count), 0),
                                                       func.coalesce(func.sum(Conversation.escalation_step), 0)))).one()
            held = (await conn.execute(select(func.count()).select_from(Message).where(
                Message.sender == "system"))).scalar_one()
    finally:
        await engine.dispose()
    return int(offers), int(steps), int(held)


def measure(pid: int, seconds: float) -> float:
    """ms of CPU per second of the process over ``seconds``."""
    c0, t0 = h.cpu_seconds([pid]), time.monotonic()
    time.sleep(seconds)
    return 1000 * (h.cpu_seconds([pid]) - c0) / (time.monotonic() - t0)


def one_size(n: int, args, pg) -> dict:
    url = pg.create_database() if pg is not None else ""
    env = {"FRONTDESK_DEMO_ONLINE": "0", "FRONTDESK_SPELLCHECK": "0",  # no dictionary load at start
           "FRONTDESK_OFFER_REPEAT": str(args.offer_repeat)}
    if url:
        env["FRONTDESK_DATABASE_URL"] = url
    srv = h.FrontdeskServer(env=env)
    try:
        srv.start()
        srv.stop()
        db_url = url or f"sqlite+aiosqlite:///{(srv.data_dir / 'frontdesk.db').resolve()}"
        t = time.monotonic()
        asyncio.run(fill(db_url, srv.demo["site_key"], n, args.offer_repeat, args.min_age))
        filled = time.monotonic() - t
        srv.start()
        time.sleep(args.settle)
        before = asyncio.run(due_work(db_url))
        base = h.BaselineServer().start()
        try:
            c0 = h.cpu_seconds([srv.pid])
            b0 = h.cpu_seconds([base.pid])
            t0 = time.monotonic()
            time.sleep(args.seconds)
            dt = time.monotonic() - t0
            server_ms = 1000 * (h.cpu_seconds([srv.pid]) - c0) / dt
            raw_ms = 1000 * (h.cpu_seconds([base.pid]) - b0) / dt
        finally:
            base.stop()
        after = asyncio.run(due_work(db_url))
        rss = h.rss(srv.pid) / 2**20
    finally:
        srv.cleanup()
    return {"n": n, "server_ms": server_ms, "raw_ms": raw_ms, "seconds": dt, "fill_s": filled, "rss_mb": rss,
            "offers": after[0] - before[0], "steps": after[1] - before[1], "held": after[2] - before[2]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[0, 1000, 10000])
    ap.add_argument("--seconds", type=float, default=30.0, help="the measured window per size")
    ap.add_argument("--settle", type=float, default=10.0, help="seconds after start before the window")
    ap.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--min-age", type=float, default=0.0,
                    help="the youngest conversation's age, seconds (ages spread over the 50 minutes after it); "
                         "900 = every escalation step and holding message already done")
    ap.add_argument("--offer-repeat", type=float, default=60.0,
                    help="FRONTDESK_OFFER_REPEAT (default 60, the product's): every waiting conversation is offered "
                         "again each period, N / period repeats per second of real work; 3600 shows the loops' own cost")
    args = ap.parse_args()
    pg = None
    if args.engine == "postgresql":
        from tests.support import PostgresCluster

        pg = PostgresCluster().start()
    try:
        m = h.machine()
        print(f"commit {m['commit']}, {m['cpus']} × {m['cpu']}, Python {m['python']}, engine {args.engine}, "
              f"offer repeat {args.offer_repeat:g} s, ages {args.min_age:g} s + 0…{SPREAD} s")
        print(f"load average at start: {os.getloadavg()[0]:.2f} (shared machine)")
        print("\n| open conversations waiting | frontdesk idle CPU, ms/s | raw uvicorn idle, ms/s "
              "| offer repeats in window | escalation steps | holding messages | server RSS |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        rows = []
        for n in args.sizes:
            r = one_size(n, args, pg)
            rows.append(r)
            print(f"| {n:,} | {r['server_ms']:.1f} | {r['raw_ms']:.1f} | {r['offers']:,} | {r['steps']:,} "
                  f"| {r['held']:,} | {r['rss_mb']:.0f} MB |", flush=True)
        print(f"\nwindow {args.seconds:.0f} s per size after {args.settle:.0f} s settling; "
              f"load average at end: {os.getloadavg()[0]:.2f}")
        h.save_json(f"loops-{args.engine}", {"machine": m, "engine": args.engine, "offer_repeat": args.offer_repeat,
                                             "min_age": args.min_age, "rows": rows})
    finally:
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
