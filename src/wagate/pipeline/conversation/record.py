"""How a run ends: its outcome, written in one transaction with its drafts and turns, and
audited as facts. Every step hands its drafts here; none of them writes a run itself."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from wagate.domain.audit import AuditEvent, AuditTrail
from wagate.pipeline.ports import (
    Burst,
    ConversationStore,
    DueMessages,
    DueRead,
    OutboundDraft,
    ReplyRecord,
    RunInsight,
    RunRecord,
)


class Outcome(StrEnum):
    NOTHING_TO_DO = "nothing_to_do"
    WAITING = "waiting"  # burst not settled yet: the job re-queued itself for later
    UNLINKED = "unlinked"  # identity policy said no: at most a link notice went out
    NO_QUESTION = "no_question"  # nothing for the AI: notices only (or nothing)
    ANSWERED = "answered"
    RETRY = "retry"  # the AI failed: apology sent once, the burst retried later
    HELD = "held"  # review kept the answer as a draft: nothing of it sent
    HANDED_OVER = "handed_over"  # review handed the question to a human
    URGENT = "urgent"  # a red message: the holding reply went out, a human has the conversation
    HELD_BY_HUMAN = "held_by_human"  # a human holds the conversation: recorded, not answered
    CASE_INTAKE = "case_intake"  # Flow completions kept as case intakes and confirmed (FL1)
    INTAKE_INVITED = "intake_invited"  # the intake keyword: the Flow went out, nothing else


def answering(burst: Burst, drafts: Sequence[OutboundDraft]) -> list[OutboundDraft]:
    """The drafts, the first carrying when the burst's latest message was received: the
    response time runs from there to the provider's acceptance of the first thing the person
    gets back. Only a finished run marks one (an apology before a retry does not: the answer
    after the retry is the response, however long the AI was away)."""
    if not drafts or not burst.messages:
        return list(drafts)
    first = replace(drafts[0], inbound_received_at=max(m.received_at for m in burst.messages))
    return [first, *drafts[1:]]


def notice(burst: Burst, name: str, text: str) -> OutboundDraft:
    """A message the gateway sends on its own behalf, keyed on the run: once per burst."""
    return OutboundDraft(idempotency_key=f"{burst.run_key}:{name}", text=text, kind="notice")


@dataclass(frozen=True, slots=True, kw_only=True)
class Turns:
    """What a run adds to its session's history."""

    session_id: int
    session_opened_at: datetime | None = None  # a new session, stored with the turns
    user: str
    assistant: str | None = None
    disclosed: bool = False  # the answer carries the AI disclosure (recorded on the session)


@dataclass(kw_only=True)
class RunRecorder:
    store: ConversationStore
    clock: Callable[[], datetime]
    audit: AuditTrail | None = None
    # The delivery's opening read for a run's burst, for its finishing transaction to carry
    # (issue 18); None: not asked. Its answer waits in `_due` for `take_due`, by
    # conversation (one run of a conversation at a time: the queue's lock).
    due_read: Callable[[Burst], DueRead | None] | None = None
    _due: dict[int, DueMessages] = field(default_factory=dict)

    def take_due(self, conversation_id: int) -> DueMessages | None:
        """The delivery's opening read made by the conversation's run's finish (once; None:
        not made). The run's caller takes it whatever became of the run (`Converse`), so none
        outlives its run."""
        return self._due.pop(conversation_id, None)

    async def finish(
        self,
        burst: Burst,
        outcome: Outcome,
        started: datetime,
        drafts: Sequence[OutboundDraft],
        *,
        turns: Turns | None = None,
        facts: dict[str, object] | None = None,
        marked_read: bool = False,
        insight: RunInsight | None = None,
    ) -> None:
        """The burst is processed: drafts, turns, the run and its audit events in one
        transaction (the events after it when the store could not carry them)."""
        # A read stored by an earlier step of this run (a settled form) is stale once this
        # transaction writes more drafts: this one's read replaces it, or none is kept.
        self._due.pop(burst.conversation_id, None)
        events = self._events(burst, outcome, drafts, facts or {})
        at = self.clock()
        due_read = self.due_read(burst) if self.due_read is not None else None
        audited = await self.store.finish(
            ReplyRecord(
                run=self._run(burst, outcome, started, marked_read=marked_read, insight=insight),
                run_key=burst.run_key,
                recipient=burst.recipient,
                drafts=answering(burst, drafts),
                session_id=turns.session_id if turns else None,
                session_opened_at=turns.session_opened_at if turns else None,
                user_turn=turns.user if turns else None,
                assistant_turn=turns.assistant if turns else None,
                disclosed=turns.disclosed if turns else False,
                audit=events,
                audit_at=at,
                due_read=due_read,
            )
        )
        if due_read is not None and due_read.found is not None:
            self._due[burst.conversation_id] = due_read.found
        if events and not audited and self.audit is not None:
            await self.audit.record_many(events, at=at)

    async def keep_for_retry(
        self, burst: Burst, drafts: Sequence[OutboundDraft], *, error: str, started: datetime
    ) -> None:
        """The drafts go out (the apology), the burst stays unprocessed for the next try."""
        # No delivery read rides here: one kept from an earlier step would not list the
        # apology, so delivery reads afresh.
        self._due.pop(burst.conversation_id, None)
        await self.store.finish(
            ReplyRecord(
                run=self._run(burst, Outcome.RETRY, started, processed=False, error=error),
                run_key=burst.run_key,
                recipient=burst.recipient,
                drafts=drafts,
            )
        )

    def _run(
        self,
        burst: Burst,
        outcome: Outcome,
        started: datetime,
        *,
        processed: bool = True,
        error: str | None = None,
        marked_read: bool = False,
        insight: RunInsight | None = None,
    ) -> RunRecord:
        return RunRecord(
            conversation_id=burst.conversation_id,
            message_ids=[m.id for m in burst.messages] if processed else [],
            started_at=started,
            finished_at=self.clock(),
            last_message_id=burst.messages[-1].provider_message_id,
            marked_read=marked_read,
            outcome=outcome.value,
            error=error,
            insight=insight,
        )

    def _events(
        self,
        burst: Burst,
        outcome: Outcome,
        drafts: Sequence[OutboundDraft],
        facts: dict[str, object],
    ) -> list[AuditEvent]:
        """CP3: what arrived and what was decided, as facts (ids, counts, kinds, models)
        — never text. One batch per run keeps the chain's lock short."""
        if self.audit is None:
            return []
        subject = f"conversation:{burst.conversation_id}"
        events = [
            AuditEvent(
                action="message.received",
                actor="worker",
                subject=subject,
                details={"message": m.id, "kind": m.kind},
            )
            for m in burst.messages
        ]
        events.append(
            AuditEvent(
                action=f"run.{outcome.value}",
                actor="worker",
                subject=subject,
                details={
                    "messages": len(burst.messages),
                    "notices": [d.kind for d in drafts if d.kind != "reply"],
                    "reply_parts": sum(d.kind == "reply" for d in drafts),
                    **facts,
                },
            )
        )
        return events
