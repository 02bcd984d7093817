#!/usr/bin/env python
"""Core relay benchmark: frontdesk vs a raw uvicorn + Starlette WebSocket relay, same run, same load.

    python bench/relay.py [--visitors N --operators M --seconds S --rate R --idle K
                           --window W --procs P --only baseline|frontdesk --py-spy --profile]
                          [--engine sqlite|postgresql|sqlite,postgresql --nodes 1|2 --database-url URL]

For each server (the raw baseline of bench/echo_server.py first, then
`frontdesk serve --demo` on a fresh SQLite data dir) it measures, over real
sockets on 127.0.0.1:

1. **idle memory**: server RSS before and after K idle visitor sockets (each
   sent its hello and got its welcome), divided by K;
2. **throughput**: N visitors send ``message.send`` as fast as acks allow with a
   window of W outstanding sends each; counted is what operator sockets receive
   (frontdesk: ``message.created``, i.e. stored and relayed) inside an S-second
   window after a 1 s ramp. Frontdesk limits each visitor socket to 20 frames/s
   (burst 40), so its visitors pace themselves at 19/s: the client-side ceiling
   N × 19 is printed, and must stay well above the result;
3. **latency**: an open-loop R msg/s spread round-robin over the visitors for S
   seconds; each text carries the monotonic send time, each operator socket
   notes its receive time (same machine, same clock): p50/p99/max.

``--engine postgresql`` runs frontdesk on PostgreSQL (a throwaway cluster, initdb + pg_ctl as
tests/support.py does, or the server of ``--database-url``; a fresh database per target);
``--nodes 2`` adds two frontdesk nodes on PostgreSQL + Redis (visitors on one node, operators on
the other), in the same run as the raw baseline and the one-node figures: server CPU per message
is given per node, with PostgreSQL's and Redis's own CPU, and the cross-node overhead per message
(two nodes' CPU per message minus one PostgreSQL node's).

This is a benchmark: it prints (and writes bench/results/relay-*.json), it
asserts nothing. Everything it starts is stopped by pid at the end.
"""
from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h
import wsload

TARGETS = {"throughput_ratio": 0.30, "p99_ms": 5.0, "idle_kib": 40.0}  # issue 18: ≤ 40 KiB at 10,000 sockets
PACE_RATE, PACE_BURST = 19.0, 30.0  # frontdesk allows 20/s, burst 40 per socket


LABELS = {"frontdesk": "frontdesk", "frontdesk_pg": "frontdesk, PostgreSQL",
          "frontdesk_pg2": "frontdesk, 2 nodes (PostgreSQL + Redis)"}


class Aux:
    """CPU seconds of a target's other processes over a window: the second node, PostgreSQL (the
    postmaster and its backends), Redis. ``pids`` maps a name to a callable giving its pids now."""

    def __init__(self, pids: dict | None) -> None:
        self.pids = pids or {}

    def __enter__(self) -> Aux:
        self.now0 = {k: h.cpu_seconds(f()) for k, f in self.pids.items()}
        return self

    def __exit__(self, *exc) -> None:
        self.cpu = {k: h.cpu_seconds(f()) - self.now0[k] for k, f in self.pids.items()}


