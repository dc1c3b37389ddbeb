"""Case intake (FL1, seed 000): a completed WhatsApp Flow becomes an intake record for a
lawyer; the intake keyword (INTAKE_KEYWORD, `DAFTAR`) asks for the Flow.

Two halves, run by `Converse`:

* `settle`, first thing in a run, before who is writing and consent: the burst's Flow
  completions become intakes — parsed (`domain/case_intake`), stored sealed, one per
  completion whatever is redelivered or retried — each confirmed to the person once (the
  confirmation is keyed on the intake), audited (ids and problem codes only), handed to on-duty
  staff as an alert, and counted. They are recorded as a run of their own and never reach the
  AI; the rest of the burst goes on as usual. A completion is the person's deliberate answer
  to a form the firm sent them (by keyword after consent, or by an operator), so it is kept
  whatever the identity policy: dropping it would lose a case. A malformed or incomplete one
  is kept too, with its problems, and the person is told it will be followed up.
* `invite`, after consent: a message that is the keyword becomes the Flow message (a text
  naming the keyword where the Flow cannot go) instead of a question for the AI — only where
  the tenant has a Flow (INTAKE_FLOW_ID) and the channel's provider sends Flows; elsewhere the
  keyword is an ordinary message.

Why an alert rather than a review draft: a draft is an AI answer a lawyer approves before it
is sent; an intake has no answer to approve. What a lawyer must do is look at it, so on-duty
staff are alerted (URGENT_NOTIFY_EMAILS, once per intake) and the intake waits as `new` in the
console and `GET /api/intakes` until a lawyer marks it reviewed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import structlog

from wagate.domain.audit import AuditEvent, AuditTrail
from wagate.domain.case_intake import (
    CONFIRMATION_KIND,
    FLOW_KIND,
    IntakeFlow,
    ParsedIntake,
    parse_flow_reply,
)
from wagate.pipeline.conversation.record import Outcome, RunRecorder
from wagate.pipeline.ports import (
    Burst,
    CaseIntakeStore,
    NewIntake,
    OutboundDraft,
    PendingMessage,
    ProviderDirectory,
    StaffAlert,
    StaffAlerts,
)

log = structlog.get_logger(__name__)

ALERT_KIND = "case_intake"


@dataclass(kw_only=True)
class CaseIntakeStep:
    store: CaseIntakeStore
    flow: IntakeFlow
    providers: ProviderDirectory
    clock: Callable[[], datetime]
    audit: AuditTrail | None = None
    alerts: StaffAlerts | None = None
    # `whatsapp_intake_total` where metrics are wired: called once per new intake.
    counted: Callable[[], None] | None = None

    async def settle(self, burst: Burst, now: datetime, record: RunRecorder) -> Burst | None:
        """Turn the burst's Flow completions into intakes (a run of their own); the rest of
        the burst, or None when nothing else is left."""
        completions = [m for m in burst.messages if m.flow_completion]
        if not completions:
            return burst
        drafts: list[OutboundDraft] = []
        intakes: list[int] = []
        incomplete = 0
        for message in completions:
            parsed = parse_flow_reply(message.flow_response)
            stored = await self.store.record(
                NewIntake(
                    conversation_id=burst.conversation_id,
                    provider=burst.provider,
                    provider_message_id=message.provider_message_id,
                    received_at=message.received_at,
                    parsed=parsed,
                )
            )
            intakes.append(stored.id)
            incomplete += not parsed.complete
            drafts.append(
                OutboundDraft(
                    idempotency_key=f"intake:{stored.id}:confirmed",
                    text=self.flow.confirmation(stored.id, complete=parsed.complete),
                    kind=CONFIRMATION_KIND,
                )
            )
            if stored.created:
                await self._new(burst, message, stored.id, parsed)
            # Keyed on the intake: a retried run raises it again and it is sent once.
            await self._alert(burst, stored.id, parsed)
        await record.finish(
            replace(burst, messages=completions),
            Outcome.CASE_INTAKE,
            now,
            drafts,
            facts={"case_intakes": intakes, "incomplete": incomplete},
        )
        rest = [m for m in burst.messages if not m.flow_completion]
        return replace(burst, messages=rest) if rest else None

    def invite(
        self, burst: Burst, messages: Sequence[PendingMessage]
    ) -> tuple[list[PendingMessage], list[OutboundDraft]]:
        """The messages left for the AI, and the Flow message if one of them asked for it."""
        asking = [m for m in messages if self.flow.asks_for_it(m.text)]
        if not asking or not self.flow.enabled:
            return list(messages), []
        provider = self.providers.get(burst.provider, burst.channel_id)
        if provider is None or not provider.capabilities.flows:
            return list(messages), []
        key = f"{burst.run_key}:{FLOW_KIND}"
        draft = OutboundDraft(
            idempotency_key=key,
            text=self.flow.fallback_text(),
            kind=FLOW_KIND,
            flow=self.flow.invitation(key).as_json(),
        )
        log.info("case_intake.invited", conversation_id=burst.conversation_id)
        return [m for m in messages if m not in asking], [draft]

    async def _new(
        self, burst: Burst, message: PendingMessage, intake_id: int, parsed: ParsedIntake
    ) -> None:
        """Once per intake: the audit record and the count."""
        if self.audit is not None:
            await self.audit.record(
                AuditEvent(
                    action="case_intake.created",
                    actor="worker",
                    subject=f"case_intake:{intake_id}",
                    details={
                        "conversation": burst.conversation_id,
                        "message": message.id,
                        "complete": parsed.complete,
                        "documents": len(parsed.documents),
                        "problems": list(parsed.problems),
                    },
                ),
                at=self.clock(),
            )
        if self.counted is not None:
            self.counted()
        log.info(
            "case_intake.created",
            conversation_id=burst.conversation_id,
            intake_id=intake_id,
            complete=parsed.complete,
            problems=list(parsed.problems),
        )

    async def _alert(self, burst: Burst, intake_id: int, parsed: ParsedIntake) -> None:
        """On-duty staff learn of the intake by its number (no name, no case type)."""
        if self.alerts is None:
            return
        state = "complete" if parsed.complete else f"{len(parsed.problems)} problem(s)"
        try:
            await self.alerts.alert(
                StaffAlert(
                    kind=ALERT_KIND,
                    key=f"{ALERT_KIND}:{intake_id}",
                    conversation_id=burst.conversation_id,
                    summary=f"New case intake #{intake_id} in conversation "
                    f"{burst.conversation_id} ({state}, {len(parsed.documents)} document(s))",
                )
            )
        except Exception as exc:  # the confirmation must not wait for the mail server
            log.error(
                "case_intake.alert_failed",
                conversation_id=burst.conversation_id,
                error_type=type(exc).__name__,
            )
