"""Delivery decisions with in-memory ports (fast; the e2e suite proves them on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from wagate.domain import errors as e
from wagate.domain.audit import AuditEvent
from wagate.domain.breaker import BreakerPolicy, ChannelState
from wagate.domain.consent import OPTED_OUT, OPTOUT_CONFIRMATION_KIND
from wagate.domain.pacing import PairPacing
from wagate.domain.provider_port import CredentialCheck
from wagate.domain.retry import BackoffPolicy
from wagate.pipeline.deliver import Deliver, EmailFallback
from wagate.pipeline.ports import MailDeliveryError
from wagate.testing import (
    Clock,
    Directory,
    Mailbox,
    MemoryAudit,
    MemoryHealth,
    MemoryOutbox,
    OptOutList,
    ScriptedProvider,
)

T0 = datetime.now(UTC)


def make(
    provider: ScriptedProvider,
    *,
    outbox: MemoryOutbox | None = None,
    health: MemoryHealth | None = None,
    mailbox: Mailbox | None = None,
    pacing: PairPacing | None = None,
    attempts: int = 3,
    recipients: OptOutList | None = None,
) -> tuple[Deliver, MemoryOutbox, MemoryHealth, Clock]:
    outbox = outbox or MemoryOutbox()
    health = health or MemoryHealth()
    clock = Clock(T0)
    outbox.clock = clock
    deliver = Deliver(
        outbox=outbox,
        providers=Directory(provider),
        backoff=BackoffPolicy(max_attempts=attempts, base=timedelta(seconds=1)),
        clock=clock,
        jitter=lambda: 0.0,
        health=health,
        breaker=BreakerPolicy(failures=2, cooldown=timedelta(seconds=5)),
        pacing=pacing,
        reconcile=timedelta(seconds=20),
        email=EmailFallback(mailer=mailbox, contacts=mailbox, subject="Pesan")
        if mailbox is not None
        else None,
        recipients=recipients,
    )
    return deliver, outbox, health, clock


async def test_parts_go_in_order_and_a_transient_failure_holds_the_rest_back() -> None:
    provider = ScriptedProvider([None, e.ProviderUnavailable("500", code="131000")])
    deliver, outbox, _, clock = make(provider)
    outbox.add(3)
    assert await deliver(1) == 1
    assert provider.sent == ["part 0"]
    assert outbox.statuses() == ["accepted", "pending", "pending"]
    assert outbox.rows[2].attempts == 1
    assert outbox.deferred == [clock.now + timedelta(seconds=0.5)]
    clock.now = outbox.deferred[-1]
    assert await deliver(1) == 2
    assert provider.sent == ["part 0", "part 1", "part 2"]


async def test_breaker_opens_after_a_run_of_failures_and_waiting_spends_no_attempt() -> None:
    unavailable = e.ProviderUnavailable("503")
    provider = ScriptedProvider([unavailable, unavailable])
    deliver, outbox, health, clock = make(provider, attempts=10)
    outbox.add(1)
    await deliver(1)
    clock.now = outbox.deferred[-1]
    await deliver(1)
    assert health.health.state is ChannelState.OPEN
    spent = outbox.rows[1].attempts
    # While open: nothing is sent, the message waits for the cool-down, no attempt spent.
    clock.now += timedelta(seconds=1)
    await deliver(1)
    assert outbox.rows[1].attempts == spent
    assert health.health.retry_at is not None
    assert outbox.deferred[-1] == health.health.retry_at
    # After it: the message is the probe; success closes the breaker.
    clock.now = health.health.retry_at
    assert await deliver(1) == 1
    assert health.health.state is ChannelState.CLOSED


async def test_a_refused_token_pauses_without_spending_attempts_and_a_valid_check_resumes() -> None:
    provider = ScriptedProvider([e.AuthenticationFailed("expired", code="190")] * 3)
    deliver, outbox, health, clock = make(provider, attempts=2)
    outbox.add(2)
    await deliver(1)
    assert health.health.state is ChannelState.DEGRADED
    assert outbox.rows[1].attempts == 0
    assert outbox.statuses() == ["pending", "pending"]
    # The probe time comes; the credential check says the token works again: resume.
    provider.script.clear()
    provider.credentials = CredentialCheck.VALID
    assert health.health.retry_at is not None
    clock.now = health.health.retry_at
    assert await deliver(1) == 2
    assert health.health.state is ChannelState.CLOSED
    assert outbox.rows[1].attempts == 1


async def test_a_degraded_channel_with_a_refused_check_keeps_waiting() -> None:
    provider = ScriptedProvider([e.AuthenticationFailed("expired", code="190")])
    deliver, outbox, health, clock = make(provider)
    outbox.add(1)
    await deliver(1)
    provider.credentials = CredentialCheck.REJECTED
    assert health.health.retry_at is not None
    clock.now = health.health.retry_at
    assert await deliver(1) == 0
    assert provider.sent == []
    assert health.health.state is ChannelState.DEGRADED
    assert outbox.rows[1].attempts == 0


async def test_pair_rate_limit_slows_the_pair_down_without_failing() -> None:
    pair = e.PairRateLimited("131056", code="131056")
    provider = ScriptedProvider([pair, pair, pair, pair])
    pacing = PairPacing(burst=8, interval=timedelta(seconds=6))
    deliver, outbox, health, clock = make(provider, pacing=pacing, attempts=2)
    outbox.add(1)
    waits = []
    for _ in range(4):
        before = clock.now
        await deliver(1)
        waits.append((outbox.deferred[-1] - before).total_seconds())
        clock.now = outbox.deferred[-1]
    assert waits == [6, 16, 64, 256]
    assert outbox.rows[1].status == "pending"  # never failed, although attempts=2
    assert outbox.rows[1].attempts == 0
    assert health.health.failures == 0  # not the channel's fault
    assert await deliver(1) == 1


async def test_pacing_sends_a_burst_then_defers_the_rest() -> None:
    provider = ScriptedProvider()
    pacing = PairPacing(burst=3, interval=timedelta(seconds=6))
    deliver, outbox, _, clock = make(provider, pacing=pacing)
    outbox.add(5)
    assert await deliver(1) == 3
    assert outbox.deferred[-1] == clock.now + timedelta(seconds=6)
    clock.now = outbox.deferred[-1]
    assert await deliver(1) == 1
    assert provider.sent == ["part 0", "part 1", "part 2", "part 3"]


async def test_unknown_outcome_waits_for_reconciliation_then_resends_counted() -> None:
    provider = ScriptedProvider([e.OutcomeUnknown("read timeout")])
    deliver, outbox, _, clock = make(provider)
    outbox.add(2)
    await deliver(1)
    row = outbox.rows[1]
    assert row.status == "sending"
    assert outbox.deferred[-1] == clock.now + timedelta(seconds=20)
    clock.now += timedelta(seconds=5)
    await deliver(1)  # still inside the reconcile window: nothing goes
    assert provider.sent == []
    clock.now = T0 + timedelta(seconds=20)
    assert await deliver(1) == 2
    assert row.resent_unknown == 1
    assert provider.sent == ["part 0", "part 1"]


async def test_a_crash_mid_call_is_reconciled_like_a_timeout() -> None:
    provider = ScriptedProvider()
    deliver, outbox, _, clock = make(provider)
    outbox.add(1)
    row = outbox.rows[1]
    row.status, row.attempts, row.last_attempt_at = "sending", 1, clock.now
    await deliver(1)
    assert provider.sent == []
    assert outbox.deferred[-1] == clock.now + timedelta(seconds=20)


async def test_unknown_outcome_with_attempts_spent_becomes_a_dead_letter_never_emailed() -> None:
    provider = ScriptedProvider()
    mailbox = Mailbox()
    deliver, outbox, _, clock = make(provider, mailbox=mailbox, attempts=2)
    outbox.add(1)
    row = outbox.rows[1]
    row.status, row.attempts, row.last_attempt_at = "sending", 2, clock.now - timedelta(minutes=1)
    await deliver(1)
    assert row.status == "failed"
    assert row.error_code == "outcome_unknown"
    assert mailbox.sent == []
    assert provider.sent == []


@pytest.mark.parametrize(
    "error",
    [e.RecipientUnreachable("131026", code="131026"), e.ProviderUnavailable("500")],
    ids=["permanent", "last-transient"],
)
async def test_a_final_failure_goes_by_email_when_the_account_has_an_address(
    error: e.SendError,
) -> None:
    provider = ScriptedProvider([error])
    mailbox = Mailbox()
    deliver, outbox, _, _ = make(provider, mailbox=mailbox, attempts=1)
    outbox.add(1)
    await deliver(1)
    assert outbox.rows[1].status == "failed"
    assert outbox.rows[1].email_status == "sent"
    assert [(m.to, m.body, m.message_id) for m in mailbox.sent] == [
        ("klien@example.co.id", "part 0", outbox.rows[1].message.idempotency_key)
    ]


async def test_no_address_and_mail_failures_are_recorded() -> None:
    mailbox = Mailbox(address=None)
    deliver, outbox, _, _ = make(
        ScriptedProvider([e.RecipientUnreachable("x")]), mailbox=mailbox, attempts=1
    )
    outbox.add(1)
    await deliver(1)
    assert outbox.rows[1].email_status == "no_address"
    failing = Mailbox(fail=MailDeliveryError("550 no such user", permanent=True))
    deliver, outbox, _, _ = make(
        ScriptedProvider([e.RecipientUnreachable("x")]), mailbox=failing, attempts=1
    )
    outbox.add(1)
    await deliver(1)
    assert outbox.rows[1].email_status == "failed"


async def test_permanent_errors_do_not_count_against_the_channel() -> None:
    provider = ScriptedProvider([e.RecipientUnreachable("x")] * 5)
    deliver, outbox, health, _ = make(provider)
    outbox.add(5)
    await deliver(1)
    assert outbox.statuses() == ["failed"] * 5
    assert health.health.state is ChannelState.CLOSED


async def test_a_mail_server_saying_try_later_gets_more_tries_then_a_refusal_is_final() -> None:
    mailbox = Mailbox(fail=MailDeliveryError("451 try later", permanent=False))
    deliver, outbox, _, clock = make(
        ScriptedProvider([e.RecipientUnreachable("x")]), mailbox=mailbox, attempts=1
    )
    outbox.add(1)
    await deliver(1)
    row = outbox.rows[1]
    assert (row.email_status, row.email_attempts) == ("pending", 1)
    assert outbox.deferred[-1] == row.email_next_at
    await deliver(1)  # not due yet: no new try
    assert row.email_attempts == 1
    mailbox.fail = None
    assert row.email_next_at is not None
    clock.now = row.email_next_at
    await deliver(1)
    assert (row.email_status, len(mailbox.sent)) == ("sent", 1)


async def test_e_mail_gives_up_after_its_tries() -> None:
    mailbox = Mailbox(fail=MailDeliveryError("connection refused", permanent=False))
    deliver, outbox, _, clock = make(
        ScriptedProvider([e.RecipientUnreachable("x")]), mailbox=mailbox, attempts=1
    )
    outbox.add(1)
    row = outbox.rows[1]
    for _ in range(10):
        await deliver(1)
        if row.email_next_at is not None:
            clock.now = row.email_next_at
    assert row.email_status == "failed"
    assert row.email_attempts == 6


async def test_an_unknown_outcome_is_not_resent_when_no_status_webhooks_arrive_at_all() -> None:
    """Without any recent status webhook, silence proves nothing: the message is kept as a dead
    letter (`outcome_unknown`, never e-mailed) for an operator, rather than risk a duplicate."""
    provider = ScriptedProvider([e.OutcomeUnknown("read timeout")])
    mailbox = Mailbox()
    deliver, outbox, _, clock = make(provider, mailbox=mailbox)
    outbox.status_seen_at = None
    outbox.add(1)
    await deliver(1)
    clock.now = T0 + timedelta(seconds=20)
    await deliver(1)
    row = outbox.rows[1]
    assert (row.status, row.error_code, row.resent_unknown) == ("failed", "outcome_unknown", 0)
    assert provider.sent == [] and mailbox.sent == []
    # Statuses that stopped arriving a day ago are no evidence either.
    outbox.status_seen_at = T0 - timedelta(days=2)
    outbox.add(1)
    provider.script.append(e.OutcomeUnknown("read timeout"))
    clock.now = T0 + timedelta(seconds=30)
    await deliver(1)
    clock.now += timedelta(seconds=20)
    await deliver(1)
    assert outbox.rows[2].error_code == "outcome_unknown"


async def test_an_opted_out_contact_gets_only_the_confirmation_and_nothing_is_emailed() -> None:
    """Rows queued before the opt-out (a reply, an operator's message) are dead letters with
    code `opted_out`, never sent and never e-mailed; the confirmation still goes."""
    provider = ScriptedProvider()
    mailbox = Mailbox()
    opted_out = OptOutList(numbers={"6281"})
    deliver, outbox, _, _ = make(provider, mailbox=mailbox, recipients=opted_out)
    outbox.add(3)
    confirmation = outbox.rows[2]
    confirmation.message = replace(confirmation.message, kind=OPTOUT_CONFIRMATION_KIND)
    assert await deliver(1) == 1
    assert provider.sent == ["part 1"]
    assert outbox.statuses() == ["failed", "accepted", "failed"]
    assert [outbox.rows[i].error_code for i in (1, 3)] == [OPTED_OUT, OPTED_OUT]
    assert [outbox.rows[i].email_status for i in (1, 3)] == ["skipped", "skipped"]
    assert mailbox.sent == []
    # Someone who did not opt out is written to as before.
    opted_out.numbers.clear()
    outbox.add(1)
    assert await deliver(1) == 1


async def test_what_the_provider_is_asked_for_quoting_link_previews_and_named_parameters() -> None:
    provider = ScriptedProvider(allow_templates=True)
    deliver, outbox, _, _ = make(provider)
    outbox.add(3)
    rows = outbox.rows
    rows[1].message = replace(rows[1].message, reply_to="wamid.question")
    rows[2].message = replace(rows[2].message, kind="operator", text="Jadwal: https://contoh.id")
    rows[3].message = replace(
        rows[3].message,
        kind="template",
        template={
            "name": "pengingat_sidang",
            "language": "id",
            "parameters": ["Ibu Siti", "12 Desember"],
            "parameter_names": ["nama", "tanggal"],
        },
    )
    assert await deliver(1) == 3
    assert provider.replies_to == ["wamid.question", None]
    assert provider.previewed == ["Jadwal: https://contoh.id"]
    [template] = provider.templates
    assert template["parameters"] == ["Ibu Siti", "12 Desember"]
    assert template["parameter_names"] == ["nama", "tanggal"]


async def test_a_send_s_audit_record_is_written_once_with_or_without_the_acceptance() -> None:
    """The `message.sent` event goes to the outbox with the acceptance; the delivery appends it
    itself only when the outbox did not (the same event, once either way)."""

    class Carrying(MemoryOutbox):
        carried: list[str]

        async def accepted(
            self,
            message_id: int,
            *,
            provider_message_id: str,
            at: datetime,
            audit: Sequence[AuditEvent] = (),
        ) -> bool:
            await super().accepted(message_id, provider_message_id=provider_message_id, at=at)
            self.carried += [event.action for event in audit]
            return True

    for outbox in (Carrying(), MemoryOutbox()):
        audit = MemoryAudit()
        if isinstance(outbox, Carrying):
            outbox.carried = []
        deliver, _, _, _ = make(ScriptedProvider(), outbox=outbox)
        deliver = replace(deliver, audit=audit)
        outbox.add(2)
        assert await deliver(1) == 2
        if isinstance(outbox, Carrying):
            assert outbox.carried == ["message.sent", "message.sent"]
            assert audit.actions() == []
        else:
            assert audit.actions() == ["message.sent", "message.sent"]
            assert [event.details["outbound"] for event in audit.events] == [1, 2]


async def test_the_opt_out_check_read_with_the_run_serves_the_first_message_to_that_number() -> (
    None
):
    """Issue 18: a run told its sender reads the check for that number with the due messages
    (no question of its own); the answer is the check's, so an opted-out sender's reply is
    still a dead letter; later parts, and other numbers, are checked as before."""
    provider = ScriptedProvider()
    opted_out = OptOutList(numbers={"6281"})
    outbox = MemoryOutbox(opt_outs=opted_out)
    deliver, outbox, _, _ = make(provider, outbox=outbox, recipients=opted_out)
    outbox.add(2)
    assert await deliver(1, recipient="6281") == 0
    assert provider.sent == []
    assert outbox.statuses() == ["failed", "failed"]
    assert [outbox.rows[i].error_code for i in (1, 2)] == [OPTED_OUT, OPTED_OUT]
    assert opted_out.asked == ["6281"]  # the second part only: the first was screened

    opted_out.numbers.clear()
    opted_out.asked.clear()
    outbox.add(2)
    assert await deliver(1, recipient="6281") == 2
    assert provider.sent == ["part 0", "part 1"]
    assert opted_out.asked == ["6281"]
    # A run told another number screens that one; its messages' number is asked as before.
    outbox.add(1)
    opted_out.asked.clear()
    assert await deliver(1, recipient="6289") == 1
    assert opted_out.asked == ["6281"]
