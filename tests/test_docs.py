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
