"""Security tests (issue 16). Each test may add a one-line count to the terminal summary with
the ``security_counts`` fixture, e.g. "header corpus: 47 text payloads × 6 fields … 0 injections":
it is printed at the end of every run, with or without ``-s``."""
from __future__ import annotations

import pytest

_COUNTS: list[str] = []


@pytest.fixture
def security_counts():
    """``security_counts(line)``: print the line now (visible with ``-s``) and in the summary."""

    def add(line: str) -> None:
        print(line)
        _COUNTS.append(line)

    return add


def pytest_terminal_summary(terminalreporter) -> None:
    if _COUNTS:
        terminalreporter.section("security counts")
        for line in _COUNTS:
            terminalreporter.write_line(line)