def _children(pid: int) -> list[int]:
    import psutil

    try:
        return [pid] + [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def settle(pid: int, log, max_wait: float = 90.0) -> float:
    """Wait until a fresh server is done starting (the spell-check dictionaries load in a thread for
    ≈ 4 s of CPU and ≈ 250 MiB of RSS that is partly given back): its CPU under 10 % of a core and
    its RSS within 2 MiB over one second. Before this, idle-memory and per-hello figures were
    measured while that load was still running. Returns the seconds waited."""
    import psutil

    t0 = time.monotonic()
    proc = psutil.Process(pid)
    while time.monotonic() - t0 < max_wait:
        c0, r0 = sum(proc.cpu_times()[:2]), proc.memory_info().rss
        time.sleep(1.0)
        c1, r1 = sum(proc.cpu_times()[:2]), proc.memory_info().rss
        if c1 - c0 < 0.10 and abs(r1 - r0) < 2 * 2**20:
            break
    waited = time.monotonic() - t0
    if waited > 3:
        log(f"  server settled after {waited:.0f} s (start-up work in its threads)")
    return waited


def measure_idle(workers: h.Workers, pid: int, count: int, warm: int = 50, server=None) -> dict:
    n = len(workers.pipes)
    # warm the code paths (imports, statement caches, allocator) before the "before" snapshot
    workers.call("idle_open", [{"count": c, "first_idx": 20_000_000 + i * 1_000_000}
                               for i, c in enumerate(h.split(warm, n))])
    workers.call("idle_close")
    time.sleep(1.0)
    before = h.rss(pid)
    st0 = server.stats() if server is not None and server.instrument else {}
    # two halves: the second half's growth is the marginal (steady-state) cost per socket, after
    # one-off growth (SQLite page caches, allocator arenas, first-use caches) happened in the first
    half = count // 2
    cpu = h.CpuWindow(pid, workers.pids).__enter__()
    res = workers.call("idle_open", [{"count": c, "first_idx": 10_000_000 + i * 1_000_000}
                                     for i, c in enumerate(h.split(half, n))], timeout=600)
    time.sleep(1.0)
    mid = h.rss(pid)
    res2 = workers.call("idle_open_more", [{"count": c, "first_idx": 15_000_000 + i * 1_000_000}
                                           for i, c in enumerate(h.split(count - half, n))], timeout=600)
    cpu.__exit__()
    opened1 = sum(r["opened"] for r in res)
    opened2 = sum(r["opened"] for r in res2)
    opened = opened1 + opened2
    failed = sum(r["failed"] for r in res + res2)
    time.sleep(1.5)
    after = h.rss(pid)
    st1 = server.stats() if st0 else {}
    secs = max(r["seconds"] for r in res) + max(r["seconds"] for r in res2)
    workers.call("idle_close")
    time.sleep(0.5)
    out = {"requested": count, "opened": opened, "failed": failed, "rss_before": before, "rss_mid": mid,
           "rss_after": after, "kib_per_socket": (after - before) / 1024 / max(opened, 1),
           "marginal_kib_per_socket": (after - mid) / 1024 / max(opened2, 1), "open_seconds": secs,
           "server_cpu_pct_while_opening": cpu.server_pct,
           # the window spans both halves (and the 1 s pause between them): every socket opened in it
           "server_cpu_ms_per_hello": 1000 * cpu.server_cpu / max(opened, 1),
           "opened_per_s": opened / secs if secs else 0.0}
    if st0 and st1 and opened:
        d = {k: st1.get(k, 0) - st0.get(k, 0) for k in st1 if k != "t"}
        out["instrumented_per_hello"] = {
            "statements": d.get("stmt", 0) / opened, "thread_hops": d.get("hop", 0) / opened,
            "pool_checkouts": d.get("pool_checkout", 0) / opened,
            "commits": d.get("hop_commit", 0) / opened, "rollbacks": d.get("hop_rollback", 0) / opened,
            "mean_hop_ms": d.get("hop_ns", 0) / 1e6 / max(d.get("hop", 1), 1),
            "hops_over_5ms": d.get("hop_over_5ms", 0) / opened,
            "gc_cpu_ms_per_hello": sum(d.get(f"gc{g}_cpu_ns", 0) for g in range(3)) / 1e6 / opened,
            "gc_full_collections": d.get("gc2", 0), "gc_full_cpu_ms": round(d.get("gc2_cpu_ns", 0) / 1e6),
            "gc_full_longest_ms_so_far": round(st1.get("gc2_max_ns", 0) / 1e6),
            "by_kind": {k: round(v / opened, 2) for k, v in sorted(d.items())
                        if (k.startswith("stmt_") or k.startswith("hop_")) and v and k not in ("hop_ns", "hop_over_5ms")},
            "mean_ms_by_hop": {k[6:]: round(v / 1e6 / max(d.get("hop_" + k[6:], 1), 1), 2)
                               for k, v in sorted(d.items()) if k.startswith("hopns_") and v}}
    if failed:
        out["first_failures"] = [f for r in res for f in r.get("first_failures", [])][:3]
    return out


def stats_delta(a: dict, b: dict) -> dict | None:
    """Per-message costs from two snapshots of bench/instrumented_serve.py's counters."""
    if not a or not b:
        return None
    d = {k: b.get(k, 0) - a.get(k, 0) for k in b if k != "t"}
    msgs = d.get("batched_msgs", 0)
    if not msgs:
        return None
    out = {"messages": msgs, "batches": d.get("batches", 0),
           "msgs_per_batch": msgs / max(d.get("batches", 1), 1),
           "batch_ms": d.get("batch_ns", 0) / 1e6 / max(d.get("batches", 1), 1),
           "statements_per_msg": d.get("stmt", 0) / msgs,
           "statements_per_batch": d.get("stmt", 0) / max(d.get("batches", 1), 1),
           "hops_per_msg": d.get("hop", 0) / msgs, "hops_per_batch": d.get("hop", 0) / max(d.get("batches", 1), 1),
           "hop_ms": d.get("hop_ns", 0) / 1e6 / max(d.get("hop", 1), 1),
           "pool_checkouts_per_msg": d.get("pool_checkout", 0) / msgs,
           "gc": {f"gen{g}": {"collections": d.get(f"gc{g}", 0), "wall_ms": round(d.get(f"gc{g}_ns", 0) / 1e6, 1),
                              "cpu_ms": round(d.get(f"gc{g}_cpu_ns", 0) / 1e6, 1),
                              "max_wall_ms_since_start": round(b.get(f"gc{g}_max_ns", 0) / 1e6, 1),
                              "collected": d.get(f"gc{g}_collected", 0)}
                  for g in range(3)},
           "hops_over_5ms": d.get("hop_over_5ms", 0),
           "by_kind": {k: v for k, v in sorted(d.items()) if (k.startswith("stmt_") or k.startswith("hop_")) and v
                       and k not in ("hop_ns", "hop_over_5ms")},
           "mean_ms_by_hop": {k[6:]: round(v / 1e6 / max(d.get("hop_" + k[6:], 1), 1), 3)
                              for k, v in sorted(d.items()) if k.startswith("hopns_") and v},
           "latency_parts": latency_parts(d)}
    return out


def latency_parts(d: dict) -> dict:
    """bench/instrumented_serve.py's histograms (``h_<part>_le<ms>`` …) over the window: per part the
    count, mean and the share of samples in each bucket (upper bound in ms)."""
    out: dict = {}
    for key, n in d.items():
        if key.startswith("h_") and key.endswith("_n") and n:
            part = key[2:-2]
            buckets = {k[len(part) + 3:]: v for k, v in d.items()
                       if k.startswith(f"h_{part}_") and k not in (f"h_{part}_n", f"h_{part}_ns") and v}
            out[part] = {"n": n, "mean_ms": round(d.get(f"h_{part}_ns", 0) / 1e6 / n, 3),
                         "buckets": dict(sorted(buckets.items(), key=lambda kv: _bucket_order(kv[0])))}
    return out


def _bucket_order(name: str) -> float:
    return float(name[2:]) if name.startswith("le") else math.inf


def measure_throughput(workers: h.Workers, pid: int, args, paced: bool, profile: str | None,
                       server=None, aux: dict | None = None) -> dict:
    ramp = 1.0
    start_at = time.monotonic() + 0.5
    win0, win1 = start_at + ramp, start_at + ramp + args.seconds
    workers.start("throughput", {"start_at": start_at, "ramp": ramp, "seconds": args.seconds,
                                 "window": args.window, "pace_rate": PACE_RATE if paced else 0.0,
                                 "pace_burst": PACE_BURST if paced else 0.0})
    spy = None
    time.sleep(max(0.0, win0 - time.monotonic()))
    st0 = server.stats() if server is not None and server.instrument else {}
    if server is not None and server.profile:
        os.kill(pid, signal.SIGUSR1)
    with h.CpuWindow(pid, workers.pids) as cpu, Aux(aux) as others:
        if profile:
            import subprocess

            spy = subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--duration", str(int(args.seconds)),
                                    "--rate", "200", "--format", "raw", "-o", profile],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(max(0.0, win1 - time.monotonic()))
    if server is not None and server.profile:
        os.kill(pid, signal.SIGUSR2)
    st1 = server.stats() if st0 else {}
    res = workers.collect(timeout=args.seconds + 120)
    if spy is not None:
        try:
            spy.wait(30)
        except Exception:
            h.stop_pid(spy, kill=True)
    ops_in_window = res[0]["op_in_window"]
    delivered = min(ops_in_window) if ops_in_window else 0
    acked_total = sum(r["acked"] for r in res)
    errors: dict = {}
    for r in res:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    return {
        "msgs_per_s": delivered / args.seconds,
        "acks_per_s": sum(r["acked_in_window"] for r in res) / args.seconds,
        "sent": sum(r["sent"] for r in res), "acked": acked_total,
        "op_received": res[0]["op_received"],
        "lost": max(0, acked_total - min(res[0]["op_received"])) if res[0]["op_received"] else None,
        "errors": errors, "closed_sockets": sum(r["closed"] for r in res),
        "outstanding_after_drain": sum(r["outstanding_after_drain"] for r in res),
        "server_cpu_pct": cpu.server_pct, "client_cpu_pct": cpu.client_pct,
        "other_cpu_pct": max(0.0, cpu.other_pct - 100 * sum(others.cpu.values()) / cpu.seconds),
        "server_cpu_us_per_msg": 1e6 * cpu.server_cpu / max(delivered, 1),
        "aux_cpu_pct": {k: 100 * v / cpu.seconds for k, v in others.cpu.items()},
        "aux_cpu_us_per_msg": {k: 1e6 * v / max(delivered, 1) for k, v in others.cpu.items()},
        "client_ceiling_msgs_per_s": args.visitors * PACE_RATE if paced else None,
        "instrumented": stats_delta(st0, st1),
    }


