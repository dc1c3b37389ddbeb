"""The log scan that `conftest.py` runs over every e2e session's logs (CP6) finds what it is
there to find, and passes clean logs: without this, a scan that read nothing would pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e import harness
from tests.e2e.log_scan import assert_logs_are_clean

STARTED = '{"event": "gateway.started", "level": "info"}\n'


def _logs(tmp_path: Path, line: str) -> list[Path]:
    gateway = tmp_path / "gateway-1.log"
    gateway.write_text(STARTED + line + "\n")
    worker = tmp_path / "sub" / "worker-2.log"
    worker.parent.mkdir()
    worker.write_text('{"event": "worker.started"}\n')
    return [gateway, worker]


def test_clean_logs_pass(tmp_path: Path) -> None:
    started = _logs(tmp_path, '{"event": "message.stored", "conversation": 12}')
    assert_logs_are_clean(tmp_path, started)


@pytest.mark.parametrize(
    ("line", "what"),
    [
        (f"Authorization: Bearer {harness.API_TOKEN}", "secret API_TOKEN"),
        ('{"event": "x", "text": "Halo admin, tolong"}', "message text #0"),
        ('{"event": "x", "preview": "kabcdefgh"}', "message tag"),
        (json.dumps({"event": "x", "detail": "nomor\n081234567890"}), "TELEPON"),
        ("nik 3171014508900003 in a raw line", "message text"),
    ],
)
def test_each_kind_of_leak_is_found_and_masked(tmp_path: Path, line: str, what: str) -> None:
    started = _logs(tmp_path, line)
    with pytest.raises(AssertionError) as failure:
        assert_logs_are_clean(tmp_path, started)
    report = str(failure.value)
    assert "gateway-1.log:2" in report and what in report
    assert harness.API_TOKEN not in report and "081234567890" not in report


def test_a_log_the_scan_did_not_read_fails_it(tmp_path: Path) -> None:
    started = _logs(tmp_path, "{}")
    unread = tmp_path / "gateway-3.txt"  # not a *.log: not scanned
    unread.write_text(STARTED)
    with pytest.raises(AssertionError, match="did not find"):
        assert_logs_are_clean(tmp_path, [*started, unread])


def test_gateway_logs_that_never_say_started_fail_it(tmp_path: Path) -> None:
    gateway = tmp_path / "gateway-1.log"
    gateway.write_text('{"event": "something else"}\n')
    with pytest.raises(AssertionError, match="started"):
        assert_logs_are_clean(tmp_path, [gateway])
