"""Where a running sandbox tells other processes how to reach it: `sandbox.json` in the data
dir (its port, the fake's URL, the fake app secret, the first admin's sign-in). A module of its
own so that `wagate chat` can read it without loading the sandbox (uvicorn, the fakes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SANDBOX_FILE = "sandbox.json"


def read_sandbox_file(data_dir: Path) -> dict[str, Any] | None:
    """The details, or None when there is no sandbox file (or it is being rewritten)."""
    try:
        details = json.loads((data_dir / SANDBOX_FILE).read_text())
    except (OSError, ValueError):
        return None
    return details if isinstance(details, dict) else None
