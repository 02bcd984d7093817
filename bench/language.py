"""Language engines: spell check of a 500-character Russian message and a quick-phrase query
over 1,000 phrases, p50/p99 over N runs each, next to a raw baseline measured in the same run;
plus the spell checker's load time and the memory (RSS) it adds.

    PYTHONPATH=src python3 bench/language.py [--runs 600]

Targets (issue 9): each p99 under 5 ms. Prints a Markdown table; takes ~20-40 s.
Wall-clock times include the time the process waits for a CPU on a busy machine; the CPU-time
columns (thread CPU time) do not, and are the steadier figure on a shared machine.
"""
from __future__ import annotations

import argparse
import gc
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

# A 500-character operator message with two typos (one Russian, one mixed-alphabet).
MESSAGE = (
    "Здравствуйте, Анна! Спасибо, что обратились в наш магазин. Ваш заказ №12345 оформлен и "
    "оплачен, доставка курьером запланирована на завтра с 10 до 18 часов. Кронштейн для "
    "телевизора уже на складе, его упакуют и передадут в службу доставки сегодня вечером. Если "
    "вам удобнее самовывоз, заберите заkаз в пункте выдачи на Ленина, 5. Подскажите, "
    "пожалуста, удобно ли вам получить посылку в это время? Трек-номер пришлём в смс и на "
    "почту, а чек — на электронную почту. Если появятся вопросы, пишите. Хорошего дня!"
)

QUERIES = ["/дост", "доставка", "доставке курьером", "гарантии", "возврат денег", "/p512", "доствка", "пицца"]


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def measure(fn, runs: int, before=None) -> tuple[list[float], list[float]]:
    """Wall and thread-CPU times in ms of ``runs`` calls (after 20 warm-up calls)."""
    for _ in range(20):
        if before:
            before()
        fn()
    wall, cpu = [], []
    gc.disable()
    try:
        for _ in range(runs):
            if before:
                before()
            c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
            fn()
            w1, c1 = time.perf_counter_ns(), time.thread_time_ns()
            wall.append((w1 - w0) / 1e6)
            cpu.append((c1 - c0) / 1e6)
    finally:
        gc.enable()
    return wall, cpu


def make_phrases(n: int):
    from frontdesk.language.phrases import Phrase, phrases_from_csv

    base = phrases_from_csv((REPO / "tests/language/data/phrases.csv").read_bytes())
    words = []
    for line in (REPO / "tests/language/data/ru_correct.txt").read_text("utf-8").splitlines():
        if not line.startswith("#"):
            words.extend(line.split())
    rnd = random.Random(42)
    out = list(base)
    for i in range(n - len(base)):
        title = " ".join(rnd.choices(words, k=rnd.randint(1, 3))).capitalize()
        text = " ".join(rnd.choices(words, k=rnd.randint(8, 40))).capitalize() + "."
        out.append(Phrase(id=1000 + i, key=f"/p{i}", title=title, text=text, group=f"Группа {i % 25}"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=600)
    args = ap.parse_args()
    runs = max(500, args.runs)
    proc = psutil.Process()
    load_before = os.getloadavg()

    # --- loading -------------------------------------------------------------------------
    from frontdesk.language import spelling  # imports numpy + rapidfuzz only

    gc.collect()
    rss0 = proc.memory_info().rss
    t0, c0 = time.perf_counter(), time.process_time()
    checker = spelling.SpellChecker().load()
    load_s, load_cpu = time.perf_counter() - t0, time.process_time() - c0
    gc.collect()
    rss1 = proc.memory_info().rss
    res = spelling._get_resources()

    # --- spell check ---------------------------------------------------------------------
    assert 495 <= len(MESSAGE) <= 520, len(MESSAGE)
    issues = checker.check(MESSAGE)
    words_set = {res.ru.word(i) for i in range(res.ru.size)}
    words = re.findall(r"\w+", MESSAGE.lower())

    def baseline_spell():
        return [w for w in words if w not in words_set]

    rows = []
    w, c = measure(baseline_spell, runs)
    rows.append(("spell, baseline: set lookup of the message's words", w, c))
    w, c = measure(lambda: checker.check(MESSAGE), runs)
    rows.append(("spell check, 500-char message (known-word cache warm)", w, c))
    w, c = measure(lambda: checker.check(MESSAGE), runs, before=res.ru_known.cache_clear)
    rows.append(("spell check, 500-char message (cache cleared each run)", w, c))

    # --- phrases -------------------------------------------------------------------------
    from frontdesk.language.phrases import PhraseIndex

    phrases = make_phrases(1000)
    t0, c0 = time.perf_counter(), time.process_time()
    index = PhraseIndex(phrases)
    build_ms, build_cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
    usage = {p.id: random.Random(p.id).randint(0, 30) for p in phrases[:200]}
    lowered = [(p, (p.key + " " + p.title + " " + p.text).lower()) for p in phrases]
    qi = iter(range(10**9))

    def baseline_phrases():
        q = QUERIES[next(qi) % len(QUERIES)].lower()
        return [p for p, hay in lowered if q in hay][:8]

    def search():
        return index.search(QUERIES[next(qi) % len(QUERIES)], usage=usage, limit=8)

    w, c = measure(baseline_phrases, runs)
    rows.append(("phrases, baseline: substring scan of 1,000 phrases", w, c))
    w, c = measure(search, runs)
    rows.append(("phrase search over 1,000 phrases (8 query kinds)", w, c))
    per_query = []
    for q in QUERIES:
        w, c = measure(lambda q=q: index.search(q, usage=usage, limit=8), 100)
        per_query.append((q, len(index.search(q, usage=usage)), statistics.median(w), pct(w, 99), statistics.median(c)))

    load_after = os.getloadavg()
    print(f"\nPython {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{load_before[0]:.1f} before / {load_after[0]:.1f} after; {runs} runs each\n")
    print(f"message: {len(MESSAGE)} characters, {len(words)} words; flagged: "
          + ", ".join(f"{i.word}→{i.suggestions[:1]}" for i in issues))
    print(f"spell checker load: {load_s:.2f} s wall, {load_cpu:.2f} s CPU, RSS +{(rss1 - rss0) / 2**20:.0f} MiB "
          f"(process RSS {rss1 / 2**20:.0f} MiB); vocabulary ru {res.ru.size:,} / en {res.en.size:,} words")
    print(f"phrase index build (1,000 phrases): {build_ms:.0f} ms wall, {build_cpu:.0f} ms CPU\n")
    print("| measure | wall p50 | wall p99 | CPU p50 | CPU p99 | target p99 |")
    print("|---|---:|---:|---:|---:|---|")
    for name, w, c in rows:
        target = "—" if "baseline" in name else ("< 5 ms: " + ("yes" if pct(w, 99) < 5 else "no (wall)") + ("" if pct(c, 99) < 5 else ", no (CPU)"))
        print(f"| {name} | {statistics.median(w):.3f} ms | {pct(w, 99):.3f} ms | "
              f"{statistics.median(c):.3f} ms | {pct(c, 99):.3f} ms | {target} |")
    print("\n| query | matches | wall p50 | wall p99 | CPU p50 |")
    print("|---|---:|---:|---:|---:|")
    for q, n, p50, p99, c50 in per_query:
        print(f"| `{q}` | {n} | {p50:.3f} ms | {p99:.3f} ms | {c50:.3f} ms |")


if __name__ == "__main__":
    main()
