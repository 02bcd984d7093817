"""Fixtures for the language engines, and the quality figures printed after the run."""
from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

# test name -> line; printed in the terminal summary (and with -s as the tests run)
FIGURES: dict[str, str] = {}


def report(name: str, line: str) -> None:
    FIGURES[name] = line
    print(f"\n[language] {line}")


def pytest_terminal_summary(terminalreporter) -> None:
    if FIGURES:
        terminalreporter.section("language quality")
        for line in FIGURES.values():
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def checker():
    from frontdesk.language.spelling import SpellChecker

    return SpellChecker().load()


def read_words(name: str) -> list[str]:
    words: list[str] = []
    for line in (DATA / name).read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            words.extend(line.split())
    return words


def read_typos(name: str = "typos.tsv") -> list[tuple[str, list[str]]]:
    rows = []
    for line in (DATA / name).read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            typo, correct = line.split("\t")
            rows.append((typo, correct.split("|")))
    return rows
