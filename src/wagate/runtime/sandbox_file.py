"""Where a running sandbox tells other processes how to reach it: `sandbox.json` in the data
dir (its port, the fake's URL and credentials, the first admin's sign-in). A module of its
own so that `wagate chat` and the operator commands can read it without loading the sandbox
(uvicorn, the fakes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

if TYPE_CHECKING:
    from wagate.settings import Settings

SANDBOX_FILE = "sandbox.json"
# What `sandbox_meta_settings` needs from the file: the fake Meta number the gateway runs with.
_META_KEYS = ("app_secret", "access_token", "verify_token", "phone_number_id", "graph_url")


def read_sandbox_file(data_dir: Path) -> dict[str, Any] | None:
    """The details, or None when there is no sandbox file (or it is being rewritten)."""
    try:
        details = json.loads((data_dir / SANDBOX_FILE).read_text())
    except (OSError, ValueError):
        return None
    return details if isinstance(details, dict) else None


def sandbox_meta_settings(details: dict[str, Any]) -> dict[str, Any] | None:
    """The Meta settings of the sandbox's fake number, as a settings update; None when the
    details lack them (a file written by an older version: its gateway wrote no token)."""
    if not all(isinstance(details.get(key), str) and details[key] for key in _META_KEYS):
        return None
    update: dict[str, Any] = {
        "sandbox_active": True,
        "meta_app_secret": SecretStr(details["app_secret"]),
        "meta_access_token": SecretStr(details["access_token"]),
        "meta_phone_number_id": details["phone_number_id"],
        "meta_webhook_verify_token": SecretStr(details["verify_token"]),
        "meta_graph_url": details["graph_url"],
    }
    if isinstance(details.get("intake_flow_id"), str) and details["intake_flow_id"]:
        update["intake_flow_id"] = details["intake_flow_id"]
    return update


def join_sandbox(settings: Settings) -> Settings:
    """The settings an operator command runs with beside a sandbox gateway (`wagate send`,
    `smoke-test`, `intakes send` …): with no provider configured, the sandbox's fake Meta
    number, as `wagate serve` runs with it, so what the command queues is delivered by the
    sandbox's worker instead of being refused for want of a provider. Without a sandbox file,
    or with a provider configured, the settings are returned as they are."""
    if not settings.needs_sandbox or settings.sandbox_active:
        return settings
    details = read_sandbox_file(settings.wagate_data_dir)
    update = sandbox_meta_settings(details) if details is not None else None
    return settings if update is None else settings.model_copy(update=update)
