"""The start banner (issue 17, item 1): one block saying where the gateway listens, sandbox or
live and over which channels, where the data and the API token are, the console and how to
sign in, and the next step; and the sandbox's short debounce (item 2)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from wagate.runtime.banner import StartFacts, banner, log_fields
from wagate.runtime.sandbox import SANDBOX_DEBOUNCE_SECONDS, Sandbox
from wagate.settings import load_settings

SANDBOX = StartFacts(
    url="http://127.0.0.1:8080",
    sandbox=True,
    channels=("meta",),
    webhooks=("http://127.0.0.1:8080/webhook/whatsapp",),
    worker=True,
    ai_model=None,
    data_dir=Path("/srv/kantor/.wagate"),
    embedded_database=True,
    api_token_from="/srv/kantor/.wagate/api-token",
    console_url="http://127.0.0.1:8080/console",
    sign_in=("admin", "Rahasia-Pertama_1"),
    debounce_seconds=1.0,
    version="9.9.9",
)
LIVE = replace(
    SANDBOX,
    sandbox=False,
    channels=("meta", "fonnte"),
    webhooks=(
        "http://127.0.0.1:8080/webhook/whatsapp",
        "http://127.0.0.1:8080/webhook/fonnte/{secret}",
    ),
    ai_model="gpt-4o-mini",
    embedded_database=False,
    api_token_from="WAGATE_API_TOKEN",
    sign_in=None,
    debounce_seconds=15.0,
)


def rows(text: str) -> dict[str, str]:
    """The banner's "  Label   value" lines as {label: value} (a repeated label: the last)."""
    found = {}
    for line in text.splitlines()[1:]:
        label, value = line[2:12].strip(), line[13:]
        assert line.startswith("  ") and value, line
        found[label] = value
    return found


def test_the_sandbox_banner_says_where_what_and_as_whom() -> None:
    text = banner(SANDBOX)
    assert text.splitlines()[0].startswith("wagate 9.9.9 · SANDBOX")
    said = rows(text)
    assert said["URL"] == "http://127.0.0.1:8080"
    assert said["Channels"].startswith("sandbox")
    assert said["Console"] == (
        "http://127.0.0.1:8080/console — sign in as admin / Rahasia-Pertama_1 (also in "
        "sandbox.json)"
    )
    assert said["Data"] == "/srv/kantor/.wagate"
    assert said["API token"] == "/srv/kantor/.wagate/api-token"
    assert said["Database"] == "embedded PostgreSQL in /srv/kantor/.wagate/pg"
    assert "1 s" in said["Debounce"]
    assert "knowledge base" in said["AI"]
    assert "`wagate chat`" in said["Next"] and "console" in said["Next"]
    assert "Webhook" not in said  # the fake's webhook is nobody's business


def test_a_restarted_sandbox_points_to_the_file_instead_of_a_password() -> None:
    said = rows(banner(replace(SANDBOX, sign_in=None)))
    assert "Rahasia" not in said["Console"]
    assert "/srv/kantor/.wagate/sandbox.json" in said["Console"]


def test_the_live_banner_names_channels_and_webhooks_never_a_secret() -> None:
    text = banner(LIVE)
    assert text.splitlines()[0] == "wagate 9.9.9 · LIVE on meta, fonnte"
    assert "http://127.0.0.1:8080/webhook/fonnte/{secret}" in text
    said = rows(text)
    assert said["Channels"] == "meta, fonnte"
    assert said["AI"].startswith("gpt-4o-mini")
    assert said["API token"] == "WAGATE_API_TOKEN"
    assert said["Database"] == "DATABASE_URL"
    assert "wagate users add" in said["Console"]
    assert "webhook" in said["Next"]


def test_a_server_without_a_worker_says_where_the_answers_come_from() -> None:
    assert "wagate worker" in rows(banner(replace(LIVE, worker=False)))["Worker"]


def test_the_log_event_says_sandbox_not_meta_and_holds_no_password() -> None:
    fields = log_fields(SANDBOX)
    assert fields["mode"] == "sandbox" and fields["sandbox"] is True
    assert fields["channels"] == ["sandbox"]
    assert "meta" not in fields
    assert "Rahasia" not in repr(fields)
    assert log_fields(LIVE)["channels"] == ["meta", "fonnte"]
    assert log_fields(LIVE)["mode"] == "live"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [({}, SANDBOX_DEBOUNCE_SECONDS), ({"DEBOUNCE_SECONDS": "0"}, 0.0)],
)
async def test_the_sandbox_answers_after_a_short_debounce_unless_one_is_set(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    expected: float,
) -> None:
    monkeypatch.delenv("DEBOUNCE_SECONDS", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(wagate_data_dir=tmp_path, kb_dir=tmp_path / "kb")
    if not environment:
        assert settings.debounce_seconds == 15.0  # production's default, before the sandbox
    sandbox = Sandbox(tmp_path)
    try:
        started = await sandbox.start(settings, gateway_port=8080)
    finally:
        await sandbox.stop()
    assert started.debounce_seconds == expected
    assert sandbox.details["debounce_seconds"] == expected  # what `wagate chat` tells
