"""CPU per visitor hello, in process (issue 18): the database work of a hello — identify, the
welcome's open conversation, the resume replay, the queue position, availability — one hello at a
time as before (``visitors.identify_visitor`` + ``conversations.visitor_open_conversation`` +
``conversations.resume`` + ``routing.visitor_queue_position``) against the batched path
(``actions/hellos.py``), with ``--concurrency`` hellos in flight, on a fresh SQLite file (or
``--database-url``). No sockets: what is left of a hello's CPU in the relay bench beyond this is
the WebSocket/ASGI side.

    PYTHONPATH=src python bench/hello_cpu.py [--visitors 1000 --concurrency 32 --profile]

CPU is ``time.process_time()`` of this process (all threads: the aiosqlite and writer threads
included) divided by the hellos; the load of the machine is printed with it.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ (make_runtime)


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


async def main(args: argparse.Namespace) -> None:
    from tests.conftest import make_runtime

    from frontdesk.actions import conversations, hellos, routing, sites, visitors
    from frontdesk.actions.identity import SiteRef
    from frontdesk.settings import Settings

    data = Path(tempfile.mkdtemp(prefix="hello-cpu-"))
    settings = Settings(data_dir=data / "data", database_url=args.database_url, smtp_url="smtp://127.0.0.1:9",
                        new_conversations_per_address=0)
    rt, close = await make_runtime(settings)
    try:
        async with rt.sessions() as session, session.begin():
            site = SiteRef.of(await sites.add_site(session, name="Bench"))

        async def old_hello(token: object, resume: dict[int, int], ua: str) -> tuple:
            visitor, token = await visitors.identify_visitor(rt, site, token, user_agent=ua, ip="10.0.0.1")
            current = await conversations.visitor_open_conversation(rt, visitor)
            cid = current["id"] if current else None
            replays = await conversations.resume(rt, visitor, resume, cid)
            if current is not None and current["operator"] is None and current["status"] == "open":
                await routing.visitor_queue_position(rt, visitor, current["id"])
            await visitors.availability(rt, site)
            return visitor, token, current, replays

        async def new_hello(token: object, resume: dict[int, int], ua: str) -> tuple:
            visitor, token = await hellos.identify(rt, site, token, user_agent=ua, ip="10.0.0.1")
            state = await hellos.welcome_state(rt, visitor, resume)
            await visitors.availability(rt, site)
            return visitor, token, state.conversation, state.replays

        async def run(hello, items: list[tuple[object, dict[int, int]]]) -> tuple[float, float, list]:
            gate = asyncio.Semaphore(args.concurrency)

            async def one(token: object, resume: dict[int, int]) -> tuple:
                async with gate:
                    return await hello(token, resume, "bench")

            t0, c0 = time.perf_counter(), time.process_time()
            out = await asyncio.gather(*(one(t, r) for t, r in items))
            return time.process_time() - c0, time.perf_counter() - t0, out

        # returning visitors, each with an open conversation of 2 messages (resume from seq 1)
        tokens: list[tuple[str, int]] = []
        for i in range(args.visitors):
            visitor, token = await visitors.identify_visitor(rt, site, None, user_agent="bench", ip="10.0.0.1")
            first = await conversations.send_visitor_message(rt, visitor, f"a{i}", "hello")
            await conversations.send_visitor_message(rt, visitor, f"b{i}", "again")
            tokens.append((token, first["conversation_id"]))
        await rt.writer.flush_touches()  # type: ignore[attr-defined]
        print(f"{args.visitors} visitors, {args.concurrency} hellos in flight, "
              f"{'SQLite' if not args.database_url else args.database_url.split(':')[0]}; load {_load()}")
        print("| path | hellos | CPU ms per hello | hellos/s (wall) | database rounds |")
        print("|---|---:|---:|---:|---:|")
        profiler = cProfile.Profile() if args.profile else None
        for name, hello in (("one at a time (before)", old_hello), ("batched (actions/hellos.py)", new_hello)):
            for kind, items in (("new", [(None, {}) for _ in range(args.visitors)]),
                                ("returning + resume", [(t, {cid: 1}) for t, cid in tokens])):
                before = sum(b.batches for b in rt.batchers.get("hellos", ()))
                if profiler is not None and hello is new_hello:
                    profiler.enable()
                cpu, wall, out = await run(hello, items)
                if profiler is not None:
                    profiler.disable()
                rounds = sum(b.batches for b in rt.batchers.get("hellos", ())) - before
                if kind.startswith("returning"):
                    assert all(len(r[3]) == 1 and len(r[3][0].messages) == 1 for r in out), "replay"
                print(f"| {name}, {kind} | {len(items)} | {cpu * 1000 / len(items):.2f} | {len(items) / wall:.0f} "
                      f"| {rounds if hello is new_hello else '–'} |")
                await rt.writer.flush_touches()  # type: ignore[attr-defined]
        print(f"load after: {_load()}")
        if profiler is not None:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    finally:
        await close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32, help="hellos in flight (the hub's gate: 32)")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--profile", action="store_true", help="cProfile of the batched path")
    asyncio.run(main(parser.parse_args()))
