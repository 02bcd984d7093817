"""Page-view reports absorbed by one server process, and its memory per tracked visitor.

    PYTHONPATH=src python bench/pageviews.py [--visitors 1000 10000] [--views 3] [--concurrency 64] [--seconds 240]

Starts a real ``frontdesk serve`` (SQLite, memory broker), makes a site, then for each size:
every simulated visitor sends its first page view (no token: the visitor is created), then
``--views`` more with its token, ``--concurrency`` requests in flight, like the loader's
``track.js`` (text/plain body, token inside). Prints reports per second for first views and
for later views, the server's RSS growth per tracked visitor (the visitors list's state lives in
the database; the process keeps only bounded caches), and the raw baseline: the same request
refused before any database work (422), the ceiling of this machine and process. Each size stops
after ``--seconds`` (a partial row says so). Rate limits are off for the run (one address).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support import ServerProcess, make_site

UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
HEADERS = {"content-type": "text/plain;charset=UTF-8", "origin": "https://shop.example", "user-agent": UA}


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def other_cpu() -> float:
    """Load average per core minus nothing: the machine's load when the run starts (shared box)."""
    return float(Path("/proc/loadavg").read_text().split()[0])


async def raw(url: str, n: int, concurrency: int) -> float:
    """The ceiling of this machine and process for the same request: a report refused before any
    database work (422, not JSON) — HTTP, routing, the site look-up from the node cache."""
    sem = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as client:
        async def one() -> None:
            async with sem:
                for attempt in range(3):  # a kept-alive connection the server closed meanwhile: again
                    try:
                        r = await client.post(url, content=b"not json", headers=HEADERS)
                        break
                    except httpx.TransportError:
                        if attempt == 2:
                            raise
            assert r.status_code == 422, r.text
        t = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return n / (time.perf_counter() - t)


async def run(url: str, n: int, views: int, concurrency: int, seconds: float) -> dict:
    sem = asyncio.Semaphore(concurrency)
    tokens: list[str | None] = [None] * n
    deadline = time.monotonic() + seconds
    done = {"first": 0, "later": 0}

    async def post(client: httpx.AsyncClient, i: int, page: int) -> None:
        if time.monotonic() > deadline or (page and tokens[i] is None):
            return
        body = {"token": tokens[i], "views": [{
            "url": f"https://shop.example/p/{page}?utm_source=yandex&utm_medium=cpc&yclid={i}",
            "title": f"Товар {page}", "referrer": "https://yandex.ru/" if page == 0 else "https://shop.example/"}]}
        async with sem:
            for attempt in range(3):  # a kept-alive connection the server closed meanwhile: again
                if time.monotonic() > deadline:
                    return
                try:
                    r = await client.post(url, content=json.dumps(body), headers=HEADERS)
                    break
                except httpx.TransportError:
                    if attempt == 2:
                        raise
        r.raise_for_status()
        if tokens[i] is None:
            tokens[i] = r.json()["visitor_token"]
        done["first" if page == 0 else "later"] += 1

    out: dict = {}
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=concurrency)) as client:
        t = time.perf_counter()
        await asyncio.gather(*(post(client, i, 0) for i in range(n)))
        out["first"] = done["first"] / (time.perf_counter() - t)
        t = time.perf_counter()
        await asyncio.gather(*(post(client, i, p) for p in range(1, views + 1) for i in range(n)))
        out["later"] = done["later"] / max(time.perf_counter() - t, 1e-9)
    out["visitors"] = done["first"]
    out["complete"] = done["first"] == n and done["later"] == n * views
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--visitors", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--views", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=240, help="time limit per size (a partial row says so)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # no rate limit: one address stands for thousands of visitors here
        srv = ServerProcess(Path(tmp) / "data", env={"FRONTDESK_PAGEVIEWS_PER_MINUTE": "0",
                                                     "FRONTDESK_PAGEVIEWS_PER_ADDRESS": "0"}).start()
        try:
            assert srv.proc is not None
            warm = make_site(srv, "Warm-up")
            warm_url = f"{srv.url}/api/v1/widget/pageviews?site={warm['site_key']}"
            asyncio.run(run(warm_url, 50, 1, 8, 60))  # GeoIP data and the UA parser load on the first visit
            print(f"load average at start: {other_cpu():.1f} on {os.cpu_count()} cores")
            print("| visitors | raw (422, no database) req/s | first views/s (new visitor) | later views/s "
                  "| server RSS growth | per tracked visitor |")
            print("|---:|---:|---:|---:|---:|---:|")
            for n in args.visitors:
                site = make_site(srv, f"Bench {n}")
                url = f"{srv.url}/api/v1/widget/pageviews?site={site['site_key']}"
                base = asyncio.run(raw(url, min(n, 3000), args.concurrency))
                before = rss_kb(srv.proc.pid)
                res = asyncio.run(run(url, n, args.views, args.concurrency, args.seconds))
                grow = rss_kb(srv.proc.pid) - before
                tracked = max(res["visitors"], 1)
                note = "" if res["complete"] else f" (partial: {res['visitors']:,} visitors in {args.seconds:.0f} s)"
                print(f"| {n:,}{note} | {base:,.0f} | {res['first']:,.0f} | {res['later']:,.0f} | {grow / 1024:,.1f} MB | "
                      f"{grow * 1024 / tracked:,.0f} B |", flush=True)
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