def measure_latency(workers: h.Workers, pid: int, args, server=None, aux: dict | None = None) -> dict:
    n = len(workers.pipes)
    ramp = 1.0
    start_at = time.monotonic() + 0.5
    workers.start("latency", [{"start_at": start_at, "seconds": args.seconds, "rate": args.rate / n, "ramp": ramp}
                              for _ in range(n)])
    time.sleep(max(0.0, start_at + ramp - time.monotonic()))
    st0 = server.stats() if server is not None and server.instrument else {}
    with h.CpuWindow(pid, workers.pids) as cpu, Aux(aux) as others:
        time.sleep(args.seconds)
    st1 = server.stats() if st0 else {}
    res = workers.collect(timeout=args.seconds + 60)
    lat = sorted(x for r in res for x in r["lat_ns"])
    errors: dict = {}
    for r in res:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    ms = 1e-6
    sent = sum(r["sent"] for r in res)
    return {"rate": args.rate, "samples": len(lat), "sent": sent, "acked": sum(r["acked"] for r in res),
            "op_received": res[0]["op_received"],
            "p50_ms": h.percentile(lat, 50) * ms, "p90_ms": h.percentile(lat, 90) * ms,
            "p99_ms": h.percentile(lat, 99) * ms, "p999_ms": h.percentile(lat, 99.9) * ms,
            "max_ms": (lat[-1] * ms) if lat else math.nan,
            "max_client_send_lag_ms": 1000 * max(r["max_send_lag_s"] for r in res),
            "errors": errors, "server_cpu_pct": cpu.server_pct, "client_cpu_pct": cpu.client_pct,
            "other_cpu_pct": max(0.0, cpu.other_pct - 100 * sum(others.cpu.values()) / cpu.seconds),
            "server_cpu_us_per_msg": 1e6 * cpu.server_cpu / (args.rate * args.seconds),
            "aux_cpu_pct": {k: 100 * v / cpu.seconds for k, v in others.cpu.items()},
            "instrumented": stats_delta(st0, st1)}


