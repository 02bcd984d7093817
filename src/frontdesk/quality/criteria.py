"""The coach's criteria engine (issue 13): a conversation's messages in, a score and every criterion
with the messages that triggered it out. Nothing here touches the database or the clock.

Criteria (ids are stable; weights and limits come from the site's settings):

* ``greeting`` — the operator's first message greets the visitor (a phrase of ``greeting``);
* ``first_reply`` — the first operator message came within ``first_reply_seconds`` (60) of the
  visitor's first message;
* ``questions_answered`` — every visitor question (ends with "?" or starts with a word of
  ``question_starts``) has an operator message after it; each question without one is a miss;
* ``no_long_silence`` — the visitor never waited longer than ``silence_minutes`` (5) for the next
  operator message (until the close, when nobody answered any more);
* ``polite_closing`` — the operator's last message is a polite closing (a phrase of ``closing``);
* ``spelling`` — no spelling mistakes in operator messages; only when a checker is given.

The score is the weighted share of passed criteria, 0–100; a criterion that cannot apply (no
question asked; no checker) is left out of it.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

CRITERIA = ("greeting", "first_reply", "questions_answered", "no_long_silence", "polite_closing", "spelling")
DEFAULT_SETTINGS: dict = {
    "first_reply_seconds": 60,
    "silence_minutes": 5,
    "weights": {"greeting": 1, "first_reply": 2, "questions_answered": 3, "no_long_silence": 2,
                "polite_closing": 1, "spelling": 1},
}
RULES_FILE = Path(__file__).with_name("data") / "rules.toml"
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Msg:
    """One message: ``kind`` visitor | operator (notes and system messages are ignored)."""

    id: int
    kind: str
    text: str
    at: datetime


@dataclass(frozen=True)
class CriterionResult:
    id: str
    passed: bool | None          # None: does not apply to this conversation
    weight: float
    messages: tuple[int, ...] = ()   # ids of the messages that triggered it (misses, or the proof)
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class QualityReport:
    score: int | None            # 0–100, None when no criterion applies
    criteria: tuple[CriterionResult, ...]

    def by_id(self) -> dict[str, CriterionResult]:
        return {c.id: c for c in self.criteria}


@dataclass(frozen=True)
class Rules:
    """Phrases per language: {"ru": {"greeting": [...], ...}, "en": {...}}, normalised."""

    langs: Mapping[str, Mapping[str, tuple[str, ...]]]

    def phrases(self, kind: str) -> tuple[str, ...]:
        return tuple(p for lang in self.langs.values() for p in lang.get(kind, ()))


def normalise(text: str) -> str:
    """Lower case, "ё" as "е", words joined by single spaces (punctuation dropped)."""
    return " ".join(_WORD.findall(text.lower().replace("ё", "е")))


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_FILE) -> Rules:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return Rules({lang: {k: tuple(normalise(p) for p in v) for k, v in kinds.items()} for lang, kinds in data.items()})


def has_phrase(text: str, phrases: Iterable[str]) -> bool:
    padded = f" {normalise(text)} "
    return any(f" {p} " in padded for p in phrases if p)


def is_question(text: str, rules: Rules) -> bool:
    if text.rstrip().endswith("?"):
        return True
    words = normalise(text)
    return any(words == p or words.startswith(p + " ") for p in rules.phrases("question_starts"))


def score_conversation(messages: Iterable[Msg], *, closed_at: datetime | None = None, settings: Mapping | None = None,
                       rules: Rules | None = None,
                       misspelled: Callable[[str], list[str]] | None = None) -> QualityReport:
    """Score one conversation. ``misspelled(text)`` → the wrong words (the spell checker), or None."""
    rules = rules or load_rules()
    cfg = {**DEFAULT_SETTINGS, **(settings or {})}
    weights = {**DEFAULT_SETTINGS["weights"], **cfg.get("weights", {})}
    msgs = sorted((m for m in messages if m.kind in ("visitor", "operator")), key=lambda m: (m.at, m.id))
    ops = [m for m in msgs if m.kind == "operator"]
    visitors = [m for m in msgs if m.kind == "visitor"]
    out: list[CriterionResult] = []

    def add(cid: str, passed: bool | None, triggered: Iterable[int] = (), **detail: object) -> None:
        out.append(CriterionResult(cid, passed, float(weights.get(cid, 0)), tuple(triggered), dict(detail)))

    # greeting
    if ops:
        greeted = has_phrase(ops[0].text, rules.phrases("greeting"))
        add("greeting", greeted, [ops[0].id])
    else:
        add("greeting", False)

    # first reply
    if visitors and ops:
        first_visitor = visitors[0]
        first_op = next((m for m in ops if m.at >= first_visitor.at), None)
        if first_op is None:
            add("first_reply", False, [first_visitor.id])
        else:
            wait = (first_op.at - first_visitor.at).total_seconds()
            add("first_reply", wait <= cfg["first_reply_seconds"], [first_visitor.id, first_op.id], seconds=wait)
    else:
        add("first_reply", False if visitors else None, [m.id for m in visitors[:1]])

    # every question answered: a question with no operator message after it is a miss
    questions = [m for m in visitors if is_question(m.text, rules)]
    last_op_at = ops[-1].at if ops else None
    misses = [q.id for q in questions if last_op_at is None or last_op_at <= q.at]
    add("questions_answered", None if not questions else not misses, misses, questions=len(questions))

    # no long silence while the visitor waited
    limit = cfg["silence_minutes"] * 60
    long_waits: list[int] = []
    longest = 0.0
    waiting_since: Msg | None = None
    for m in msgs:
        if m.kind == "visitor":
            waiting_since = waiting_since or m
        elif waiting_since is not None:
            gap = (m.at - waiting_since.at).total_seconds()
            longest = max(longest, gap)
            if gap > limit:
                long_waits.append(waiting_since.id)
            waiting_since = None
    if waiting_since is not None and closed_at is not None:
        gap = (closed_at - waiting_since.at).total_seconds()
        longest = max(longest, gap)
        if gap > limit:
            long_waits.append(waiting_since.id)
    add("no_long_silence", None if not visitors else not long_waits, long_waits, longest_seconds=longest)

    # polite closing
    if ops:
        add("polite_closing", has_phrase(ops[-1].text, rules.phrases("closing")), [ops[-1].id])
    else:
        add("polite_closing", False)

    # spelling (through the spell checker, when there is one)
    if misspelled is None or not ops:
        add("spelling", None)
    else:
        wrong = {m.id: misspelled(m.text) for m in ops}
        bad = [mid for mid, words in wrong.items() if words]
        add("spelling", not bad, bad, words=sorted({w for ws in wrong.values() for w in ws}))

    applied = [c for c in out if c.passed is not None and c.weight > 0]
    total = sum(c.weight for c in applied)
    score = round(100 * sum(c.weight for c in applied if c.passed) / total) if total else None
    return QualityReport(score, tuple(out))
