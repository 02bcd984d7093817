"""docs/visitor-context.md stays in step with the code it describes."""

from __future__ import annotations

import re
from pathlib import Path

from frontdesk.context import geoip, sources, useragent

DOC = Path(__file__).resolve().parents[2] / "docs" / "visitor-context.md"


def test_every_rule_row_is_documented():
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \| (?:ads|search|social) \|", text, re.M))
    in_code = {rule.id for rule in sources.RULES}
    assert documented == in_code, (
        f"missing from the doc: {sorted(in_code - documented)}; "
        f"in the doc but not in RULES: {sorted(documented - in_code)}")


def test_documented_labels_are_the_real_ones():
    text = DOC.read_text(encoding="utf-8")
    for kind in sources.KINDS:
        assert f"| `{kind}` |" in text, kind
    for word in ("прямой заход", "внутренний переход", "переход с", "реклама · Яндекс"):
        assert word in text
    for mode in geoip.IP_STORE_MODES:
        assert f"| `{mode}` |" in text
    assert "компьютер" in useragent.parse_user_agent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36").label("ru")
    assert "Chrome 120 · Windows 10 · компьютер" in text
