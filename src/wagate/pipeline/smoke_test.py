"""`wagate smoke-test NUMBER`: the check after going live (seed 004). One real message leaves
through the operator service like any operator's message — queued, taken by a running worker,
sent through the channel's breaker and pacing — and the test watches its outbound row until
the provider's status webhook says it was delivered (or read), reporting how long each step
took. It proves the whole loop: database, worker, provider credentials, and the status webhook
coming back through the public URL.

Nothing here waits on the provider itself: the row is polled through the operator service,
so the statuses seen are the ones the gateway's webhook stored.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from wagate.domain.messages import Provider
from wagate.domain.outbound import OutboundStatus
from wagate.pipeline.operator import Actor, OperatorService
from wagate.pipeline.operator.ports import Delivery

# The row's statuses in the order a message passes them; a status webhook may skip some.
LADDER = ("pending", "sending", "accepted", "sent", "delivered", "read", "played")
DELIVERED = frozenset({"delivered", "read", "played"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Milestone:
    status: str
    seen_after: float  # seconds from queueing until this test saw it
    # For a status the provider reported: seconds from queueing until its webhook arrived.
    webhook_after: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SmokeResult:
    key: str
    provider: Provider
    target: str
    milestones: tuple[Milestone, ...]
    delivery: Delivery | None
    delivered: bool
    problem: str = ""  # why it did not pass
    hint: str = ""  # what to look at


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """What to send: a configured template (allowed at any time) or a text (Meta: only within
    24 hours of the number's last message to the business)."""

    template: str | None = None
    parameters: Sequence[str] | Mapping[str, str] = ()
    language: str | None = None
    text: str | None = None
    provider: Provider | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SmokeTest:
    operator: OperatorService
    by: Actor
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    poll_seconds: float = 0.25
    new_key: Callable[[], str] = field(default=lambda: f"smoke-{uuid.uuid4()}")

    async def run(
        self,
        target: str,
        message: Message,
        *,
        wait_seconds: float,
        progress: Callable[[Milestone], None] | None = None,
    ) -> SmokeResult:
        started = self.monotonic()
        sending = self.operator.sending
        if message.template is not None:
            receipt = await sending.send_template(
                target,
                message.template,
                message.parameters,
                by=self.by,
                language=message.language,
                key=self.new_key(),
            )
        else:
            text = message.text or "wagate smoke test"
            receipt = await sending.send(
                target, text, by=self.by, provider=message.provider, key=self.new_key()
            )
        key = receipt.idempotency_keys[-1]  # the last part: delivered last
        watch = _Watch(progress)
        watch.saw("queued", 0.0)
        delivery: Delivery | None = None
        while True:
            delivery = await sending.delivery(key, by=self.by)
            elapsed = self.monotonic() - started
            watch.follow(delivery, elapsed)
            if delivery.status in DELIVERED:
                return watch.result(receipt.provider, receipt.target, key, delivery)
            if delivery.status == OutboundStatus.FAILED:
                problem, hint = failure(delivery)
                return watch.result(receipt.provider, receipt.target, key, delivery, problem, hint)
            if elapsed >= wait_seconds:
                problem, hint = stalled(delivery.status, wait_seconds)
                return watch.result(receipt.provider, receipt.target, key, delivery, problem, hint)
            await self.sleep(self.poll_seconds)


class _Watch:
    """The milestones seen so far, each reported once, in the ladder's order."""

    def __init__(self, progress: Callable[[Milestone], None] | None) -> None:
        self._progress = progress
        self._seen: dict[str, Milestone] = {}

    def saw(self, status: str, elapsed: float, webhook_after: float | None = None) -> None:
        if status in self._seen:
            return
        milestone = Milestone(status=status, seen_after=elapsed, webhook_after=webhook_after)
        self._seen[status] = milestone
        if self._progress is not None:
            self._progress(milestone)

    def follow(self, delivery: Delivery, elapsed: float) -> None:
        reported = {
            event.status: (event.received_at - delivery.created_at).total_seconds()
            for event in delivery.events
        }
        current = delivery.status
        # A status the provider reported, or the row reached (accepted is the send's answer).
        statuses = set(reported) | {current}
        for status in sorted(statuses, key=_rank):
            if status != "pending":
                self.saw(status, elapsed, reported.get(status))

    def result(
        self,
        provider: Provider,
        target: str,
        key: str,
        delivery: Delivery,
        problem: str = "",
        hint: str = "",
    ) -> SmokeResult:
        return SmokeResult(
            key=key,
            provider=provider,
            target=target,
            milestones=tuple(self._seen.values()),
            delivery=delivery,
            delivered=not problem,
            problem=problem,
            hint=hint,
        )


def _rank(status: str) -> int:
    return LADDER.index(status) if status in LADDER else len(LADDER)


def failure(delivery: Delivery) -> tuple[str, str]:
    """Why a message failed for good, and what to look at."""
    code = delivery.error_code or ""
    detail = delivery.error_detail or "no detail"
    problem = f"failed ({code}): {detail}" if code else f"failed: {detail}"
    if code in ("window_closed", "131047"):
        hint = (
            "the number has not written to the business in the last 24 hours: send a template "
            "(--template NAME, configured in WHATSAPP_TEMPLATES), or write to the business "
            "number from that phone first"
        )
    elif code in ("190", "0", "token invalid"):
        hint = "the provider refused the token: `wagate doctor`, then `wagate tenants set-token`"
    elif code.startswith("132"):
        hint = "the template was refused: check its name, language and parameters in WhatsApp "
        hint += "Manager"
    elif code == "opted_out":
        hint = "the contact opted out (BERHENTI): nothing is sent until they write SETUJU"
    else:
        hint = "see `wagate dead-letters list` and the gateway's log"
    return problem, hint


def stalled(status: str, timeout: float) -> tuple[str, str]:
    """Why nothing final happened within the time given, by how far the message got."""
    problem = f"no delivery status within {timeout:g} s (last status: {status})"
    if status == "pending":
        hint = (
            "no worker took the message: is `wagate serve` (with its worker) or `wagate worker` "
            "running on this database? A paused channel also waits: `wagate tenants status`"
        )
    elif status == "sending":
        hint = "the provider has not answered the send: see the gateway's log"
    elif status == "sent":
        hint = (
            "status webhooks arrive (the provider reported `sent`), but the phone has not "
            "received it yet: is it online? Run again with a longer --timeout"
        )
    else:
        hint = (
            "the provider took the message but no status webhook came back: check the "
            "webhook subscription (Meta: the `messages` field; Fonnte: the status webhook) "
            "and that PUBLIC_URL reaches the gateway (`wagate doctor`)"
        )
    return problem, hint
