"""The conversation job: a settled burst becomes one answer (ID2, SE1–SE4, AI1–AI9, CP1–CP4).

burst (provider-timestamp order) → debounce → the steps, in order:

  0. case intake (FL1)    conversation/case_intake.py Flow completions become intakes (a run
                                                   of their own), confirmed; never to the AI
  1. who is writing       conversation/who.py      identity policy; link notice
  2. consent              conversation/consent.py  keywords, evidence; nothing to the AI before
     (the intake keyword: the Flow message instead of a question, conversation/case_intake.py)
  3. triage and policy    conversation/triage.py   rate limit, over-long, non-text notices
     (the session and its history)
  3b. zones (AI7)         conversation/zones.py    green / yellow / red; red: the holding reply,
                                                   a human, an alert — no knowledge, no AI;
                                                   then a conversation a human holds stops here
     (mark read + typing)
  4. context, retrieval   conversation/context.py  system prompt + context sources
                          conversation/knowledge.py the firm's passages; strict decline
  5. assistant            conversation/assistant.py mask → model → unmask; apology + retry
  6. review               conversation/review.py   send now / hold as a draft for a lawyer
                                                   (the person gets the acknowledgement)
  7. compose              conversation/compose.py  disclosure, formatting, disclaimer, parts

→ one transaction (turns, outbound drafts, processed marks, run: conversation/record.py)
→ delivery.

A run is keyed on its burst (`Burst.run_key`), so a retry after a crash writes the same turns
and the same outbound rows, never new ones: the user is answered once.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from wagate.domain.assistant_port import Assistant
from wagate.domain.audit import AuditTrail
from wagate.domain.conversation import DebouncePolicy, Notices
from wagate.domain.identity import IdentityPolicy
from wagate.domain.media import MediaLimits
from wagate.domain.privacy.recognizers import Recognizer
from wagate.domain.retry import BackoffPolicy
from wagate.domain.review import DEFAULT_URGENT_TEXT
from wagate.domain.zones import Zone, ZoneCall
from wagate.pipeline.conversation.assistant import ApologiseAndRetry, AskAssistant, Unavailable
from wagate.pipeline.conversation.case_intake import CaseIntakeStep
from wagate.pipeline.conversation.compose import Compose
from wagate.pipeline.conversation.consent import ConsentGate
from wagate.pipeline.conversation.context import BuildPrompt, ContextHook, HookSource
from wagate.pipeline.conversation.knowledge import (
    NOTHING,
    ConsultKnowledge,
    KnowledgePolicy,
    Retrieval,
    with_sources,
)
from wagate.pipeline.conversation.presence import ShowTyping
from wagate.pipeline.conversation.record import Outcome, RunRecorder, Turns, notice
from wagate.pipeline.conversation.review import (
    Review,
    ReviewCase,
    SendEverything,
    Verdict,
    sources_of,
)
from wagate.pipeline.conversation.triage import TriageStep
from wagate.pipeline.conversation.who import WhoIsWriting
from wagate.pipeline.conversation.zones import SortIntoZones
from wagate.pipeline.deliver import Deliver
from wagate.pipeline.metrics import UNMEASURED, Metrics
from wagate.pipeline.ports import (
    Burst,
    ConversationStore,
    Handover,
    Identity,
    IdentityStore,
    KnowledgeSearch,
    OutboundDraft,
    PendingMessage,
    ProviderDirectory,
    RunInsight,
    Session,
    SessionStore,
    StaffAlert,
    StaffAlerts,
    TurnImages,
    VaultStore,
    ZoneTriage,
)

__all__ = ["ContextHook", "Converse", "ConversePolicy", "KnowledgePolicy", "Outcome"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversePolicy:
    identity: IdentityPolicy = IdentityPolicy.OPEN
    max_chars: int = 1000
    rate_limit: int = 10
    session_timeout: timedelta = timedelta(minutes=30)
    history_turns: int = 20
    system_prompt: str = ""
    notices: Notices = field(default_factory=Notices)
    knowledge: KnowledgePolicy = field(default_factory=KnowledgePolicy)
    urgent_text: str = DEFAULT_URGENT_TEXT  # URGENT_HOLDING_TEXT: a red message's only reply
    media_limits: MediaLimits = field(default_factory=MediaLimits)  # for the notices' numbers


# A burst with a file still being fetched waits for it; the fetch brings the job forward when
# it settles, so this is only the safety net of a lost wake-up.
MEDIA_RECHECK = timedelta(seconds=30)


@dataclass(kw_only=True)
class Converse:
    store: ConversationStore
    identities: IdentityStore
    sessions: SessionStore
    assistant: Assistant
    vaults: VaultStore
    deliver: Deliver
    providers: ProviderDirectory
    debounce: DebouncePolicy
    backoff: BackoffPolicy
    policy: ConversePolicy
    clock: Callable[[], datetime]
    context_hook: ContextHook | None = None
    audit: AuditTrail | None = None
    consent: ConsentGate | None = None  # wiring always sets it (opt-out only without consent)
    jitter: Callable[[], float] = field(default=random.random)
    review: Review = field(default_factory=SendEverything)
    pii_stages: Sequence[Recognizer] = ()  # optional recognisers beside the built-in ones
    knowledge: KnowledgeSearch | None = None  # the tenant's knowledge base, when it has one
    # The lawyer in the loop (AI7): triage into zones (None: every question is green), the
    # conversations humans hold (None: none), and on-duty staff (None: nobody to alert).
    zone_triage: ZoneTriage | None = None
    handover: Handover | None = None
    alerts: StaffAlerts | None = None
    metrics: Metrics = UNMEASURED
    case_intakes: CaseIntakeStep | None = None  # WhatsApp Flow intake (FL1); None: not wired
    # Photos for a vision-capable model (AI_VISION_MODEL); None: vision off, photos are read
    # through their OCR text only.
    images: TurnImages | None = None

    def __post_init__(self) -> None:
        notices = self.policy.notices
        self.record = RunRecorder(
            store=self.store,
            clock=self.clock,
            audit=self.audit,
            # The delivery's opening read rides in the run's finishing transaction.
            due_read=lambda burst: self.deliver.due_read(
                burst.conversation_id, recipient=burst.recipient
            ),
        )
        self.who = WhoIsWriting(
            identities=self.identities, policy=self.policy.identity, notices=notices
        )
        self.triage = TriageStep(
            store=self.store,
            identities=self.identities,
            notices=notices,
            max_chars=self.policy.max_chars,
            rate_limit=self.policy.rate_limit,
            media_limits=self.policy.media_limits,
            vision=self.images is not None,
        )
        self.typing = ShowTyping(providers=self.providers)
        self.prompt = BuildPrompt(
            system_prompt=self.policy.system_prompt,
            history_turns=self.policy.history_turns,
            sources=[HookSource(hook=self.context_hook)] if self.context_hook else [],
        )
        self.consult = (
            ConsultKnowledge(knowledge=self.knowledge, policy=self.policy.knowledge)
            if self.knowledge is not None
            else None
        )
        self.ask = AskAssistant(
            assistant=self.assistant,
            vaults=self.vaults,
            stages=self.pii_stages,
            metrics=self.metrics,
        )
        self.retry = ApologiseAndRetry(
            store=self.store,
            recorder=self.record,
            backoff=self.backoff,
            notices=notices,
            clock=self.clock,
            jitter=self.jitter,
        )
        self.compose = Compose(notices=notices)
        self.zones = SortIntoZones(triage=self.zone_triage)

    async def __call__(self, conversation_id: int, *, attempt: int = 0) -> Outcome:
        # With the opening reads (identity, hold, session, vault): one round trip for all.
        # A new session's id is drawn there too, when the latest session has expired.
        burst = await self.store.load_burst(
            conversation_id,
            history=self.policy.history_turns,
            session_fresh_since=self.clock() - self.policy.session_timeout,
        )
        try:
            outcome = await self._settle(conversation_id, burst, attempt)
        finally:
            self.record.take_due(conversation_id)  # read for this run only: never kept
        if burst is not None and burst.failing:
            # Went through: earlier failed runs no longer count towards a dead letter (OU3).
            await self.store.clear_failures(conversation_id)
        return outcome

    async def _settle(self, conversation_id: int, burst: Burst | None, attempt: int) -> Outcome:
        if burst is None or not burst.messages:
            await self.deliver(conversation_id)  # left-over deliveries, if any
            return Outcome.NOTHING_TO_DO
        now = self.clock()
        wait = self.debounce.wait_until(
            now=now,
            first_arrival=min(m.received_at for m in burst.messages),
            last_arrival=max(m.received_at for m in burst.messages),
        )
        if wait is None and any(m.media == "pending" for m in burst.messages):
            # A file of the burst is still being fetched (MD1): the answer waits for it, so it
            # is written once, knowing what became of the file.
            wait = now + MEDIA_RECHECK
        if wait is not None:
            await self.store.defer(conversation_id, run_at=wait, attempt=attempt)
            return Outcome.WAITING
        if attempt == 0:  # a retry after the AI failed is the same burst again
            self.metrics.burst(messages=len(burst.messages))
        if self.case_intakes is not None:
            rest = await self.case_intakes.settle(burst, now, self.record)
            if rest is None:  # nothing but Flow completions: kept, confirmed, done
                await self.deliver(conversation_id)
                return Outcome.CASE_INTAKE
            burst = rest
        outcome = await self._run(burst, now, attempt)
        # The run's replies go to its sender: their opt-out check is read with them, in the
        # run's finishing transaction when it could carry the read.
        await self.deliver(
            conversation_id,
            recipient=burst.recipient,
            due=self.record.take_due(conversation_id),
        )
        return outcome

    async def _run(self, burst: Burst, now: datetime, attempt: int) -> Outcome:
        writer = await self.who(burst, now)
        if not writer.may_converse:
            await self.record.finish(burst, Outcome.UNLINKED, now, writer.notices)
            log.info(
                "converse.unlinked",
                conversation_id=burst.conversation_id,
                notified=bool(writer.notices),
            )
            return Outcome.UNLINKED
        messages: Sequence[PendingMessage] = burst.messages
        drafts: list[OutboundDraft] = []
        if self.consent is not None:
            messages, drafts = await self.consent.apply(burst, writer.identity, now, notice)
        if self.case_intakes is not None:
            messages, invitation = self.case_intakes.invite(burst, messages)
            drafts.extend(invitation)
            if invitation and not messages:
                await self.record.finish(burst, Outcome.INTAKE_INVITED, now, drafts)
                return Outcome.INTAKE_INVITED
        if not messages:
            await self.record.finish(burst, Outcome.NO_QUESTION, now, drafts)
            return Outcome.NO_QUESTION
        return await self._answer(burst, writer.identity, now, attempt, messages, drafts)

    async def _answer(
        self,
        burst: Burst,
        identity: Identity,
        now: datetime,
        attempt: int,
        messages: Sequence[PendingMessage],
        drafts: list[OutboundDraft],
    ) -> Outcome:
        triaged = await self.triage(burst, identity, messages, now)
        drafts.extend(triaged.notices)
        if triaged.question is None:
            if triaged.sorted.too_long:
                # Refused as too long, but read: the notice says so, the receipt shows it.
                await self.typing.read(burst)
            await self.record.finish(burst, Outcome.NO_QUESTION, now, drafts)
            return Outcome.NO_QUESTION
        session = await self.sessions.current(
            burst.conversation_id,
            now=now,
            idle_timeout=self.policy.session_timeout,
            history=self.policy.history_turns,
            opening=burst.opening,
        )
        # Red first, even in a conversation a human holds: the danger is now (the human may
        # not be looking), and a run retried after its own hand-over must still send the
        # holding reply.
        held = self.handover is not None and await self.handover.held_by_human(
            burst.conversation_id, now=now, opening=burst.opening
        )
        zone = await self.zones(triaged.question, session.history, ask_model=not held)
        if zone.zone is Zone.RED:
            marked_read = await self.typing(burst)
            return await self._urgent(
                burst, now, drafts, session, triaged.question, marked_read, zone
            )
        # A human holds it: not even marked read (the human reads it, in their own time).
        if held:
            return await self._held_by_human(burst, now, drafts, session, triaged.question)
        marked_read = await self.typing(burst)
        # The knowledge base is searched with the person's own words (a document they sent
        # is read by the AI, not searched with); only a file's text when they wrote nothing.
        query = triaged.own_words or triaged.question[:500]
        retrieval = await self.consult(query, session.history) if self.consult else NOTHING
        if retrieval.declined:
            return await self._decline(
                burst, now, drafts, session, triaged.question, marked_read, zone.zone.value
            )
        prompt = await self.prompt(identity, session.history, triaged.question, retrieval.passages)
        photos = 0
        if self.images is not None and triaged.sorted.images:
            # Only here, past the red check and a human's hold: a photo leaves unmasked, so
            # it goes only with a turn the AI answers anyway.
            images = tuple(await self.images.images(triaged.sorted.images))
            photos = len(images)
            if images:
                prompt = [*prompt[:-1], dataclasses.replace(prompt[-1], images=images)]
        answer = await self.ask(burst, identity, prompt)
        if isinstance(answer, Unavailable):
            await self.retry(burst, drafts, attempt, answer)
            return Outcome.RETRY
        text = with_sources(answer.text, retrieval)
        decision = await self.review(
            ReviewCase(
                conversation_id=burst.conversation_id,
                run_key=burst.run_key,
                account=identity.account,
                question=triaged.question,
                answer=text,
                model=answer.model,
                zone=zone.zone,
                rules=zone.rules,
                masked_question=answer.masked_question,
                masked_answer=with_sources(answer.masked_text, retrieval)
                if answer.masked_text
                else "",
                sources=sources_of(retrieval.passages),
                session_id=session.id,
                session_opened_at=session.opened_at,
            )
        )
        facts: dict[str, object] = {
            "ai_model": answer.model,
            "ai_attempts": answer.attempts,
            "masked": True,
            "pii_placeholders": answer.placeholders,
            "for_ai": len(triaged.sorted.for_ai),
            "rate_limited": len(triaged.sorted.rate_limited),
            "review": decision.verdict.value,
            **_vision_facts(photos, len(triaged.sorted.withheld)),
            **_zone_facts(zone),
            **_knowledge_facts(retrieval),
        }
        insight = RunInsight(
            zone=zone.zone.value,
            rules=tuple(zone.rules),
            masked_question=answer.masked_question,
            masked_answer=with_sources(answer.masked_text, retrieval) if answer.masked_text else "",
            sources=tuple(s.as_json() for s in sources_of(retrieval.passages)),
            model=answer.model,
            review=decision.verdict.value,
        )
        if decision.verdict is not Verdict.SEND:
            facts["reason"] = decision.reason
            if decision.draft_id is not None:
                facts["draft"] = decision.draft_id
            if decision.notice:
                drafts.append(notice(burst, "review_ack", decision.notice))
            return await self._not_sent(
                burst,
                now,
                drafts,
                decision.verdict,
                facts,
                turns=Turns(
                    session_id=session.id,
                    session_opened_at=session.opened_at,
                    user=triaged.question,
                ),
                marked_read=marked_read,
                insight=insight,
            )
        composed = self.compose(burst, text, session_disclosed=session.disclosed)
        drafts.extend(composed.parts)
        await self.record.finish(
            burst,
            Outcome.ANSWERED,
            now,
            drafts,
            turns=Turns(
                session_id=session.id,
                session_opened_at=session.opened_at,
                user=triaged.question,
                assistant=text,
                disclosed=composed.disclosed,
            ),
            marked_read=marked_read,
            facts=facts,
            insight=insight,
        )
        log.info(
            "converse.answered",
            conversation_id=burst.conversation_id,
            messages=len(burst.messages),
            parts=len(composed.parts),
            model=answer.model,
            history=len(session.history),
        )
        return Outcome.ANSWERED

    async def _decline(
        self,
        burst: Burst,
        now: datetime,
        drafts: list[OutboundDraft],
        session: Session,
        question: str,
        marked_read: bool,
        zone: str,
    ) -> Outcome:
        """Strict knowledge base, nothing relevant: the decline (and the offer of a lawyer)
        goes out as the answer, framed like one; no model was asked, so nothing can be made
        up."""
        decline = self.policy.knowledge.decline_text
        composed = self.compose(burst, decline, session_disclosed=session.disclosed)
        drafts.extend(composed.parts)
        await self.record.finish(
            burst,
            Outcome.ANSWERED,
            now,
            drafts,
            turns=Turns(
                session_id=session.id,
                session_opened_at=session.opened_at,
                user=question,
                assistant=decline,
                disclosed=composed.disclosed,
            ),
            marked_read=marked_read,
            facts={"knowledge": "declined", "knowledge_passages": 0},
            insight=RunInsight(zone=zone, knowledge="declined"),
        )
        log.info("converse.knowledge_declined", conversation_id=burst.conversation_id)
        return Outcome.ANSWERED

    async def _urgent(
        self,
        burst: Burst,
        now: datetime,
        drafts: list[OutboundDraft],
        session: Session,
        question: str,
        marked_read: bool,
        zone: ZoneCall,
    ) -> Outcome:
        """Red (danger now): no knowledge search, no AI. The conversation goes to a human,
        on-duty staff are alerted, the person gets the holding reply with the emergency
        numbers (a notice: no disclaimer). Every effect is keyed on the run, so a retried run
        hands over, alerts and replies once."""
        rules = ",".join(zone.rules) or zone.source
        if self.handover is not None:
            await self.handover.hand_to_human(burst.conversation_id, reason=f"red:{rules}", now=now)
        if self.alerts is not None:
            try:
                await self.alerts.alert(
                    StaffAlert(
                        kind="urgent",
                        key=f"urgent:{burst.run_key}",
                        conversation_id=burst.conversation_id,
                        summary=f"Urgent (red) message in conversation {burst.conversation_id}"
                        f" (rules: {rules})",
                    )
                )
            except Exception as exc:  # the holding reply must not wait for the mail server
                log.error(
                    "converse.urgent_alert_failed",
                    conversation_id=burst.conversation_id,
                    error_type=type(exc).__name__,
                )
        drafts.append(notice(burst, "urgent", self.policy.urgent_text))
        await self.record.finish(
            burst,
            Outcome.URGENT,
            now,
            drafts,
            turns=Turns(session_id=session.id, session_opened_at=session.opened_at, user=question),
            marked_read=marked_read,
            facts={**_zone_facts(zone), "handed_over": self.handover is not None},
            insight=RunInsight(zone=zone.zone.value, rules=tuple(zone.rules), review="urgent"),
        )
        log.warning(
            "converse.urgent", conversation_id=burst.conversation_id, rules=list(zone.rules)
        )
        return Outcome.URGENT

    async def _held_by_human(
        self,
        burst: Burst,
        now: datetime,
        drafts: list[OutboundDraft],
        session: Session,
        question: str,
    ) -> Outcome:
        """A human holds the conversation (taken over, or handed over after a red message):
        the AI stays silent; the message joins the history the human reads."""
        await self.record.finish(
            burst,
            Outcome.HELD_BY_HUMAN,
            now,
            drafts,
            turns=Turns(session_id=session.id, session_opened_at=session.opened_at, user=question),
            facts={"held_by_human": True, "for_human": len(burst.messages)},
        )
        log.info("converse.held_by_human", conversation_id=burst.conversation_id)
        return Outcome.HELD_BY_HUMAN

    async def _not_sent(
        self,
        burst: Burst,
        now: datetime,
        drafts: list[OutboundDraft],
        verdict: Verdict,
        facts: dict[str, object],
        *,
        turns: Turns | None = None,
        marked_read: bool = False,
        insight: RunInsight | None = None,
    ) -> Outcome:
        """Review kept the answer (held, or handed to a human): the burst is processed, its
        notices go out (the acknowledgement), nothing of the answer does; the reviewer holds
        the case."""
        outcome = Outcome.HELD if verdict is Verdict.HOLD else Outcome.HANDED_OVER
        await self.record.finish(
            burst,
            outcome,
            now,
            drafts,
            facts=facts,
            turns=turns,
            marked_read=marked_read,
            insight=insight,
        )
        log.info("converse.reviewed", conversation_id=burst.conversation_id, verdict=verdict)
        return outcome


def _zone_facts(zone: ZoneCall) -> dict[str, object]:
    """For the run's audit record: the zone and the rules' names (never the text)."""
    return {"zone": zone.zone.value, "zone_rules": list(zone.rules), "zone_source": zone.source}


def _vision_facts(photos: int, withheld: int) -> dict[str, object]:
    """For the run's audit record: how many photos the vision model saw, and how many were
    kept from it as identity documents (counts only)."""
    facts: dict[str, object] = {}
    if photos:
        facts["vision_images"] = photos
    if withheld:
        facts["vision_withheld"] = withheld
    return facts


def _knowledge_facts(retrieval: Retrieval) -> dict[str, object]:
    """For the run's audit record: how many passages and from which documents (ids only)."""
    if not retrieval.passages:
        return {}
    documents = list(dict.fromkeys(p.document_id for p in retrieval.passages))
    return {"knowledge_passages": len(retrieval.passages), "knowledge_documents": documents}
