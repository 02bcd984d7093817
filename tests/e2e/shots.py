"""Screenshots for the docs: taken only when FRONTDESK_SCREENSHOTS names a folder
(``FRONTDESK_SCREENSHOTS=docs/img bash scripts/test tests/e2e``), so that a test run does not
rewrite the committed images."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def shot(target: Any, name: str, *, full: bool = False) -> None:
    """``target.screenshot`` (a page or a locator) into the folder, when one is named."""
    folder = os.environ.get("FRONTDESK_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"path": str(Path(folder) / name), "animations": "disabled"}
    if full:
        options["full_page"] = True
    target.screenshot(**options)
