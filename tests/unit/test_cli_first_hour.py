"""The command line in the first hour (issue 17, item 2): `--version`; help that reads as
sentences without type tags (`--help <bool>`); and commands that need no database start
without loading the gateway (settings, logging, storage, the web stack)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from wagate import __version__
from wagate.cli.main import cli

TYPE_TAG = re.compile(r"<(?:bool|str|int|float|Path|Provider|Role|[A-Z]\w*)>")
# What `wagate --help` must not import: each is the gateway's, not the command line's.
HEAVY = (
    "wagate.settings",
    "wagate.wiring",
    "wagate.observability.logs",
    "wagate.pipeline.operator.service",
    "wagate.domain.privacy.recognizers",
    "pydantic_settings",
    "structlog",
    "sqlalchemy",
    "psycopg",
    "fastapi",
    "uvicorn",
    "httpx",
)


def wagate(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wagate", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        yield from commands(sub, (*path, name))


def help_of(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        cli().main([*path, "--help"], prog_name="wagate")
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_version() -> None:
    done = wagate("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"wagate {__version__}"
    assert done.stderr == ""


def test_no_help_page_shows_a_type_tag(capsys: pytest.CaptureFixture[str]) -> None:
    every = list(commands(cli()))
    assert len(every) > 60  # the whole tree, groups and commands
    for path in every:
        text = help_of(path, capsys)
        assert "Usage: wagate" in text, path
        assert not TYPE_TAG.search(text), (path, TYPE_TAG.findall(text))


def test_help_keeps_sentences_whole() -> None:
    """A docstring wrapped in the source is one paragraph on screen: with room for it, the
    sentence that crossed a source line break stands on one line."""
    text = wagate("kb", "--help", TERMINAL_WIDTH="200", COLUMNS="200").stdout
    assert (
        "Read KB_DIR again: changed files re-read, removed ones retired. Runs on the job queue "
        "(a worker must be running)"
    ) in text
    assert "--version" in wagate("--help").stdout


def test_help_and_version_load_nothing_of_the_gateway() -> None:
    probe = "import sys, json, wagate.cli.main; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(json.loads(done.stdout))
    assert not [name for name in HEAVY if name in loaded]


def test_a_command_needing_no_database_prints_no_warning(tmp_path: Any) -> None:
    """`wagate chat` without a sandbox: its own message, nothing about the AI or tokens."""
    done = wagate("chat", WAGATE_DATA_DIR=str(tmp_path))
    assert done.returncode == 1
    assert "No sandbox found" in done.stderr
    assert "assistant.offline" not in done.stderr and "warning" not in done.stderr


@pytest.mark.parametrize("command", [["worker"], ["serve", "--port", "0"]])
def test_unusable_encryption_keys_end_the_start_with_one_line(
    tmp_path: Any, command: list[str]
) -> None:
    """A malformed WAGATE_ENCRYPTION_KEYS is a configuration error (exit 2, one line naming
    the setting), not a crashed process with a traceback."""
    done = wagate(*command, WAGATE_DATA_DIR=str(tmp_path), WAGATE_ENCRYPTION_KEYS="garbage")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "process.crashed" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "wagate: invalid configuration: WAGATE_ENCRYPTION_KEYS: entry 1 is not of the form "
        "id:base64"
    )


def test_an_unknown_log_level_is_refused_at_start(tmp_path: Any) -> None:
    """WAGATE_LOG_LEVEL=LOUD used to fall back to INFO without a word."""
    done = wagate("users", "list", WAGATE_DATA_DIR=str(tmp_path), WAGATE_LOG_LEVEL="LOUD")
    assert done.returncode == 2
    assert "WAGATE_LOG_LEVEL: 'LOUD' is not a log level" in done.stderr
