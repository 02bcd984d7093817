#!/usr/bin/env python
"""Widget weight and speed: what the embed costs a customer's page.

    python bench/widget_size.py [--runs 15]

1. Sizes of the widget files as shipped (raw, gzip -9, gzip -6) against the targets
   (loader ≤ 5 KB gzipped, chat ≤ 30 KB gzipped; the CSS lives inside chat.js), and
   what the server really sends for them when the browser accepts gzip.
2. In Chromium, on the demo shop page (`frontdesk serve --demo` on a fresh data dir),
   median of N runs, each in a fresh browser profile:
   - load event of the page with the widget vs the same page whose /widget.js is an
     empty script (the baseline: same HTML, same requests, no widget code);
   - launcher visible (first frame in which it has a size), first visit (settings
     fetched from the server) and next page (settings from the cache);
   - click on the launcher → chat window visible (chat.js loaded on demand, socket
     not awaited).
A benchmark: it prints a table (and writes bench/results/widget-*.json), asserts nothing.
"""
from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from tests.support import ServerProcess  # noqa: E402

from frontdesk.web.pages import widget_chat_source, widget_loader_source  # noqa: E402

WIDGET = REPO / "src" / "frontdesk" / "static" / "widget"
TARGETS = {"loader.js": 5 * 1024, "chat.js": 30 * 1024}
# loaded after the page's load event (never delaying it): page views, then the invitation rules
AFTER_LOAD = ("track.js", "invite.js")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Records the first animation frame in which the launcher has a size.
WATCH_LAUNCHER = """
(() => {
  const tick = () => {
    const host = document.getElementById('frontdesk-widget');
    const l = host && host.shadowRoot && host.shadowRoot.querySelector('[data-testid=widget-launcher]');
    if (l && l.getBoundingClientRect().width > 0) { window.__launcherAt = performance.now(); return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""


def sizes(server_url: str) -> list[dict]:
    rows = []
    for name, url in (("loader.js", "/widget.js"), ("chat.js", "/static/widget/chat.js")):
        # chat.js is served as the parts of CHAT_PARTS joined: measure what is served
        # the loader is served without its comment lines (web/pages.py strip_comments): measure that
        raw = widget_chat_source() if name == "chat.js" else widget_loader_source()
        r = httpx.get(server_url + url, headers={"Accept-Encoding": "gzip"})
        wire = int(r.headers.get("content-length", len(r.content)))
        rows.append({"file": name, "raw": len(raw), "gzip9": len(gzip.compress(raw, 9)),
                     "gzip6": len(gzip.compress(raw, 6)), "target_gzip": TARGETS[name],
                     "served_encoding": r.headers.get("content-encoding", "identity"), "served_bytes": wire})
    for name in AFTER_LOAD:
        raw = (WIDGET / name).read_bytes()
        r = httpx.get(f"{server_url}/static/widget/{name}", headers={"Accept-Encoding": "gzip"})
        wire = r.num_bytes_downloaded  # as it came over the wire
        rows.append({"file": name, "raw": len(raw), "gzip9": len(gzip.compress(raw, 9)),
                     "gzip6": len(gzip.compress(raw, 6)), "target_gzip": None,
                     "served_encoding": r.headers.get("content-encoding", "identity"), "served_bytes": wire})
    return rows


def timings(browser, url: str, runs: int) -> dict:
    out: dict[str, list[float]] = {"load_baseline": [], "load_widget": [], "launcher_first": [],
                                   "launcher_next": [], "window_open": []}
    for i in range(runs * 2):
        with_widget = i % 2 == 0  # interleaved, so machine noise hits both alike
        ctx = browser.new_context(locale="ru-RU")
        if not with_widget:
            ctx.route("**/widget.js", lambda route: route.fulfill(body="", content_type="text/javascript"))
        ctx.add_init_script(WATCH_LAUNCHER)
        page = ctx.new_page()
        page.goto(url, wait_until="load")
        load = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        if not with_widget:
            out["load_baseline"].append(load)
            ctx.close()
            continue
        out["load_widget"].append(load)
        page.wait_for_function("window.__launcherAt !== undefined")
        out["launcher_first"].append(page.evaluate("window.__launcherAt"))
        t0 = time.perf_counter()
        page.get_by_test_id("widget-launcher").click()
        page.get_by_test_id("widget-window").wait_for(state="visible")
        out["window_open"].append((time.perf_counter() - t0) * 1000)
        page.goto(url.replace("/demo/", "/demo/catalog.html"), wait_until="load")  # next page: cached settings
        page.wait_for_function("window.__launcherAt !== undefined")
        out["launcher_next"].append(page.evaluate("window.__launcherAt"))
        ctx.close()
    return {k: statistics.median(v) for k, v in out.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    server = ServerProcess(Path(tempfile.mkdtemp(prefix="fd-widget-bench-")) / "data").start()
    try:
        size_rows = sizes(server.url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
            t = timings(browser, server.url + "/demo/", args.runs)
            browser.close()
    finally:
        server.stop()

    print("| file | raw | gzip -9 | gzip -6 | target (gzip) | within | served as |")
    print("|---|---:|---:|---:|---:|---|---|")
    for r in size_rows:
        if r["target_gzip"] is None:  # after the load event: no budget, stated
            print(f"| {r['file']} (after load) | {r['raw']:,} B | {r['gzip9']:,} B | {r['gzip6']:,} B | — | — "
                  f"| {r['served_encoding']}, {r['served_bytes']:,} B |")
            continue
        share = max(r["gzip9"], r["gzip6"]) / r["target_gzip"]
        print(f"| {r['file']} | {r['raw']:,} B | {r['gzip9']:,} B | {r['gzip6']:,} B "
              f"| {r['target_gzip'] // 1024} KB | {'yes' if share <= 1 else 'NO'} ({share:.0%}) "
              f"| {r['served_encoding']}, {r['served_bytes']:,} B |")
    print()
    print(f"Chromium, demo shop page, median of {args.runs} runs, fresh profile each:")
    print()
    print("| measure | median |")
    print("|---|---:|")
    print(f"| load event, page without the widget (empty /widget.js) | {t['load_baseline']:.0f} ms |")
    print(f"| load event, page with the widget | {t['load_widget']:.0f} ms |")
    print(f"| difference (widget's cost to the page load) | {t['load_widget'] - t['load_baseline']:+.0f} ms |")
    print(f"| launcher visible, first visit (settings from the server) | {t['launcher_first']:.0f} ms |")
    print(f"| launcher visible, next page (settings cached) | {t['launcher_next']:.0f} ms |")
    print(f"| launcher click → chat window visible (chat.js on demand) | {t['window_open']:.0f} ms |")

    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"widget-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps({"sizes": size_rows, "timings_ms": t, "runs": args.runs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
