"""What the command line prints as JSON: times as the API prints them (ISO 8601 with `T`),
not Python's `str` of a datetime ("2026-12-06 05:28:34+00:00", seen in `review list --json`
and `contacts export`)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

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