class Infra:
    """What the PostgreSQL targets share: one throwaway cluster (or the server of --database-url)
    and, for two nodes, one Redis. Everything is stopped at the end."""

    def __init__(self, args, log) -> None:
        self.args, self.log = args, log
        self.pg = None
        self.redis = None
        self.created: list[str] = []

    def database(self) -> str:
        """A fresh, empty database for one target."""
        if self.args.database_url:
            return self._create_on(self.args.database_url)
        if self.pg is None:
            from tests.support import PostgresCluster

            self.log("  starting a throwaway PostgreSQL cluster (initdb + pg_ctl) …")
            self.pg = PostgresCluster().start()
        return self.pg.create_database()

    def _create_on(self, url: str) -> str:
        import asyncio
        import uuid

        import asyncpg

        name = "fd_bench_" + uuid.uuid4().hex[:10]

        async def create() -> None:
            conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create())
        self.created.append(name)
        return url.rsplit("/", 1)[0] + "/" + name

    def postgres_pids(self) -> list[int]:
        if self.pg is None:
            return []  # an outside server (--database-url): its CPU is not ours to read
        try:
            pid = int((self.pg._data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return _children(pid)

    def redis_url(self) -> str:
        if self.redis is None:
            from tests.support import RedisServer

            self.redis = RedisServer().start()
        return self.redis.url

    def stop(self) -> None:
        if self.redis is not None:
            self.redis.stop()
        if self.pg is not None:
            self.pg.stop()
        if self.created:
            import asyncio

            import asyncpg

            async def drop() -> None:
                conn = await asyncpg.connect(self.args.database_url.replace("postgresql+asyncpg://", "postgresql://"))
                try:
                    for name in self.created:
                        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                finally:
                    await conn.close()

            try:
                asyncio.run(drop())
            except Exception as exc:
                self.log(f"warning: could not drop {self.created}: {exc}")


def run_target(kind: str, args, log, infra: Infra | None = None) -> dict:
    nodes = 2 if kind == "frontdesk_pg2" else 1
    node_b = None
    aux: dict = {}
    if kind == "baseline":
        server = h.BaselineServer(loop=args.baseline_loop).start()
    else:
        env: dict = {}
        if kind != "frontdesk":
            assert infra is not None
            env["FRONTDESK_DATABASE_URL"] = infra.database()
            aux["postgresql"] = infra.postgres_pids
        if nodes == 2:
            assert infra is not None
            env["FRONTDESK_BROKER_URL"] = infra.redis_url()
            aux["redis"] = lambda: [infra.redis.proc.pid] if infra.redis and infra.redis.proc else []
        profile = None
        if args.profile and kind == args.profile_target:
            h.RESULTS.mkdir(exist_ok=True)
            profile = str(h.RESULTS / f"profile-{kind}-{time.strftime('%Y%m%d-%H%M%S')}.prof")
        if args.writer_linger_ms is not None:
            env["FD_BENCH_LINGER_MS"] = str(args.writer_linger_ms)  # read by bench/instrumented_serve.py
        server = h.FrontdeskServer(env=env, instrument=args.instrument, profile=profile).start()
        if nodes == 2:
            try:
                node_b = h.FrontdeskServer(env=env).start()  # finds the demo of the shared database
            except BaseException:
                server.cleanup()
                raise
            aux = {"node B (operators)": lambda: [node_b.pid], **aux}
    workers = None
    try:
        if kind == "baseline":
            cfg = {"kind": "baseline", "port": server.port}
        else:
            settle(server.pid, log)
            if node_b is not None:
                settle(node_b.pid, log)
            cfg = server.login()
            if node_b is not None:
                # operators on node B: the admin of node A's demo logs in there (one shared database)
                from tests.support import OperatorClient

                d = server.demo
                node_b.op = OperatorClient(node_b, d["admin_email"], d["admin_password"])
                cfg.update(operator_port=node_b.port, cookie=node_b.op.cookie_header, origin=node_b.url)
        cfg["run_tag"] = {"baseline": "b", "frontdesk": "f", "frontdesk_pg": "p", "frontdesk_pg2": "q"}[kind]
        pid = server.pid
        out: dict = {"server_pid": pid, "server_nofile": h.nofile(pid), "rss_start": h.rss(pid), "nodes": nodes,
                     "engine": "sqlite" if kind in ("baseline", "frontdesk") else "postgresql"}
        workers = h.Workers(args.procs, cfg)
        if args.idle:
            log(f"  {kind}: idle memory with {args.idle:,} visitor sockets …")
            out["idle"] = measure_idle(workers, pid, args.idle, server=server if kind != "baseline" else None)
        if args.idle_only:
            out["rss_end"] = h.rss(pid)
            return out
        log(f"  {kind}: connecting {args.operators} operators + {args.visitors} visitors, warm-up …")
        ops = [args.operators] + [0] * (args.procs - 1)
        shares = h.split(args.visitors, args.procs)
        first = [sum(shares[:i]) for i in range(args.procs)]
        setup = workers.call("setup", [{"visitors": shares[i], "operators": ops[i], "take": False,
                                        "warmup": True, "first_idx": first[i]} for i in range(args.procs)],
                             timeout=300)
        take_s = None
        if kind != "baseline":
            # operators take their chats (no re-offer storms from the offer repeater during the run)
            take_s = server.take_all([c for s in setup for c in s["conversations"]])
        workers.pipes[0].send({"cmd": "wait_ops", "kw": {"messages": args.visitors, "conversations": 0}})
        if not workers.pipes[0].poll(120):
            raise TimeoutError("operators did not receive the warm-up")
        wait = workers.pipes[0].recv()["result"]
        out["setup"] = {"connect_s": max(s["connect_s"] for s in setup), "warmup_s": max(s["warmup_s"] for s in setup),
                        "warmup_received": wait["received"], "take_s": take_s}
        time.sleep(0.5)
        log(f"  {kind}: throughput, {args.seconds:g} s …")
        spy = None
        if args.py_spy and kind != "baseline":
            h.RESULTS.mkdir(exist_ok=True)
            spy = str(h.RESULTS / f"pyspy-throughput-{time.strftime('%Y%m%d-%H%M%S')}.txt")
        out["throughput"] = measure_throughput(workers, pid, args, paced=(kind != "baseline"), profile=spy,
                                               server=server if kind != "baseline" else None, aux=aux)
        if spy:
            out["throughput"]["py_spy_raw"] = spy
        if kind != "baseline" and server.profile:
            out["throughput"]["profile"] = server.profile
        time.sleep(0.5)
        log(f"  {kind}: latency at {args.rate:,} msg/s, {args.seconds:g} s …")
        out["latency"] = measure_latency(workers, pid, args, server=server if kind != "baseline" else None, aux=aux)
        out["rss_end"] = h.rss(pid)
        workers.call("close_all")
        return out
    finally:
        if workers is not None:
            workers.close()
        if kind == "baseline":
            server.stop()
        else:
            server.cleanup()
            if node_b is not None:
                node_b.cleanup()


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "–"
    return f"{a / b:.2f}"


def profile_summary(path: str, kind: str, top: int = 30) -> str:
    """The functions of the loop thread with the most own time (and cumulative, for the callers)."""
    import io
    import pstats

    try:
        st = pstats.Stats(path)
    except (OSError, TypeError, ValueError) as exc:
        return f"profile of {kind}: not written ({exc})"
    buf = io.StringIO()
    st.stream = buf  # type: ignore[attr-defined]
    st.sort_stats("tottime").print_stats(top)
    st.sort_stats("cumulative").print_stats(top)
    text = buf.getvalue()
    with open(path + ".txt", "w") as f:
        f.write(text)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    head = "\n".join(lines[: top + 8])
    return f"cProfile of {kind}, loop thread, throughput window ({path}; full text in {path}.txt):\n{head}"


def table(res: dict, args) -> str:
    b, f = res.get("baseline", {}), res.get("frontdesk", {})

    def g(d: dict, *path):
        for p in path:
            if isinstance(d, (list, tuple)) and isinstance(p, int) and p < len(d):
                d = d[p]
            elif isinstance(d, dict) and p in d:
                d = d[p]
            else:
                return None
        return d

    bt, ft = g(b, "throughput", "msgs_per_s"), g(f, "throughput", "msgs_per_s")
    b50, f50 = g(b, "latency", "p50_ms"), g(f, "latency", "p50_ms")
    b99, f99 = g(b, "latency", "p99_ms"), g(f, "latency", "p99_ms")
    bi, fi = g(b, "idle", "kib_per_socket"), g(f, "idle", "kib_per_socket")

    def num(x, fmt="{:,.0f}") -> str:
        return "–" if x is None else fmt.format(x)

    def verdict(ok: bool | None) -> str:
        return "–" if ok is None else ("**met**" if ok else "**missed**")

    rows = [
        "| metric | raw relay (baseline) | frontdesk | frontdesk / baseline | target | |",
        "|---|---:|---:|---:|---|---|",
        f"| visitor→operator relay, msg/s (frontdesk: stored + relayed) | {num(bt)} | {num(ft)} | {ratio(ft, bt)} "
        f"| ≥ 0.30 × baseline | {verdict(None if not (bt and ft) else ft / bt >= TARGETS['throughput_ratio'])} |",
        f"| latency p50 at {args.rate:,} msg/s, ms | {num(b50, '{:.2f}')} | {num(f50, '{:.2f}')} | {ratio(f50, b50)} | – | |",
        f"| latency p99 at {args.rate:,} msg/s, ms | {num(b99, '{:.2f}')} | {num(f99, '{:.2f}')} | {ratio(f99, b99)} "
        f"| ≤ 5 ms | {verdict(None if f99 is None else f99 <= TARGETS['p99_ms'])} |",
        f"| server RSS per idle visitor socket, KiB ({args.idle:,} sockets) | {num(bi, '{:.1f}')} | {num(fi, '{:.1f}')} "
        f"| {ratio(fi, bi)} | ≤ 40 KiB (at 10,000) | {verdict(None if fi is None else fi <= TARGETS['idle_kib'])} |",
    ]
    detail = [
        "",
        "| detail | raw relay (baseline) | frontdesk |",
        "|---|---:|---:|",
        f"| server CPU during throughput window | {num(g(b, 'throughput', 'server_cpu_pct'), '{:.0f} %')} "
        f"| {num(g(f, 'throughput', 'server_cpu_pct'), '{:.0f} %')} |",
        f"| load-generator CPU during throughput window | {num(g(b, 'throughput', 'client_cpu_pct'), '{:.0f} %')} "
        f"| {num(g(f, 'throughput', 'client_cpu_pct'), '{:.0f} %')} |",
        f"| other processes on the machine during throughput / latency window (CPU, 200 % = both cores) "
        f"| {_other(b)} | {_other(f)} |",
        f"| server CPU per relayed message at saturation, µs | {num(g(b, 'throughput', 'server_cpu_us_per_msg'), '{:.0f}')} "
        f"| {num(g(f, 'throughput', 'server_cpu_us_per_msg'), '{:.0f}')} |",
        f"| server CPU at {args.rate:,} msg/s | {num(g(b, 'latency', 'server_cpu_pct'), '{:.0f} %')} "
        f"| {num(g(f, 'latency', 'server_cpu_pct'), '{:.0f} %')} |",
        f"| latency p90 / p99.9 / max, ms | {_trip(b)} | {_trip(f)} |",
        f"| client-side ceiling (visitors × 19/s) | – | {num(g(f, 'throughput', 'client_ceiling_msgs_per_s'))} |",
        f"| acked but not received by every operator (after drain) | {num(g(b, 'throughput', 'lost'))} "
        f"| {num(g(f, 'throughput', 'lost'))} |",
        f"| error frames (throughput / latency) | {_errs(b)} | {_errs(f)} |",
        f"| connect {args.visitors:,} visitors / warm-up, s | {_setup(b)} | {_setup(f)} |",
        f"| RSS per idle socket, second half only (marginal), KiB | {num(g(b, 'idle', 'marginal_kib_per_socket'), '{:.1f}')} "
        f"| {num(g(f, 'idle', 'marginal_kib_per_socket'), '{:.1f}')} |",
        f"| relayed messages per server CPU-second (1e6 / CPU µs per message) "
        f"| {num(_per_cpu(b))} | {num(_per_cpu(f))} (ratio {ratio(_per_cpu(f), _per_cpu(b))}) |",
        f"| idle sockets opened per s (hello → welcome; 64 at a time) | {num(g(b, 'idle', 'opened_per_s'))} "
        f"| {num(g(f, 'idle', 'opened_per_s'))} |",
        f"| server CPU while opening them; CPU ms per hello | {_hello(b)} | {_hello(f)} |",
        f"| server RSS: start → before idle → with idle → end, MiB | {_rss(b)} | {_rss(f)} |",
        f"| server open-file limit (soft) | {num(g(b, 'server_nofile', 0))} | {num(g(f, 'server_nofile', 0))} |",
    ]
    if getattr(args, "idle_only", False):
        rows = [r for r in rows if "idle" in r or r.startswith("|---") or r.startswith("| metric")]
        detail = [r for r in detail if "idle" in r or "RSS" in r or "open-file" in r or "per hello" in r
                  or r.startswith("|---")
                  or r.startswith("| detail") or r == ""]
    return "\n".join(rows + detail)


def table_postgres(res: dict, args) -> str:
    """The PostgreSQL targets (one node; two nodes on PostgreSQL + Redis) beside the raw relay."""
    kinds = [k for k in ("frontdesk_pg", "frontdesk_pg2") if k in res]
    b = res.get("baseline", {})

    def g(d: dict, *path):
        for p in path:
            if not isinstance(d, dict) or p not in d:
                return None
            d = d[p]
        return d

    def num(x, fmt="{:,.0f}") -> str:
        return "–" if x is None else fmt.format(x)

    def cells(fn) -> str:
        return " | ".join(fn(res[k]) for k in kinds)

    def node_a(d: dict) -> float | None:
        return g(d, "throughput", "server_cpu_us_per_msg")

    def node_b(d: dict) -> float | None:
        return g(d, "throughput", "aux_cpu_us_per_msg", "node B (operators)")

    def nodes_total(d: dict) -> float | None:
        a, bb = node_a(d), node_b(d)
        return None if a is None else a + (bb or 0.0)

    bt = g(b, "throughput", "msgs_per_s")
    rows = [
        "| metric (PostgreSQL) | raw relay (baseline) | " + " | ".join(LABELS[k] for k in kinds) + " |",
        "|---|---:|" + "---:|" * len(kinds),
        f"| visitor→operator msg/s (stored + relayed; ratio to raw) | {num(bt)} | "
        + cells(lambda d: f"{num(g(d, 'throughput', 'msgs_per_s'))} ({ratio(g(d, 'throughput', 'msgs_per_s'), bt)})")
        + " |",
        f"| server CPU per relayed message at saturation, µs: node of the visitors | "
        f"{num(g(b, 'throughput', 'server_cpu_us_per_msg'))} | " + cells(lambda d: num(node_a(d))) + " |",
        "| … node of the operators (two nodes) | – | " + cells(lambda d: num(node_b(d))) + " |",
        "| … frontdesk nodes together | – | " + cells(lambda d: num(nodes_total(d))) + " |",
        "| PostgreSQL's own CPU per message, µs | – | "
        + cells(lambda d: num(g(d, "throughput", "aux_cpu_us_per_msg", "postgresql"))) + " |",
        "| Redis's own CPU per message, µs | – | "
        + cells(lambda d: num(g(d, "throughput", "aux_cpu_us_per_msg", "redis"))) + " |",
        f"| latency p50 / p99 at {args.rate:,} msg/s, ms | "
        f"{num(g(b, 'latency', 'p50_ms'), '{:.2f}')} / {num(g(b, 'latency', 'p99_ms'), '{:.2f}')} | "
        + cells(lambda d: f"{num(g(d, 'latency', 'p50_ms'), '{:.2f}')} / {num(g(d, 'latency', 'p99_ms'), '{:.2f}')}")
        + " |",
        f"| server CPU at {args.rate:,} msg/s (node of the visitors; of the operators) | – | "
        + cells(lambda d: f"{num(g(d, 'latency', 'server_cpu_pct'), '{:.0f} %')}"
                + (f"; {g(d, 'latency', 'aux_cpu_pct', 'node B (operators)'):.0f} %"
                   if g(d, 'latency', 'aux_cpu_pct', 'node B (operators)') is not None else "")) + " |",
        f"| RSS per idle visitor socket, KiB ({args.idle:,} sockets; marginal) | – | "
        + cells(lambda d: f"{num(g(d, 'idle', 'kib_per_socket'), '{:.1f}')} "
                          f"({num(g(d, 'idle', 'marginal_kib_per_socket'), '{:.1f}')})") + " |",
        "| CPU ms per visitor hello (new visitor → welcome) | – | "
        + cells(lambda d: num(g(d, "idle", "server_cpu_ms_per_hello"), "{:.2f}")) + " |",
        "| acked but not received by every operator; error frames | – | "
        + cells(lambda d: f"{num(g(d, 'throughput', 'lost'))}; {_errs(d)}") + " |",
        "| other processes during throughput / latency window (CPU, of 200 %) | – | " + cells(_other) + " |",
    ]
    if "frontdesk_pg" in res and "frontdesk_pg2" in res:
        one, two = nodes_total(res["frontdesk_pg"]), nodes_total(res["frontdesk_pg2"])
        if one is not None and two is not None:
            rows.append("")
            rows.append(f"Cross-node overhead per message: {two - one:+.0f} µs of frontdesk CPU (two nodes "
                        f"{two:.0f} µs vs one node {one:.0f} µs per relayed message, same run); Redis "
                        f"{num(g(res['frontdesk_pg2'], 'throughput', 'aux_cpu_us_per_msg', 'redis'))} µs on top.")
    if getattr(args, "idle_only", False):
        rows = [r for r in rows if "idle" in r or "hello" in r or r.startswith("|---") or r.startswith("| metric")]
    return "\n".join(rows)


def _per_cpu(d: dict) -> float | None:
    t = d.get("throughput")
    return 1e6 / t["server_cpu_us_per_msg"] if t and t.get("server_cpu_us_per_msg") else None


def _hello(d: dict) -> str:
    i = d.get("idle")
    if not i or "server_cpu_ms_per_hello" not in i:
        return "–"
    return f"{i['server_cpu_pct_while_opening']:.0f} %; {i['server_cpu_ms_per_hello']:.2f}"


def _other(d: dict) -> str:
    if "throughput" not in d:
        return "–"
    return f"{d['throughput']['other_cpu_pct']:.0f} % / {d['latency']['other_cpu_pct']:.0f} %"


def _trip(d: dict) -> str:
    lat = d.get("latency")
    if not lat:
        return "–"
    return f"{lat['p90_ms']:.2f} / {lat['p999_ms']:.2f} / {lat['max_ms']:.2f}"


def _errs(d: dict) -> str:
    if "throughput" not in d:
        return "–"
    e1, e2 = d["throughput"]["errors"], d["latency"]["errors"]
    return f"{sum(e1.values())} / {sum(e2.values())}" + (f" ({', '.join(sorted(set(e1) | set(e2)))})" if e1 or e2 else "")


def _setup(d: dict) -> str:
    s = d.get("setup")
    return "–" if not s else f"{s['connect_s']:.1f} / {s['warmup_s']:.1f}"


def _rss(d: dict) -> str:
    if "idle" not in d:
        return "–"
    mib = 1 / 2**20
    return (f"{d['rss_start'] * mib:.0f} → {d['idle']['rss_before'] * mib:.0f} → {d['idle']['rss_after'] * mib:.0f}"
            f" → {d['rss_end'] * mib:.0f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--visitors", type=int, default=500, help="visitor sockets that send (default 500)")
    ap.add_argument("--operators", type=int, default=2, help="operator sockets, all receive every message (default 2)")
    ap.add_argument("--seconds", type=float, default=10, help="measured seconds per phase (default 10)")
    ap.add_argument("--rate", type=int, default=1000, help="offered msg/s for the latency phase (default 1000)")
    ap.add_argument("--idle", type=int, default=2000, help="idle visitor sockets for the memory figure (default 2000)")
    ap.add_argument("--idle-only", action="store_true", help="only the idle-memory phase (e.g. with --idle 10000)")
    ap.add_argument("--window", type=int, default=4, help="outstanding sends per visitor (default 4)")
    ap.add_argument("--procs", type=int, default=1, help="load-generator processes (default 1; the machine has 2 cores)")
    ap.add_argument("--only", choices=["baseline", "frontdesk"], help="run one server only")
    ap.add_argument("--baseline-loop", default="auto", choices=["auto", "asyncio"],
                    help="event loop of the baseline (auto = uvloop as installed; asyncio = what frontdesk's cli runs)")
    ap.add_argument("--py-spy", action="store_true", help="py-spy record (raw) of frontdesk during the throughput window")
    ap.add_argument("--writer-linger-ms", type=float, default=None,
                    help="with --instrument: the message writer's bounded wait when batches are small, ms "
                         "(default: actions/writer.LINGER), for an A/B of p50/p99 vs CPU at --rate")
    ap.add_argument("--instrument", action="store_true",
                    help="run frontdesk through bench/instrumented_serve.py: statements, thread hops, batch sizes")
    ap.add_argument("--wait-quiet", type=float, default=0,
                    help="first wait up to this many seconds for other processes to leave the CPUs alone")
    ap.add_argument("--engine", default="sqlite",
                    help="database of frontdesk: sqlite (default), postgresql, or both (sqlite,postgresql)")
    ap.add_argument("--nodes", type=int, default=1, choices=[1, 2],
                    help="2: also two frontdesk nodes on PostgreSQL + Redis (visitors on one, operators on the other)")
    ap.add_argument("--database-url", default="",
                    help="a PostgreSQL server to use (postgresql+asyncpg://…; a database is created on it per "
                         "target and dropped after) instead of a throwaway initdb cluster")
    ap.add_argument("--profile", action="store_true",
                    help="cProfile of frontdesk's event-loop thread during the throughput window "
                         "(bench/profiled_serve.py; slows it down: not for the figures)")
    ap.add_argument("--profile-target", default="frontdesk", choices=["frontdesk", "frontdesk_pg", "frontdesk_pg2"],
                    help="which frontdesk target --profile profiles (default frontdesk)")
    ap.add_argument("--no-json", action="store_true")
    args = ap.parse_args()
    engines = {e.strip() for e in args.engine.split(",") if e.strip()}
    if not engines <= {"sqlite", "postgresql"}:
        ap.error("--engine: sqlite, postgresql or sqlite,postgresql")
    kinds = ["baseline"]
    if "sqlite" in engines:
        kinds.append("frontdesk")
    if "postgresql" in engines or args.nodes == 2:
        kinds.append("frontdesk_pg")
    if args.nodes == 2:
        kinds.append("frontdesk_pg2")
    if args.rate / args.visitors > PACE_RATE:
        print(f"warning: {args.rate} msg/s over {args.visitors} visitors exceeds frontdesk's 20 frames/s per socket",
              file=sys.stderr)
    limits = wsload.raise_nofile()
    t_start = time.monotonic()

    def log(msg: str) -> None:
        print(f"[{time.monotonic() - t_start:5.1f}s] {msg}", file=sys.stderr, flush=True)

    other_before = h.wait_quiet(args.wait_quiet, log)
    t_start = time.monotonic()
    info = h.machine()
    results: dict = {"machine": info, "args": vars(args), "bench_nofile": limits, "other_cpu_before_pct": other_before}
    infra = Infra(args, log)
    try:
        for kind in kinds:
            if args.only and args.only != kind.split("_")[0]:
                continue
            log(f"{kind} …")
            results[kind] = run_target(kind, args, log, infra)
    finally:
        infra.stop()
    results["elapsed_s"] = time.monotonic() - t_start
    print()
    print(f"Core relay — {info['date']}, commit {info['commit']}, {info['cpus']} cores ({info['cpu']}), "
          f"Python {info['python']}, uvicorn {info['uvicorn']}, websockets {info['websockets']}")
    print(f"{args.visitors} visitors (window {args.window}), {args.operators} operator sockets, {args.seconds:g} s per "
          f"phase, {args.procs} load process(es); baseline loop: {args.baseline_loop}; "
          f"run took {results['elapsed_s']:.0f} s")
    print(f"machine before the run: other processes used {results['other_cpu_before_pct']:.0f} % CPU "
          f"(of 200 %)")
    print()
    if "frontdesk" in results or not any(k in results for k in ("frontdesk_pg", "frontdesk_pg2")):
        print(table(results, args))
    if any(k in results for k in ("frontdesk_pg", "frontdesk_pg2")):
        print()
        print(table_postgres(results, args))
    for kind in ("frontdesk", "frontdesk_pg", "frontdesk_pg2"):
        prof = results.get(kind, {}).get("throughput", {}).get("profile")
        if prof:
            print()
            print(profile_summary(prof, kind))
    inst = [(k, results[k][ph]["instrumented"]) for k in ("frontdesk",) if k in results
            for ph in ("throughput", "latency") if results[k].get(ph, {}).get("instrumented")]
    if inst:
        print()
        print("| instrumented frontdesk | throughput phase | latency phase |")
        print("|---|---:|---:|")
        t, l = results["frontdesk"].get("throughput", {}).get("instrumented") or {}, \
            results["frontdesk"].get("latency", {}).get("instrumented") or {}
        for key, label, fmt in [("msgs_per_batch", "messages per group-commit batch", "{:.1f}"),
                                ("batch_ms", "batch wall time, ms", "{:.2f}"),
                                ("statements_per_batch", "SQL statements per batch", "{:.1f}"),
                                ("hops_per_batch", "aiosqlite thread hops per batch", "{:.1f}"),
                                ("statements_per_msg", "SQL statements per message", "{:.2f}"),
                                ("hops_per_msg", "aiosqlite thread hops per message", "{:.2f}"),
                                ("hop_ms", "mean hop wall time, ms", "{:.2f}"),
                                ("pool_checkouts_per_msg", "pool checkouts per message", "{:.2f}")]:
            print(f"| {label} | {fmt.format(t[key]) if key in t else '–'} | {fmt.format(l[key]) if key in l else '–'} |")
        print(f"\nby kind (throughput phase): {t.get('by_kind')}")
        print(f"by kind (latency phase): {l.get('by_kind')}")
        print(f"garbage collector (throughput phase): {t.get('gc')}; (latency phase): {l.get('gc')}")
        if l.get("latency_parts"):
            print("\nlatency phase, parts of the path (count, mean ms, samples per bucket ≤ ms):")
            for part, v in l["latency_parts"].items():
                print(f"  {part:9} n={v['n']:<7} mean={v['mean_ms']:<7} {v['buckets']}")
    ih = results.get("frontdesk", {}).get("idle", {}).get("instrumented_per_hello")
    if ih:
        print("\nper visitor hello (idle phase): " + ", ".join(
            f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in ih.items()))
    if not args.no_json:
        print(f"\nJSON: {h.save_json('relay', results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
