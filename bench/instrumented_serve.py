"""`frontdesk serve` with counters, for bottleneck evidence (bench/relay.py --instrument).

Runs exactly ``frontdesk.cli.main(argv)`` after attaching, from the outside
(nothing under src/ is changed):

* SQLAlchemy ``before_cursor_execute`` on every Engine: statements by verb;
  pool checkouts (one per session that touched the database);
* ``aiosqlite.core.Connection._execute``: every hop to a connection's worker
  thread (execute, fetch, commit, rollback, cursor close, …) with its wall time
  (queueing + thread wake-up + GIL hand-over + the SQLite call itself);
* ``MessageWriter._store_batch``: batches, messages per batch, wall time;
* the cyclic garbage collector: collections and time per generation.

Counters are written as JSON to ``$FD_BENCH_STATS`` every 0.25 s. The
counting costs a few µs per statement; do not use instrumented runs for the
headline figures.

Run: FD_BENCH_STATS=/tmp/s.json python bench/instrumented_serve.py serve --demo --data-dir D --port P
"""
from __future__ import annotations

import collections
import json
import os
import sys
import threading
import time

STATS: collections.Counter = collections.Counter()


def _install() -> None:
    import aiosqlite.core as ac
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    def before(conn, cursor, statement, params, context, executemany) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        STATS["stmt"] += 1
        STATS["stmt_" + verb] += 1
        hit = getattr(context, "cache_hit", None)  # SQLAlchemy's compiled-cache outcome for this statement
        if hit is not None:
            STATS[f"stmt_{verb}_cache_{str(hit).rsplit('.', 1)[-1].lower()}"] += 1

    event.listen(Engine, "before_cursor_execute", before)

    def checkout(dbapi_conn, record, proxy) -> None:
        STATS["pool_checkout"] += 1

    event.listen(Pool, "checkout", checkout)

    orig = ac.Connection._execute

    async def _execute(self, fn, *args, **kwargs):
        t = time.perf_counter_ns()
        try:
            return await orig(self, fn, *args, **kwargs)
        finally:
            dt = time.perf_counter_ns() - t
            name = getattr(fn, "__name__", type(fn).__name__)
            STATS["hop"] += 1
            STATS["hop_ns"] += dt
            STATS["hop_" + name] += 1
            STATS["hopns_" + name] += dt
            if dt > 5_000_000:
                STATS["hop_over_5ms"] += 1

    ac.Connection._execute = _execute

    from frontdesk.actions import writer as messages

    orig_batch = messages.MessageWriter._store_batch

    async def _store_batch(self, batch):
        t = time.perf_counter_ns()
        try:
            return await orig_batch(self, batch)
        finally:
            STATS["batches"] += 1
            STATS["batched_msgs"] += len(batch)
            STATS["batch_ns"] += time.perf_counter_ns() - t

    messages.MessageWriter._store_batch = _store_batch

    import gc

    gc_start = [0, 0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_start[0], gc_start[1] = time.perf_counter_ns(), time.thread_time_ns()
        else:
            g = info.get("generation", 0)
            STATS[f"gc{g}"] += 1
            STATS[f"gc{g}_ns"] += time.perf_counter_ns() - gc_start[0]
            STATS[f"gc{g}_cpu_ns"] += time.thread_time_ns() - gc_start[1]
            STATS[f"gc{g}_max_ns"] = max(STATS[f"gc{g}_max_ns"], time.perf_counter_ns() - gc_start[0])
            STATS[f"gc{g}_collected"] += info.get("collected", 0)

    gc.callbacks.append(on_gc)

    def histogram(signum, frame) -> None:
        import collections as c

        try:
            t0 = time.perf_counter()
            gc.collect(2)
            full_ms = 1000 * (time.perf_counter() - t0)
            objs = gc.get_objects()
            by_type = c.Counter(f"{getattr(type(o), '__qualname__', '?')} ({getattr(type(o), '__module__', '?')})"
                                for o in objs)
            del objs
            with open(os.environ.get("FD_BENCH_STATS", "/tmp/fd-bench-stats") + ".types", "w") as f:
                json.dump({"tracked": sum(by_type.values()), "full_collect_ms": full_ms, "counts": [gc.get_count()],
                           "generations": [len(gc.get_objects(g)) for g in range(3)],
                           "top": by_type.most_common(40)}, f, indent=1)
        except Exception as exc:
            print("histogram failed:", repr(exc), file=sys.stderr)

    def garbage(signum, frame) -> None:
        import collections as c

        try:
            gc.collect()
            gc.set_debug(gc.DEBUG_SAVEALL)
            time.sleep(0)  # the loop keeps running between signal and the timer below
            def dump() -> None:
                gc.collect()
                by_type = c.Counter(f"{getattr(type(o), '__qualname__', '?')} ({getattr(type(o), '__module__', '?')})"
                                    for o in gc.garbage)
                coros = c.Counter(getattr(o, "__qualname__", "?") for o in gc.garbage
                                  if type(o).__name__ in ("coroutine", "function", "frame"))
                gc.set_debug(0)
                n = len(gc.garbage)
                gc.garbage.clear()
                with open(os.environ.get("FD_BENCH_STATS", "/tmp/fd-bench-stats") + ".garbage", "w") as f:
                    json.dump({"objects": n, "top": by_type.most_common(30), "named": coros.most_common(30)}, f,
                              indent=1)
            threading.Timer(2.0, dump).start()
        except Exception as exc:
            print("garbage dump failed:", repr(exc), file=sys.stderr)

    _install_latency_histograms(gc)

    import signal

    signal.signal(signal.SIGUSR1, histogram)
    signal.signal(signal.SIGUSR2, garbage)

    path = os.environ.get("FD_BENCH_STATS")
    if path:
        def dump() -> None:
            while True:
                time.sleep(0.25)
                tmp = path + ".tmp"
                with open(tmp, "w") as f:
                    json.dump({"t": time.monotonic(), **STATS}, f)
                os.replace(tmp, path)

        threading.Thread(target=dump, daemon=True, name="bench-stats").start()


# Latency histograms (p99 work): bucket upper bounds in ms; a key per bucket so that two
# snapshots subtract (bench/relay.py stats_delta → "latency_parts").
BUCKETS_MS = (0.5, 1, 2, 3, 5, 8, 12, 20, 50)


def hist(name: str, ns: int) -> None:
    ms = ns / 1e6
    for b in BUCKETS_MS:
        if ms <= b:
            STATS[f"h_{name}_le{b:g}"] += 1
            break
    else:
        STATS[f"h_{name}_over{BUCKETS_MS[-1]:g}"] += 1
    STATS[f"h_{name}_n"] += 1
    STATS[f"h_{name}_ns"] += ns


def _install_latency_histograms(gc) -> None:
    """Per-message parts of the visitor→operator path, and what can stall the event loop:

    * ``queued``: ``MessageWriter.store`` → its batch starts (includes the writer's linger);
    * ``hop_in`` / ``thread`` / ``commit`` / ``hop_out``: the SQLite writer thread call — waiting for
      the thread, the call itself, the COMMIT statement inside it, back to the loop;
    * ``finish``: answers + publish (the hub pushes the frames);
    * ``loop_lag``: how late a 1 ms timer fires (any stall of the event loop: GC, long steps);
    * ``gc``: every collection's wall time (any generation)."""
    import asyncio

    from frontdesk.actions import writer as w

    orig_store, orig_batch, orig_finish = w.MessageWriter.store, w.MessageWriter._store_batch, w.MessageWriter._finish

    async def store(self, item):
        item._t_enq = time.perf_counter_ns()
        return await orig_store(self, item)

    async def _store_batch(self, batch):
        now = time.perf_counter_ns()
        for item in batch:
            t = getattr(item, "_t_enq", None)
            if t is not None:
                hist("queued", now - t)
        return await orig_batch(self, batch)

    async def _finish(self, *a, **kw):
        t = time.perf_counter_ns()
        try:
            return await orig_finish(self, *a, **kw)
        finally:
            hist("finish", time.perf_counter_ns() - t)

    linger_ms = os.environ.get("FD_BENCH_LINGER_MS")
    if linger_ms is not None:  # bench/relay.py --writer-linger-ms
        w.MessageWriter.__init__.__defaults__ = (256, float(linger_ms) / 1000)

    orig_start = w.MessageWriter.start

    def start(self):
        orig_start(self)

        async def lag() -> None:
            while True:
                t = time.perf_counter_ns()
                await asyncio.sleep(0.001)
                hist("loop_lag", max(0, time.perf_counter_ns() - t - 1_000_000))

        self._bench_lag = asyncio.create_task(lag(), name="bench-loop-lag")

    w.MessageWriter.store, w.MessageWriter._store_batch, w.MessageWriter._finish = store, _store_batch, _finish
    w.MessageWriter.start = start

    raw = w._SqliteBatchWriter
    orig_raw_store, orig_raw_do = raw.store, raw._store

    async def raw_store(self, items, stamp):
        t = time.perf_counter_ns()
        self._bench_t = t
        out = await orig_raw_store(self, items, stamp)
        hist("hop_out", time.perf_counter_ns() - self._bench_done)
        return out

    def raw_do(self, items, stamp):
        t = time.perf_counter_ns()
        hist("hop_in", t - self._bench_t)
        try:
            return orig_raw_do(self, items, stamp)
        finally:
            self._bench_done = time.perf_counter_ns()
            hist("thread", self._bench_done - t)

    class _TimedCon:
        def __init__(self, con) -> None:
            self._con = con

        def execute(self, sql, *a):
            if sql == "COMMIT":
                t = time.perf_counter_ns()
                try:
                    return self._con.execute(sql, *a)
                finally:
                    hist("commit", time.perf_counter_ns() - t)
            return self._con.execute(sql, *a)

        def __getattr__(self, name):
            return getattr(self._con, name)

    orig_connect = raw._connect

    def _connect(self):
        return _TimedCon(orig_connect(self))

    raw.store, raw._store, raw._connect = raw_store, raw_do, _connect

    gc_t = [0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_t[0] = time.perf_counter_ns()
        else:
            hist("gc", time.perf_counter_ns() - gc_t[0])

    gc.callbacks.append(on_gc)


if __name__ == "__main__":
    _install()
    from frontdesk.cli import main

    sys.exit(main(sys.argv[1:]))
