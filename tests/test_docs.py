"""Docs move with code: every setting, endpoint and test id is documented."""
import re
from pathlib import Path

from frontdesk.app import build_app
from frontdesk.settings import settings_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_settings_table_matches_the_code():
    doc = (ROOT / "docs" / "settings.md").read_text()
    table = doc.split("<!-- settings-table:start -->")[1].split("<!-- settings-table:end -->")[0]
    assert table.strip() == settings_markdown().strip(), "regenerate with: python -m frontdesk.settings"


def test_every_api_path_is_in_the_protocol_doc():
    doc = (ROOT / "docs" / "protocol.md").read_text()
    paths = build_app().openapi()["paths"]
    assert len(paths) > 20  # the check below must see the real API, not an empty list
    missing = []
    for path in paths:
        if not path.startswith("/api/v1/"):
            continue
        short = path.removeprefix("/api/v1")
        pattern = re.sub(r"\\{[^}]+\\}", r"\\{[^}]+\\}", re.escape(short))
        if not re.search(pattern, doc):
            missing.append(path)
    assert not missing, f"document these in docs/protocol.md: {missing}"


def test_readme_opens_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", readme, re.S)
    assert "frontdesk serve --demo" in blocks[0]
    assert "scripts/test" in blocks[1]
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_changelog_exists():
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()


def _frame_types(section: str, heading: str) -> set[str]:
    part = section.split(heading, 1)[1]
    part = part.split("\n### ", 1)[0].split("\n## ", 1)[0]
    # a frame starts a line (or follows another frame on the same line); nested "type"s are not frames
    return set(re.findall(r'(?:^|\} )\{"type":\s*"([a-z_.]+)"', part, re.M))


def _section(doc: str, title: str) -> str:
    return doc.split(f"\n## {title}", 1)[1].split("\n## ", 1)[0]


def test_every_frame_in_the_protocol_doc_is_in_the_schemas_and_the_reverse():
    from frontdesk.realtime import frames

    doc = (ROOT / "docs" / "protocol.md").read_text()
    visitor, operator = _section(doc, "Visitor socket"), _section(doc, "Operator socket")
    checks = [
        (_frame_types(visitor, "### Client → server"), set(frames.VISITOR_CLIENT_FRAMES), "visitor client"),
        (_frame_types(visitor, "### Server → client"), set(frames.VISITOR_SERVER_FRAMES), "visitor server"),
        (_frame_types(operator, "### Client → server"), set(frames.OPERATOR_CLIENT_FRAMES), "operator client"),
        (_frame_types(operator, "### Server → client"), set(frames.OPERATOR_SERVER_FRAMES), "operator server"),
    ]
    for documented, defined, what in checks:
        assert len(defined) > 5, what
        assert documented == defined, f"{what}: only in the doc {documented - defined}, only in code {defined - documented}"


def test_every_event_is_documented_and_the_reverse():
    from frontdesk import events

    doc = (ROOT / "docs" / "protocol.md").read_text()
    table = _section(doc, "Events between nodes")
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", table, re.M))
    assert documented == set(events.ALL), (documented ^ set(events.ALL))


def test_every_error_code_the_code_raises_is_documented():
    src = ROOT / "src" / "frontdesk"
    raised = set()
    for path in list((src / "actions").glob("*.py")) + list((src / "realtime").glob("*.py")) + \
            list((src / "web").glob("*.py")):
        raised |= set(re.findall(r'(?:ActionError|FrameError|error_frame)\(\s*"([a-z_]+)"', path.read_text()))
    doc = (ROOT / "docs" / "protocol.md").read_text()
    missing = {code for code in raised if f"`{code}`" not in doc}
    assert len(raised) > 10
    assert not missing, f"document these error codes in docs/protocol.md: {sorted(missing)}"
