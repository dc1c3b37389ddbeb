"""The conversation job: a settled burst becomes one answer (ID2, SE1–SE4, AI1–AI5, AI8, AI9).

burst (provider-timestamp order) → debounce → identity → triage (rate, length, kind)
  → mark read + typing → session history → assistant → format and split → one transaction
  (turns, outbound drafts, processed marks, run) → delivery.

A run is keyed on its burst (`Burst.run_key`), so a retry after a crash writes the same turns
and the same outbound rows, never new ones: the user is answered once.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import structlog

from wagate.assistants.base import Assistant
from wagate.domain.audit import AuditEvent, AuditTrail
from wagate.domain.chat import AssistantUnavailable, ChatTurn, Role
from wagate.domain.conversation import DebouncePolicy, Notices
from wagate.domain.errors import SendError
from wagate.domain.formatting import split_message, to_whatsapp
from wagate.domain.identity import IdentityPolicy, link_notice_due, may_converse
from wagate.domain.policy import RATE_WINDOW, BurstMessage, triage
from wagate.domain.privacy.masking import mask, unmask
from wagate.domain.privacy.vault import PlaceholderVault
from wagate.domain.retry import BackoffPolicy
from wagate.pipeline.consent_gate import ConsentGate
from wagate.pipeline.deliver import Deliver
from wagate.pipeline.ports import (
    Burst,
    ConversationStore,
    Identity,
    IdentityStore,
    OutboundDraft,
    PendingMessage,
    ProviderDirectory,
    ReplyRecord,
    RunRecord,
    SessionStore,
    VaultStore,
)

log = structlog.get_logger(__name__)

# account id → extra context for the system prompt (AI8); None when there is nothing to add.
ContextHook = Callable[[int], Awaitable[str | None]]


class Outcome(StrEnum):
    NOTHING_TO_DO = "nothing_to_do"
    WAITING = "waiting"  # burst not settled yet: the job re-queued itself for later
    UNLINKED = "unlinked"  # identity policy said no: at most a link notice went out
    NO_QUESTION = "no_question"  # nothing for the AI: notices only (or nothing)
    ANSWERED = "answered"
    RETRY = "retry"  # the AI failed: apology sent once, the burst retried later


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversePolicy:
    identity: IdentityPolicy = IdentityPolicy.OPEN
    max_chars: int = 1000
    rate_limit: int = 10
    session_timeout: timedelta = timedelta(minutes=30)
    history_turns: int = 20
    system_prompt: str = ""
    notices: Notices = field(default_factory=Notices)


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
    consent: ConsentGate | None = None  # set when CONSENT_REQUIRED
    jitter: Callable[[], float] = field(default=random.random)

    async def __call__(self, conversation_id: int, *, attempt: int = 0) -> Outcome:
        burst = await self.store.load_burst(conversation_id)
        if burst is None or not burst.messages:
            await self.deliver(conversation_id)  # left-over deliveries, if any
            return Outcome.NOTHING_TO_DO
        now = self.clock()
        wait = self.debounce.wait_until(
            now=now,
            first_arrival=min(m.received_at for m in burst.messages),
            last_arrival=max(m.received_at for m in burst.messages),
        )
        if wait is not None:
            await self.store.defer(conversation_id, run_at=wait, attempt=attempt)
            return Outcome.WAITING

        identity = await self.identities.resolve(
            burst, create_account=self.policy.identity is IdentityPolicy.OPEN
        )
        if not may_converse(self.policy.identity, identity.account):
            return await self._unlinked(burst, identity, now)
        messages: Sequence[PendingMessage] = burst.messages
        drafts: list[OutboundDraft] = []
        if self.consent is not None:
            messages, drafts = await self.consent.apply(burst, identity, now, self._notice)
        if messages:
            outcome = await self._answer(burst, identity, now, attempt, messages, drafts)
        else:
            await self._finish(burst, Outcome.NO_QUESTION, now, drafts)
            outcome = Outcome.NO_QUESTION
        await self.deliver(conversation_id)
        return outcome

    async def _unlinked(self, burst: Burst, identity: Identity, now: datetime) -> Outcome:
        drafts = []
        if link_notice_due(identity.link_notice_at, now):
            drafts.append(self._notice(burst, "link_first", self.policy.notices.link_first))
            await self.identities.mark_notice(identity.contact_id, kind="link", at=now)
        await self._finish(burst, Outcome.UNLINKED, now, drafts)
        await self.deliver(burst.conversation_id)
        log.info("converse.unlinked", conversation_id=burst.conversation_id, notified=bool(drafts))
        return Outcome.UNLINKED

    async def _answer(
        self,
        burst: Burst,
        identity: Identity,
        now: datetime,
        attempt: int,
        messages: Sequence[PendingMessage],
        drafts: list[OutboundDraft],
    ) -> Outcome:
        notices = self.policy.notices
        earlier = await self.store.earlier_arrivals(
            burst.conversation_id, before=burst.messages[0].received_at
        )
        sorted_burst = triage(
            [
                BurstMessage(id=m.id, kind=m.kind, text=m.text, received_at=m.received_at)
                for m in messages
            ],
            max_chars=self.policy.max_chars,
            rate_limit=self.policy.rate_limit,
            earlier_arrivals=earlier,
        )
        if sorted_burst.rate_limited and (
            identity.rate_notice_at is None or now - identity.rate_notice_at >= RATE_WINDOW
        ):
            drafts.append(self._notice(burst, "rate_limited", notices.rate_limited))
            await self.identities.mark_notice(identity.contact_id, kind="rate", at=now)
        if "too_long" in sorted_burst.notices:
            text = notices.too_long.format(max_chars=self.policy.max_chars)
            drafts.append(self._notice(burst, "too_long", text))
        if "non_text" in sorted_burst.notices:
            drafts.append(self._notice(burst, "non_text", notices.non_text))
        if not sorted_burst.for_ai:
            await self._finish(burst, Outcome.NO_QUESTION, now, drafts)
            return Outcome.NO_QUESTION

        marked_read = await self._show_typing(burst)
        session = await self.sessions.current(
            burst.conversation_id,
            now=now,
            idle_timeout=self.policy.session_timeout,
            history=self.policy.history_turns,
        )
        user_turn = sorted_burst.user_turn
        turns = await self._prompt(identity, session.history, user_turn)
        # CP1: only masked text leaves for the AI (system prompt, context, history, question);
        # the answer's placeholders are restored before anyone sees it.
        stored = await self.vaults.load(burst.conversation_id)
        vault = PlaceholderVault.from_dict(stored) if stored else PlaceholderVault()
        known = [name for name in (burst.contact_name, identity.account_name) if name]
        masked = [
            ChatTurn(role=t.role, content=mask(t.content, vault=vault, known_names=known))
            for t in turns
        ]
        await self.vaults.save(burst.conversation_id, vault.to_dict())
        try:
            answer = await self.assistant.reply(masked)
        except AssistantUnavailable as exc:
            return await self._apologise(burst, drafts, attempt, exc)
        answer_text = unmask(answer.text, vault)
        # AI6: the disclosure opens each new session; the disclaimer closes every AI answer.
        disclosure = None if session.disclosed else notices.disclosure
        framed = [disclosure, to_whatsapp(answer_text), notices.disclaimer]
        parts = split_message("\n\n".join(text for text in framed if text))
        for index, part in enumerate(parts):
            drafts.append(
                OutboundDraft(
                    idempotency_key=f"{burst.run_key}:reply:{index}",
                    text=part,
                    kind="reply",
                    part_index=index,
                )
            )
        await self._finish(
            burst,
            Outcome.ANSWERED,
            now,
            drafts,
            session_id=session.id,
            user_turn=user_turn,
            assistant_turn=answer_text,
            marked_read=marked_read,
            facts={
                "ai_model": answer.model,
                "ai_attempts": answer.attempts,
                "masked": True,
                "pii_placeholders": len(vault),
                "for_ai": len(sorted_burst.for_ai),
                "rate_limited": len(sorted_burst.rate_limited),
            },
        )
        if disclosure:
            await self.sessions.mark_disclosed(session.id, at=self.clock())
        log.info(
            "converse.answered",
            conversation_id=burst.conversation_id,
            messages=len(burst.messages),
            parts=len(parts),
            model=answer.model,
            history=len(session.history),
        )
        return Outcome.ANSWERED

    async def _prompt(
        self, identity: Identity, history: Sequence[ChatTurn], user_turn: str
    ) -> list[ChatTurn]:
        system = self.policy.system_prompt
        if self.context_hook is not None and identity.account is not None:
            extra = await self.context_hook(identity.account.id)
            if extra:
                system = f"{system}\n\n{extra}" if system else extra
        turns = [ChatTurn(role=Role.SYSTEM, content=system)] if system else []
        turns.extend(history[-self.policy.history_turns :])
        turns.append(ChatTurn(role=Role.USER, content=user_turn))
        return turns

    async def _show_typing(self, burst: Burst) -> bool:
        """Mark read and show typing while the AI thinks (AI5). Best effort: a failure here
        must not cost the user the answer."""
        provider = self.providers.get(burst.provider, burst.channel_id)
        if provider is None:
            return False
        try:
            return await provider.mark_read(
                message_id=burst.messages[-1].provider_message_id, typing=True
            )
        except SendError as exc:
            log.warning(
                "converse.typing_failed",
                conversation_id=burst.conversation_id,
                error_type=type(exc).__name__,
                code=exc.code,
            )
            return False

    async def _apologise(
        self, burst: Burst, drafts: list[OutboundDraft], attempt: int, exc: Exception
    ) -> Outcome:
        """Tell the user once, keep the burst, try again later: never dropped."""
        now = self.clock()
        drafts.append(self._notice(burst, "apology", self.policy.notices.apology))
        await self.store.finish(
            ReplyRecord(
                run=self._run(burst, Outcome.RETRY, now, processed=False, error=type(exc).__name__),
                run_key=burst.run_key,
                recipient=burst.recipient,
                drafts=drafts,
            )
        )
        delay = self.backoff.delay(min(attempt, 8), jitter=self.jitter())
        await self.store.defer(burst.conversation_id, run_at=now + delay, attempt=attempt + 1)
        log.warning(
            "converse.ai_unavailable",
            conversation_id=burst.conversation_id,
            attempt=attempt,
            retry_in_s=round(delay.total_seconds(), 1),
        )
        return Outcome.RETRY

    def _notice(self, burst: Burst, name: str, text: str) -> OutboundDraft:
        return OutboundDraft(idempotency_key=f"{burst.run_key}:{name}", text=text, kind="notice")

    def _run(
        self,
        burst: Burst,
        outcome: Outcome,
        started: datetime,
        *,
        processed: bool = True,
        error: str | None = None,
        marked_read: bool = False,
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
        )

    async def _finish(
        self,
        burst: Burst,
        outcome: Outcome,
        started: datetime,
        drafts: list[OutboundDraft],
        *,
        session_id: int | None = None,
        user_turn: str | None = None,
        assistant_turn: str | None = None,
        facts: dict[str, object] | None = None,
        marked_read: bool = False,
    ) -> None:
        await self.store.finish(
            ReplyRecord(
                run=self._run(burst, outcome, started, marked_read=marked_read),
                run_key=burst.run_key,
                recipient=burst.recipient,
                drafts=drafts,
                session_id=session_id,
                user_turn=user_turn,
                assistant_turn=assistant_turn,
            )
        )
        await self._audit(burst, outcome, drafts, facts or {})

    async def _audit(
        self,
        burst: Burst,
        outcome: Outcome,
        drafts: list[OutboundDraft],
        facts: dict[str, object],
    ) -> None:
        """CP3: what arrived and what was decided, as facts (ids, counts, kinds, models)
        — never text. One batch per run keeps the chain's lock short."""
        if self.audit is None:
            return
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
        await self.audit.record_many(events, at=self.clock())
