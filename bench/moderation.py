#!/usr/bin/env python
"""Moderation engines: what a profanity check and a ban look-up cost per message.

    PYTHONPATH=src python bench/moderation.py [--runs 600] [--probes 50000]

1. `ProfanityFilter.find` on 500-character chat messages (Russian and English shop
   chat with some profanity mixed in; every run a different message), p50/p99 over
   --runs runs: warm (the per-word cache filled by earlier messages, as in a running
   server) and cold (cache cleared before each call: every word checked afresh).
   Baseline in the same run: `text.lower()` then `entry in text` for every entry of
   the same word lists (the naive substring scan, which flags "оскорблять" and "class").
2. `BanSet.match` with 10,000 bans (4,000 visitors, 3,000 IPs, 3,000 IPv4/IPv6
   subnets of 9 prefix lengths), mean µs per call over --probes look-ups (a mix of
   hits and misses). Baselines in the same run: a plain `set` membership test (the
   floor for any hash look-up) and a linear scan over the subnets (`addr in net`).
A benchmark: it prints a table and asserts nothing. Runs in well under a minute.
"""
from __future__ import annotations

import argparse
import ipaddress
import platform
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from frontdesk.moderation.bans import Ban, BanSet  # noqa: E402
from frontdesk.moderation.profanity import ProfanityFilter, _upstream_dir  # noqa: E402

DATA = REPO / "tests" / "moderation" / "data"


def _lines(name: str) -> list[str]:
    return [
        line.strip()
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def _messages(n: int, rnd: random.Random) -> list[str]:
    chat = _lines("shop_chat.txt")
    bad = _lines("ru_bad.txt") + _lines("en_bad.txt")
    words = [w for line in chat for w in line.split()]
    out = []
    for _ in range(n):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < 500:
            parts.append(rnd.choice(bad) if rnd.random() < 0.03 else rnd.choice(words))
        out.append(" ".join(parts)[:500])
    return out


def _pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))]


def bench_profanity(runs: int) -> list[tuple[str, str, str, str]]:
    rnd = random.Random(7)
    t = time.perf_counter()
    pf = ProfanityFilter()
    load_ms = (time.perf_counter() - t) * 1000
    msgs = _messages(runs, rnd)
    up = _upstream_dir()
    entries = sorted({
        e.strip().lower()
        for lang in ("ru", "en")
        for e in (up / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
        if e.strip()
    })

    def naive(text: str) -> list[str]:
        low = text.lower()
        return [e for e in entries if e in low]

    rows = []
    for name, fn, before in (
        ("find, cold (cache cleared each call)", pf.find, pf._check.cache_clear),
        ("find, warm (per-word cache)", pf.find, None),
        (f"baseline: lower() + `in` over {len(entries)} entries", naive, None),
    ):
        for m in msgs[:50]:  # warm-up (and, for "warm", fill the cache with other messages)
            fn(m)
        samples = []
        for m in msgs:
            if before:
                before()
            t0 = time.perf_counter()
            fn(m)
            samples.append((time.perf_counter() - t0) * 1e6)
        rows.append((name, f"{_pct(samples, 0.5):.0f}", f"{_pct(samples, 0.99):.0f}", f"{len(samples)}"))
    rows.append((f"(filter load, once per process: {load_ms:.0f} ms)", "", "", "1"))
    return rows


def _bans(rnd: random.Random, now: datetime) -> list[Ban]:
    bans: list[Ban] = []
    for i in range(10_000):
        exp = None if rnd.random() < 0.3 else now + timedelta(hours=rnd.randrange(1, 500))
        if i < 4000:
            kind, value = "visitor", f"v{rnd.getrandbits(64):016x}"
        elif i < 7000:
            kind, value = "ip", str(ipaddress.IPv4Address(rnd.getrandbits(32)))
        elif i < 9000:
            plen = rnd.choice([12, 16, 20, 24, 24, 28, 32])
            kind, value = "subnet", f"{ipaddress.IPv4Address(rnd.getrandbits(32))}/{plen}"
        else:
            plen = rnd.choice([32, 48, 64])
            kind, value = "subnet", f"{ipaddress.IPv6Address(rnd.getrandbits(128))}/{plen}"
        bans.append(Ban.create(i, kind, value, reason="bench", author="bench", created_at=now - timedelta(hours=1),
                               expires_at=exp))
    return bans


def bench_bans(probes: int) -> list[tuple[str, str, str, str]]:
    rnd = random.Random(11)
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    bans = _bans(rnd, now)
    t = time.perf_counter()
    index = BanSet(bans)
    build_ms = (time.perf_counter() - t) * 1000
    visitors = [b.value for b in bans if b.kind == "visitor"]
    ips = [b.value for b in bans if b.kind == "ip"]
    queries = []
    for _ in range(probes):
        r = rnd.random()
        vk = rnd.choice(visitors) if r < 0.1 else f"v{rnd.getrandbits(64):016x}"
        if r < 0.2:
            ip = rnd.choice(ips)
        elif r < 0.6:
            ip = str(ipaddress.IPv4Address(rnd.getrandbits(32)))
        elif r < 0.8:
            ip = f"::ffff:{ipaddress.IPv4Address(rnd.getrandbits(32))}"
        else:
            ip = str(ipaddress.IPv6Address(rnd.getrandbits(128)))
        queries.append((vk, ip))
    hits = 0
    t0 = time.perf_counter()
    for vk, ip in queries:
        if index.match(vk, ip, now) is not None:
            hits += 1
    per_match = (time.perf_counter() - t0) / len(queries) * 1e6

    parsed = [(vk, ipaddress.ip_address(ip)) for vk, ip in queries]
    t0 = time.perf_counter()
    for vk, addr in parsed:
        index.match(vk, addr, now)
    per_match_parsed = (time.perf_counter() - t0) / len(parsed) * 1e6

    ipset, vset = set(ips), set(visitors)
    t0 = time.perf_counter()
    for vk, ip in queries:
        _ = vk in vset or ip in ipset
    per_set = (time.perf_counter() - t0) / len(queries) * 1e6

    nets = [ipaddress.ip_network(b.value) for b in bans if b.kind == "subnet"]
    few = parsed[:300]
    t0 = time.perf_counter()
    for _, addr in few:
        a4 = addr.ipv4_mapped or addr if addr.version == 6 else addr
        any(a4.version == n.version and a4 in n for n in nets)
    per_scan = (time.perf_counter() - t0) / len(few) * 1e6
    return [
        (f"BanSet.match, IP as text ({hits / len(queries):.0%} hit)", f"{per_match:.2f}", "", f"{len(queries)}"),
        ("BanSet.match, IP already parsed", f"{per_match_parsed:.2f}", "", f"{len(parsed)}"),
        ("baseline: plain set membership (visitor, ip)", f"{per_set:.2f}", "", f"{len(queries)}"),
        (f"baseline: linear scan of {len(nets)} subnets", f"{per_scan:.0f}", "", f"{len(few)}"),
        (f"(BanSet build, 10,000 bans: {build_ms:.0f} ms)", "", "", "1"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=600)
    ap.add_argument("--probes", type=int, default=50_000)
    args = ap.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or '?'}")
    print()
    print("| profanity: one 500-character message | p50 µs | p99 µs | runs |")
    print("|---|---:|---:|---:|")
    for row in bench_profanity(args.runs):
        print("| " + " | ".join(row) + " |")
    print()
    print("| bans: 10,000 bans | µs per call | | calls |")
    print("|---|---:|---:|---:|")
    for row in bench_bans(args.probes):
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
