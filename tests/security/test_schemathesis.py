"""schemathesis against the OpenAPI document of a running `frontdesk serve`: no 5xx, every
status and body as documented, every schema-violating request refused with a 4xx, ``Allow`` on
every 405. Bounded for CI: at most 5 generated examples per operation and phase (the coverage
phase's boundary and schema-violation cases are derived from the schema), deterministic
generation, no shrinking.

Without the fixes of issue 16 this fails: undocumented 400/401/403/404/429 answers, the error
shape not documented (the 422 documented as FastAPI's validation error), the raw-JSON routes
(offline form, contacts, working hours, photo) without a documented body, and a 405 on
``/api/v1/sites`` naming only ``GET`` while ``POST`` is served too."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import schemathesis  # noqa: F401 - a test extra (pyproject.toml): the run needs it

from tests.support import admin

CONFIG = Path(__file__).with_name("schemathesis.toml")


def test_the_api_keeps_to_its_openapi_document(sqlite_server, security_counts, tmp_path):
    server = sqlite_server
    boss = admin(server)
    cookie, csrf = boss.cookie_header, boss.csrf
    cmd = [sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()",
           "--config-file", str(CONFIG), "--no-color", "run", f"{server.url}/api/openapi.json",
           "-H", f"Cookie: {cookie}", "-H", f"X-CSRF-Token: {csrf}", "-H", f"Origin: {server.url}",
           # logging out would end the session the run uses
           "--exclude-path", "/api/v1/auth/logout",
           "--phases", "examples,coverage,fuzzing", "--checks", "all",
           # the schema states shapes, not rules it cannot express (a strong password, a free
           # e-mail, an existing id): a schema-valid value may still be refused with a 422
           "--exclude-checks", "positive_data_acceptance",
           "--max-examples", "5", "--generation-deterministic", "--no-shrink", "-w", "1",
           "--request-timeout", "20"]
    # in a directory of its own: schemathesis keeps its files (.schemathesis/) where it runs
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    out = run.stdout + run.stderr
    boss.close()
    tested = re.search(r"Tested: (\d+)", out)
    cases = re.search(r"(\d+) generated, (.*)", out)
    assert run.returncode == 0, out[-6000:]
    assert "Failures:" not in out and "Errors:" not in out, out[-6000:]
    assert tested and int(tested.group(1)) >= 30, out[-3000:]
    assert "Traceback" not in server.log()
    security_counts(f"schemathesis: {tested.group(1)} operations, {cases.group(1) if cases else '?'} cases "
                    f"({cases.group(2).strip() if cases else ''}); 0 server errors, 0 schema violations")
