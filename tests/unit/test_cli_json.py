"""What the command line prints: times in JSON as the API prints them (ISO 8601 with `T`),
not Python's `str` of a datetime ("2026-12-06 05:28:34+00:00", seen in `review list --json`
and `contacts export`), and tables whose columns hold."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from wagate.cli.common import as_json_text


def test_times_are_iso_8601_and_other_values_their_text() -> None:
    at = datetime(2026, 12, 6, 5, 28, 34, 399353, tzinfo=UTC)
    printed = json.loads(
        as_json_text({"createdAt": at, "day": date(2026, 12, 6), "score": Decimal("0.5")})
    )
    assert printed == {
        "createdAt": "2026-12-06T05:28:34.399353+00:00",
        "day": "2026-12-06",
        "score": "0.5",
    }
    assert datetime.fromisoformat(printed["createdAt"]) == at


def test_text_stays_readable() -> None:
    assert '"Pasal 1 ayat (2) — cerai"' in as_json_text(["Pasal 1 ayat (2) — cerai"])


def test_the_review_table_keeps_its_columns(capsys: pytest.CaptureFixture[str]) -> None:
    """The deadline printed as Python's str (32 characters with microseconds and offset)
    pushed RULES out of its column."""
    from wagate.cli.review import _table

    deadline = datetime(2026, 12, 6, 12, 58, 34, 399353, tzinfo=timezone(timedelta(hours=7)))
    _table([{"id": 1, "status": "pending", "zone": "yellow", "conversation": 3,
             "deadline": deadline, "rules": ["own_case"]}])  # fmt: skip
    header, row = capsys.readouterr().out.splitlines()
    assert row.index("own_case") == header.index("RULES")
    assert "2026-12-06 05:58 UTC" in row  # to the minute, in UTC
