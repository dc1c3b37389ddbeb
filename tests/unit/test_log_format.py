"""Readable logs on a terminal, JSON everywhere else (issue 17, item 1): WAGATE_LOG_FORMAT
auto (the default) decides by whether standard error is a terminal; NO_COLOR switches the
colours off; both formats pass through the same redaction."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from collections.abc import Iterator

import pytest
import structlog

from wagate.observability.logs import colours_wanted, configure_logging, log_format
from wagate.settings import load_settings


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restore_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    yield
    structlog.reset_defaults()
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)


def logged(stream: io.StringIO, fmt: str) -> str:
    real = sys.stderr
    sys.stderr = stream
    try:
        configure_logging("INFO", fmt)
        structlog.get_logger("t").warning("webhook.rejected", reason="signature_invalid")
        logging.getLogger("uvicorn.error").info("library line with token=abc123")
    finally:
        sys.stderr = real
    return stream.getvalue()


def test_auto_is_readable_on_a_terminal_and_json_elsewhere() -> None:
    assert log_format("auto", Terminal()) == "console"
    assert log_format("auto", io.StringIO()) == "json"
    assert log_format("auto", object()) == "json"  # no isatty at all
    assert log_format("json", Terminal()) == "json"
    assert log_format("console", io.StringIO()) == "console"


def test_no_color_switches_colours_off() -> None:
    assert colours_wanted(Terminal(), {}) is True
    assert colours_wanted(Terminal(), {"NO_COLOR": "1"}) is False
    assert colours_wanted(io.StringIO(), {}) is False


def test_the_setting_defaults_to_auto_and_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAGATE_LOG_FORMAT", raising=False)
    assert load_settings().wagate_log_format == "auto"
    monkeypatch.setenv("WAGATE_LOG_FORMAT", "JSON")
    assert load_settings().wagate_log_format == "json"
    monkeypatch.setenv("WAGATE_LOG_FORMAT", "xml")
    with pytest.raises(Exception, match="WAGATE_LOG_FORMAT"):
        load_settings()


@pytest.mark.usefixtures("restore_logging")
def test_a_file_gets_one_json_object_a_line() -> None:
    lines = [json.loads(line) for line in logged(io.StringIO(), "auto").splitlines()]
    assert lines[0]["event"] == "webhook.rejected" and lines[0]["level"] == "warning"
    assert lines[0]["timestamp"].endswith("Z")
    assert "abc123" not in lines[1]["event"]


@pytest.mark.usefixtures("restore_logging")
def test_a_terminal_gets_short_readable_lines_redacted_alike(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    text = logged(Terminal(), "auto")
    first, second = text.splitlines()
    assert "webhook.rejected" in first and "reason=signature_invalid" in first
    assert "warning" in first and not first.startswith("{")
    assert "\x1b[" not in text  # NO_COLOR
    assert "abc123" not in second and "[REDACTED]" in second
