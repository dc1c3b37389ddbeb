"""Times as the console shows them: UTC, "YYYY-MM-DD HH:MM" (an ISO text or a datetime)."""

from __future__ import annotations

from datetime import UTC, datetime


def parsed(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def minute(value: datetime | str | None) -> str:
    moment = parsed(value)
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def second(value: datetime | str | None) -> str:
    moment = parsed(value)
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
