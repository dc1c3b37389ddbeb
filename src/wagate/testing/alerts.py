"""Staff alerts in memory: `MemoryAlerts` is the `StaffAlerts` port itself (what a step
raised, once per key); `MemoryAlertStore` is the `AlertStore` under `MailedStaffAlerts`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from wagate.pipeline.ports import StaffAlert, StoredAlert


@dataclass
class MemoryAlerts:
    raised: list[StaffAlert] = field(default_factory=list)  # every call, repeats included
    failing: bool = False  # refuse every alert, as a mail server that is down

    async def alert(self, alert: StaffAlert) -> None:
        self.raised.append(alert)
        if self.failing:
            raise ConnectionError("mail server down")

    @property
    def alerts(self) -> list[StaffAlert]:
        """Once per key, in the order first raised: what staff would be told."""
        return list({a.key: a for a in reversed(self.raised)}.values())[::-1]


@dataclass
class _Row:
    alert: StaffAlert
    created_at: datetime
    attempts: int = 0
    failures: int = 0
    delivered_to: tuple[str, ...] = ()
    sent_at: datetime | None = None
    undeliverable: bool = False
    last_error: str | None = None
    next_attempt_at: datetime | None = None


@dataclass
class MemoryAlertStore:
    rows: dict[str, _Row] = field(default_factory=dict)
    now: datetime | None = None  # when set, `outcome` stamps `sent_at` with it

    async def record(self, alert: StaffAlert, *, at: datetime) -> None:
        self.rows.setdefault(alert.key, _Row(alert=alert, created_at=at))

    async def claim(self, key: str, *, at: datetime, lease: timedelta) -> StoredAlert | None:
        row = self.rows.get(key)
        if row is None or row.sent_at is not None or row.undeliverable:
            return None
        if row.next_attempt_at is not None and row.next_attempt_at > at:
            return None
        row.next_attempt_at = at + lease
        row.attempts += 1
        return StoredAlert(alert=row.alert, attempts=row.attempts, delivered_to=row.delivered_to)

    async def outcome(
        self,
        key: str,
        *,
        delivered: Sequence[str],
        failures: int,
        error: str | None,
        finished: bool,
        next_at: datetime | None,
    ) -> None:
        row = self.rows[key]
        row.delivered_to = (*row.delivered_to, *delivered)
        row.failures += failures
        row.last_error = error or row.last_error
        row.next_attempt_at = next_at
        if finished:
            if row.delivered_to:
                row.sent_at = self.now or row.created_at
            else:
                row.undeliverable = True

    async def undeliverable(self, key: str, *, reason: str) -> None:
        row = self.rows[key]
        if row.sent_at is None:
            self.rows[key] = replace(row, undeliverable=True, last_error=reason)

    async def due(self, *, at: datetime, since: datetime, limit: int) -> list[str]:
        return [
            key
            for key, row in self.rows.items()
            if row.sent_at is None
            and not row.undeliverable
            and row.created_at >= since
            and (row.next_attempt_at is None or row.next_attempt_at <= at)
        ][:limit]
