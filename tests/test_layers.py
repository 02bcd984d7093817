"""The import contracts of pyproject.toml hold, and they can fail: the same check on a copy of
the package with a layer violation added on purpose must report it."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    exe = shutil.which("lint-imports") or "lint-imports"
    return subprocess.run([exe, "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120)


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_import_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_web_handler_touching_the_database_breaks_the_contract(tmp_path):
    root = _copy(tmp_path)
    page = root / "src" / "frontdesk" / "web" / "pages.py"
    page.write_text(page.read_text() + "\nfrom frontdesk.models import Site  # noqa: E402,F401\n")
    result = _lint_imports(root)
    assert result.returncode != 0
    assert "frontdesk.web.pages -> frontdesk.models" in result.stdout


def test_an_action_importing_upwards_breaks_the_contract(tmp_path):
    root = _copy(tmp_path)
    writer = root / "src" / "frontdesk" / "actions" / "writer.py"
    # the writer is below conversations: importing it back (even inside a function) is a cycle
    writer.write_text(writer.read_text() + "\n\ndef _dodge() -> None:\n    from frontdesk.actions import conversations  # noqa: F401\n")
    result = _lint_imports(root)
    assert result.returncode != 0
    assert "frontdesk.actions.writer -> frontdesk.actions.conversations" in result.stdout
