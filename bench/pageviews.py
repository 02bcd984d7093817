"""Page-view reports absorbed by one server process, and its memory per tracked visitor.

    PYTHONPATH=src python bench/pageviews.py [--visitors 1000 10000] [--views 3] [--concurrency 64]

Starts a real ``frontdesk serve`` (SQLite, memory broker), makes a site, then for each size:
every simulated visitor sends its first page view (no token: the visitor is created), then
``--views`` more with its token, ``--concurrency`` requests in flight, like the loader's
``track.js`` (text/plain body, token inside). Prints reports per second for first views and
for later views, and the server's RSS growth per visitor (the visitors list's state lives in
the database; the process keeps only bounded caches). Stops after 2 minutes whatever happens.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support import ServerProcess, make_site

UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
DEADLINE = time.monotonic() + 120


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def run(url: str, n: int, views: int, concurrency: int) -> dict:
    sem = asyncio.Semaphore(concurrency)
    tokens: list[str | None] = [None] * n
    headers = {"content-type": "text/plain;charset=UTF-8", "origin": "https://shop.example", "user-agent": UA}

    async def post(client: httpx.AsyncClient, i: int, page: int) -> None:
        if time.monotonic() > DEADLINE:
            return
        body = {"token": tokens[i], "views": [{
            "url": f"https://shop.example/p/{page}?utm_source=yandex&utm_medium=cpc&yclid={i}",
            "title": f"Товар {page}", "referrer": "https://yandex.ru/" if page == 0 else "https://shop.example/"}]}
        async with sem:
            r = await client.post(url, content=json.dumps(body), headers=headers)
        r.raise_for_status()
        if tokens[i] is None:
            tokens[i] = r.json()["visitor_token"]

    out = {}
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as client:
        t = time.perf_counter()
        await asyncio.gather(*(post(client, i, 0) for i in range(n)))
        out["first"] = n / (time.perf_counter() - t)
        t = time.perf_counter()
        await asyncio.gather(*(post(client, i, p) for p in range(1, views + 1) for i in range(n)))
        out["later"] = n * views / (time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--visitors", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--views", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=64)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerProcess(Path(tmp) / "data").start()
        try:
            assert srv.proc is not None
            print("| visitors | first views/s (new visitor) | later views/s | server RSS growth | per visitor |")
            print("|---:|---:|---:|---:|---:|")
            for n in args.visitors:
                site = make_site(srv, f"Bench {n}")
                url = f"{srv.url}/api/v1/widget/pageviews?site={site['site_key']}"
                before = rss_kb(srv.proc.pid)
                res = asyncio.run(run(url, n, args.views, args.concurrency))
                grow = rss_kb(srv.proc.pid) - before
                print(f"| {n:,} | {res['first']:,.0f} | {res['later']:,.0f} | {grow / 1024:,.1f} MB | "
                      f"{grow * 1024 / n:,.0f} B |", flush=True)
                if time.monotonic() > DEADLINE:
                    print("(stopped at the 2-minute limit: the last row is partial)")
                    break
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
