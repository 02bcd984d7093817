"""Prints the profanity filter's precision and recall at the end of the run."""
from __future__ import annotations

from tests.moderation import stats


def pytest_terminal_summary(terminalreporter) -> None:
    if not stats.RESULTS:
        return
    tr = terminalreporter
    tr.section("profanity filter: precision / recall on tests/moderation/data")
    tr.write_line(f"{'filter':<34} {'TP':>5} {'FN':>5} {'FP':>5} {'TN':>5} {'precision':>10} {'recall':>8}")
    for name, r in stats.RESULTS.items():
        tr.write_line(
            f"{name:<34} {r['tp']:>5} {r['fn']:>5} {r['fp']:>5} {r['tn']:>5}"
            f" {r['precision']:>10.3f} {r['recall']:>8.3f}"
        )
    for name, lines in stats.NOTES.items():
        tr.write_line(f"{name}: {lines}")
