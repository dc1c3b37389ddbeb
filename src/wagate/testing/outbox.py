"""An Outbox in memory. Its status changes follow the domain's transition table the way
storage's guarded updates do: a move the table refuses leaves the row as it is."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from wagate.domain.audit import AuditEvent
from wagate.domain.consent import OPTED_OUT
from wagate.domain.messages import Provider
from wagate.domain.outbound import Cause, EmailStatus, OutboundStatus, allowed
from wagate.pipeline.ports import DueMessages, OutboundMessage
from wagate.testing.recipients import OptOutList


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Row:
    message: OutboundMessage
    status: str = OutboundStatus.PENDING  # a test may set a plain string: it is read as the enum
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    throttles: int = 0
    error_code: str | None = None
    email_status: str | None = None
    resent_unknown: int = 0
    email_attempts: int = 0
    email_next_at: datetime | None = None
    provider_message_id: str | None = None

    def move(self, new: OutboundStatus, cause: Cause) -> bool:
        """Apply the transition if the table allows it; True when it did."""
        if not allowed(OutboundStatus(self.status), new, cause):
            return False
        self.status = new
        return True


@dataclass
class MemoryOutbox:
    rows: dict[int, Row] = field(default_factory=dict)
    deferred: list[datetime] = field(default_factory=list)  # every defer_delivery's run_at
    clock: Callable[[], datetime] = field(default=_now)
    # When the provider's latest status webhook arrived (None: never): evidence for resends.
    status_seen_at: datetime | None = field(default_factory=lambda: _now() - timedelta(minutes=5))
    rerouted: int = 0
    # The opt-out check `due` carries when asked to screen a number (None: it screens none).
    opt_outs: OptOutList | None = None

    def add(self, n: int, conversation_id: int = 1) -> None:
        """`n` reply parts for the conversation, pending, with the 24-hour window open."""
        for i in range(n):
            mid = len(self.rows) + 1
            self.rows[mid] = Row(
                OutboundMessage(
                    id=mid,
                    conversation_id=conversation_id,
                    provider=Provider.META,
                    channel_id="pn",
                    recipient="6281",
                    idempotency_key=f"run:1:{mid}:reply:{i}",
                    text=f"part {i}",
                    attempts=0,
                    last_inbound_at=self.clock(),
                )
            )

    def _view(self, row: Row) -> OutboundMessage:
        return replace(
            row.message,
            attempts=row.attempts,
            status=OutboundStatus(row.status),
            next_attempt_at=row.next_attempt_at,
            last_attempt_at=row.last_attempt_at,
            throttles=row.throttles,
            email_attempts=row.email_attempts,
        )

    def statuses(self) -> list[str]:
        return [r.status for r in self.rows.values()]

    def status_webhook(self, message_id: int, status: OutboundStatus, *, by_key: bool) -> bool:
        """A delivery status arriving: naming our key (`by_key`, a lost send answer) or the
        provider's id. True when it changed the row."""
        row = self.rows[message_id]
        cause = Cause.STATUS_BY_KEY if by_key else Cause.STATUS
        if by_key and row.provider_message_id is not None:
            return False
        if not by_key and row.provider_message_id is None:
            return False
        moved = row.move(status, cause)
        if moved and status is OutboundStatus.FAILED:
            row.email_status = EmailStatus.PENDING
        return moved

    # ------------------------------------------------------------------ the Outbox port

    async def pending(self, conversation_id: int) -> list[OutboundMessage]:
        return [
            self._view(r)
            for r in self.rows.values()
            if r.message.conversation_id == conversation_id
            and allowed(OutboundStatus(r.status), OutboundStatus.SENDING, Cause.ATTEMPT)
        ]

    async def due(
        self, conversation_id: int, *, recent_since: datetime | None, screen: str | None = None
    ) -> DueMessages:
        messages = await self.pending(conversation_id)
        recent = None
        if recent_since is not None and messages:
            recent = await self.recent_sends(conversation_id, since=recent_since)
        screened = {}
        if screen is not None and self.opt_outs is not None and messages:
            screened[screen] = OPTED_OUT if screen in self.opt_outs.numbers else None
        return DueMessages(messages=messages, recent=recent, screened=screened)

    async def start_attempt(self, message_id: int, *, at: datetime) -> None:
        row = self.rows[message_id]
        row.status, row.attempts, row.last_attempt_at = "sending", row.attempts + 1, at
        row.next_attempt_at = None

    async def accepted(
        self,
        message_id: int,
        *,
        provider_message_id: str,
        at: datetime,
        audit: Sequence[AuditEvent] = (),
    ) -> bool:
        row = self.rows[message_id]
        row.provider_message_id = provider_message_id
        row.move(OutboundStatus.ACCEPTED, Cause.SEND_ACCEPTED)
        row.throttles = 0
        return False  # no audit chain here: delivery appends the events itself

    async def retry_later(
        self, message_id: int, *, at: datetime, error_code: str | None, error: str
    ) -> None:
        row = self.rows[message_id]
        if row.move(OutboundStatus.PENDING, Cause.RETRY):
            row.next_attempt_at, row.error_code = at, error_code

    async def failed(
        self, message_id: int, *, error_code: str | None, error: str, email_due: bool = False
    ) -> None:
        row = self.rows[message_id]
        if row.move(OutboundStatus.FAILED, Cause.FAIL):
            row.error_code = error_code
            row.email_status = EmailStatus.PENDING if email_due else EmailStatus.SKIPPED

    async def defer_delivery(self, conversation_id: int, *, run_at: datetime) -> None:
        self.deferred.append(run_at)

    async def reroute_window_failures(self, conversation_id: int) -> int:
        moved = 0
        for row in self.rows.values():
            if (
                row.message.conversation_id == conversation_id
                and row.error_code in ("131047", "470")
                and row.message.kind != "window_template"
                and row.move(OutboundStatus.PENDING, Cause.REROUTE)
            ):
                row.message = replace(row.message, kind="window_template")
                row.next_attempt_at, row.email_status = None, None
                moved += 1
        self.rerouted += moved
        return moved

    async def release_attempt(
        self, message_id: int, *, at: datetime, throttled: bool, error_code: str | None, error: str
    ) -> None:
        row = self.rows[message_id]
        if row.move(OutboundStatus.PENDING, Cause.RELEASE):
            row.attempts, row.next_attempt_at = max(row.attempts - 1, 0), at
            row.throttles = row.throttles + 1 if throttled else 0
            row.error_code = error_code

    async def outcome_unknown(self, message_id: int, *, reconcile_at: datetime, error: str) -> None:
        row = self.rows[message_id]
        if row.move(OutboundStatus.SENDING, Cause.OUTCOME_UNKNOWN):
            row.next_attempt_at, row.error_code = reconcile_at, "outcome_unknown"

    async def resending_unknown(self, message_id: int) -> None:
        self.rows[message_id].resent_unknown += 1

    async def last_status_at(self, provider: Provider) -> datetime | None:
        return self.status_seen_at

    async def recent_sends(self, conversation_id: int, *, since: datetime) -> list[datetime]:
        return [
            r.last_attempt_at
            for r in self.rows.values()
            if r.last_attempt_at is not None
            and r.last_attempt_at >= since
            and r.status not in (OutboundStatus.PENDING, OutboundStatus.FAILED)
        ]

    async def emails_due(self, conversation_id: int) -> list[OutboundMessage]:
        return [
            self._view(r)
            for r in self.rows.values()
            if r.status == OutboundStatus.FAILED
            and r.email_status == EmailStatus.PENDING
            and (r.email_next_at is None or r.email_next_at <= self.clock())
        ]

    async def email_outcome(
        self,
        message_id: int,
        *,
        status: EmailStatus,
        error: str | None,
        attempted: bool = False,
        next_at: datetime | None = None,
    ) -> None:
        row = self.rows[message_id]
        row.email_status = status
        row.email_attempts += int(attempted)
        row.email_next_at = next_at
