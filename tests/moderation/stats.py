"""Shared between the profanity tests and conftest's terminal summary."""
from __future__ import annotations

RESULTS: dict[str, dict[str, float]] = {}
NOTES: dict[str, str] = {}


def score(name: str, caught_bad: int, missed_bad: int, flagged_clean: int, passed_clean: int) -> dict:
    tp, fn, fp, tn = caught_bad, missed_bad, flagged_clean, passed_clean
    r = {
        "tp": tp, "fn": fn, "fp": fp, "tn": tn,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
    }
    RESULTS[name] = r
    return r
