#!/usr/bin/env python
"""Visitor context: what classifying a visit costs.

    PYTHONPATH=src python bench/context.py [--seconds 1.0]

Per operation, measured for about ``--seconds`` on one core in 50 ms slices interleaved with
a raw baseline on the same inputs (so both see the same machine load; read the ratio):

- traffic source classification (``sources.classify``) vs ``urllib.parse.urlsplit`` of the
  landing URL and the referrer alone (the least any classifier has to do);
- User-Agent parsing cold (``useragent.parse_uncached``: ua-parser with the native
  ua-parser-rs matcher, and — fewer rounds — the pure-Python matcher it falls back to)
  and cached (``parse_user_agent`` on a repeating set), vs a dict lookup of the string;
- GeoIP lookups (``GeoIP.lookup`` on the bundled data) vs ``ipaddress.ip_address`` alone
  and vs geoip2fast's own ``lookup`` (what our wrapper adds), cold and from the LRU;
- memory and load time of the bundled GeoIP data (country, country+ASN), each measured in a
  fresh child process as the growth of its resident set.

A benchmark: it prints a table, asserts nothing. Runs well under a minute.
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import platform
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))

from frontdesk.context import geoip, sources, useragent  # noqa: E402

SHOP = "https://shop.example.ru/"
PAIRS = [
    (SHOP + "?utm_source=yandex&utm_medium=cpc&utm_campaign=123&utm_term=%D0%B4%D0%B8%D0%B2%D0%B0%D0%BD&yclid=803122754",
     "https://yandex.ru/"),
    (SHOP + "?gclid=Cj0KCQiA4NWrBhD", "https://www.google.com/"),
    (SHOP, "https://yandex.ru/search/?text=%D0%BA%D1%83%D0%BF%D0%B8%D1%82%D1%8C+%D0%B4%D0%B8%D0%B2%D0%B0%D0%BD&lr=213"),
    (SHOP + "catalog/?ysclid=lq2k3j4h5g", "https://yandex.ru/"),
    (SHOP, "https://www.google.de/search?q=sofa+kaufen"),
    (SHOP, "https://go.mail.ru/search?q=%D0%B4%D0%B8%D0%B2%D0%B0%D0%BD"),
    (SHOP, "https://m.vk.com/wall-12345_678"),
    (SHOP, "https://t.me/"),
    (SHOP + "cart", SHOP + "catalog/sofas"),
    (SHOP, ""),
    (SHOP, "https://forum.example.org/thread/123?page=2"),
    (SHOP + "?utm_source=newsletter&utm_medium=email", ""),
]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 YaBrowser/{v}.11.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{v}.2 Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/{v}.0 Chrome/115.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{v}.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.6099.144 Mobile Safari/537.36",
    "Mozilla/5.0 (compatible; YandexBot/{v}.0; +http://yandex.com/bots)",
]

MEMORY_CHILD = r"""
import gc, json, os, sys, time
sys.path.insert(0, sys.argv[1])
def rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
from frontdesk.context import geoip
import geoip2fast, babel  # imported before the baseline: only the data is counted
gc.collect(); before = rss(); t = time.perf_counter()
g = geoip.GeoIP(use_installed_city_db=False, asn=sys.argv[2] == 'asn'); g.load()
load = time.perf_counter() - t
g.lookup('77.88.8.8'); gc.collect()
print(json.dumps({'rss_mb': (rss() - before) / 2**20, 'load_s': load}))
"""


def _slice(fn, items, until: float) -> tuple[int, float]:
    count, start = 0, time.perf_counter()
    while True:
        for item in items:
            fn(item)
        count += len(items)
        now = time.perf_counter()
        if now >= until:
            return count, now - start


def rate(fn, items, seconds: float) -> float:
    """Operations per second of ``fn`` over ``items`` (cycled), for about ``seconds``."""
    count, spent = _slice(fn, items, time.perf_counter() + seconds)
    return count / spent


def paired(fn, base, items, seconds: float, base_items=None) -> tuple[float, float]:
    """Rates of ``fn`` and of the baseline ``base``, measured in alternating 50 ms slices so
    that both see the same machine load (the ratio is what to read on a shared machine)."""
    base_items = items if base_items is None else base_items
    totals = [0, 0.0, 0, 0.0]
    deadline = time.perf_counter() + 2 * seconds
    while time.perf_counter() < deadline:
        n, t = _slice(fn, items, time.perf_counter() + 0.05)
        totals[0] += n
        totals[1] += t
        n, t = _slice(base, base_items, time.perf_counter() + 0.05)
        totals[2] += n
        totals[3] += t
    return totals[0] / totals[1], totals[2] / totals[3]


def _pair_row(rates: tuple[float, float], base_name: str) -> tuple[float, str, float]:
    return rates[0], base_name, rates[1]


def distinct_agents(count: int) -> list[str]:
    out = []
    for i in range(count):
        template = AGENTS[i % len(AGENTS)]
        out.append(template.format(v=60 + i // len(AGENTS)) + f" build/{i}")
    return out


def public_ips(count: int, seed: int = 7) -> list[str]:
    rnd, out = random.Random(seed), []
    while len(out) < count:
        address = ipaddress.IPv4Address(rnd.getrandbits(32))
        if address.is_global:
            out.append(str(address))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = parser.parse_args()
    s = args.seconds
    rows: list[tuple[str, float, str, float]] = []

    # --- traffic source
    def split_both(pair):
        urlsplit(pair[0])
        urlsplit(pair[1])
    rows.append(("source: classify (12 real pairs)",
                 *_pair_row(paired(lambda p: sources.classify(*p), split_both, PAIRS, s), "urlsplit ×2")))

    # --- user agent
    agents = distinct_agents(5000)
    table = {ua: i for i, ua in enumerate(agents)}
    useragent._get_parser()  # build the matcher before timing
    rows.append(("UA: parse cold (ua-parser-rs)",
                 *_pair_row(paired(useragent.parse_uncached, table.__getitem__, agents, s), "dict lookup")))
    try:
        import ua_parser
        basic = ua_parser.Parser(ua_parser.BasicResolver(ua_parser.load_builtins()))
        basic.parse(agents[0])
        rows.append(("UA: parse cold (pure-Python matcher)",
                     *_pair_row(paired(basic.parse, table.__getitem__, agents[:200], s / 2), "dict lookup")))
    except Exception as exc:
        print(f"(pure-Python matcher not measured: {exc})")
    useragent.cache_clear()
    repeating = agents[:500]
    for ua in repeating:
        useragent.parse_user_agent(ua)
    rows.append(("UA: parse cached (500 repeating UAs)",
                 *_pair_row(paired(useragent.parse_user_agent, table.__getitem__, repeating, s), "dict lookup")))

    # --- GeoIP
    ips = public_ips(20000)
    lookup = geoip.GeoIP(use_installed_city_db=False, cache_size=0)
    lookup.load()
    rows.append(("GeoIP: lookup cold, bundled country data",
                 *_pair_row(paired(lookup.lookup, ipaddress.ip_address, ips, s), "ipaddress.ip_address")))
    fast = lookup._geoip2fast()
    rows.append(("GeoIP: lookup cold, bundled country data",
                 *_pair_row(paired(lookup.lookup, fast.lookup, ips, s), "geoip2fast.lookup alone")))
    cached = geoip.GeoIP(use_installed_city_db=False)
    cached.load()
    for ip in ips[:500]:
        cached.lookup(ip)
    ip_table = {ip: 1 for ip in ips}
    rows.append(("GeoIP: lookup cached (500 repeating IPs)",
                 *_pair_row(paired(cached.lookup, ip_table.__getitem__, ips[:500], s), "dict lookup")))
    private = ["10.0.0.1", "192.168.1.10", "127.0.0.1", "::1"] * 50
    rows.append(("GeoIP: lookup cold, local addresses",
                 *_pair_row(paired(lookup.lookup, ipaddress.ip_address, private, s), "ipaddress.ip_address")))
    rows.append(("store_ip truncated",
                 *_pair_row(paired(lambda ip: geoip.store_ip(ip, "truncated"), ipaddress.ip_address, ips, s),
                            "ipaddress.ip_address")))

    print(f"\nVisitor context — Python {platform.python_version()}, {platform.machine()}, "
          f"one core, ~{s:g} s per operation + as long for its baseline, interleaved\n")
    print("| operation | ops/s | µs/op | baseline | baseline ops/s | cost vs baseline |")
    print("|---|---:|---:|---|---:|---:|")
    for name, ops, base_name, base_ops in rows:
        print(f"| {name} | {ops:,.0f} | {1e6 / ops:.1f} | {base_name} | {base_ops:,.0f} | "
              f"{base_ops / ops:.1f}× |")

    print("\n| bundled GeoIP data | resident memory | load time |")
    print("|---|---:|---:|")
    memory = {}
    for kind in ("country", "asn"):
        out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(REPO / "src"), kind],
                             capture_output=True, text=True, timeout=120, check=True)
        memory[kind] = json.loads(out.stdout.strip().splitlines()[-1])
        label = {"country": "country, IPv4+IPv6 (default)", "asn": "country + ASN, IPv4+IPv6"}[kind]
        print(f"| {label} | {memory[kind]['rss_mb']:.0f} MB | {memory[kind]['load_s']:.2f} s |")
    print()


if __name__ == "__main__":
    main()
