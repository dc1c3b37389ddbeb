"""Step 5, the assistant (CP1, AI1–AI4): only masked text leaves for the model (system prompt,
context, history, question); the answer's placeholders are restored before anyone sees it. When
no model answers, the user hears one apology and the burst is kept for a later try."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from wagate.domain.assistant_port import Assistant
from wagate.domain.chat import AssistantUnavailable, ChatTurn
from wagate.domain.conversation import Notices
from wagate.domain.knowledge_context import split_references
from wagate.domain.privacy.masking import mask_reference, mask_turns, unmask
from wagate.domain.privacy.recognizers import Recognizer
from wagate.domain.privacy.vault import PlaceholderVault
from wagate.domain.retry import BackoffPolicy
from wagate.pipeline.conversation.record import RunRecorder, notice
from wagate.pipeline.metrics import UNMEASURED, Metrics
from wagate.pipeline.ports import Burst, ConversationStore, Identity, OutboundDraft, VaultStore

log = structlog.get_logger("wagate.pipeline.converse")


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    text: str  # unmasked: what the user may see
    model: str
    attempts: int
    placeholders: int  # the conversation's vault size: how much PII was masked so far
    # The same with the conversation's placeholders kept ([NAMA_1]; the knowledge base's own
    # are restored): what a held draft stores, restored only when a lawyer approves it.
    masked_text: str = ""
    masked_question: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Unavailable:
    error: str  # the exception's type name: no text, it may quote the prompt


# Where the references block sits while the rest of the prompt is masked: no recogniser
# proposes anything in it.
_BLOCK = "\u27e6RUJUKAN\u27e7"


@dataclass(kw_only=True)
class AskAssistant:
    assistant: Assistant
    vaults: VaultStore
    # Extra recognisers beside the built-in ones (an optional named-entity model).
    stages: Sequence[Recognizer] = ()
    metrics: Metrics = UNMEASURED
    timer: Callable[[], float] = time.perf_counter  # the AI latency's stopwatch

    async def __call__(
        self, burst: Burst, identity: Identity, prompt: Sequence[ChatTurn]
    ) -> Answer | Unavailable:
        """The conversation's vault is saved before the model is called, so placeholders stay
        stable across retries and runs."""
        stored = await self.vaults.load(burst.conversation_id, opening=burst.opening)
        vault = PlaceholderVault.from_dict(stored) if stored else PlaceholderVault()
        known = [name for name in (burst.contact_name, identity.account_name) if name]
        # All turns of the call together: a name first recognised in the question is hidden
        # in the history sent with it too.
        # Knowledge-base passages are the firm's documents, masked apart (structured data
        # only, on a copy of the vault): what they hold never becomes a name of this
        # conversation, hidden in the client's own words from then on.
        split = [split_references(t.content) for t in prompt]
        texts = mask_turns(
            [before + (_BLOCK if block else "") + after for before, block, after in split],
            vault=vault,
            known_names=known,
            stages=self.stages,
        )
        answer_vault = PlaceholderVault.from_dict(vault.to_dict())
        masked = [
            ChatTurn(
                role=t.role,
                content=text.replace(_BLOCK, mask_reference(block, vault=answer_vault), 1)
                if block
                else text,
                # Photos cannot be masked: the triage gave only those that are no identity
                # document, and only when the firm turned vision on (AI_VISION_MODEL).
                images=t.images,
            )
            for t, text, (_, block, _) in zip(prompt, texts, split, strict=True)
        ]
        if stored is not None or len(vault):
            # A conversation with nothing masked yet gets no vault row (one transaction less
            # per run); a stored vault is saved every run, which also keeps it from expiring.
            await self.vaults.save(burst.conversation_id, vault.to_dict())
        started = self.timer()
        try:
            reply = await self.assistant.reply(masked)
        except AssistantUnavailable as exc:
            self.metrics.ai_call(seconds=self.timer() - started, outcome="unavailable")
            return Unavailable(error=type(exc).__name__)
        self.metrics.ai_call(seconds=self.timer() - started, outcome="answered")
        return Answer(
            text=unmask(reply.text, answer_vault),
            model=reply.model,
            attempts=reply.attempts,
            placeholders=len(vault),
            masked_text=unmask(reply.text, _references_only(answer_vault, vault)),
            masked_question=masked[-1].content if masked else "",
        )


def _references_only(answer_vault: PlaceholderVault, vault: PlaceholderVault) -> PlaceholderVault:
    """The placeholders the knowledge-base passages added (the firm's documents, not the
    person's data): a draft shows those restored, the conversation's kept."""
    own = vault.to_dict()["entries"]
    snapshot = answer_vault.to_dict()
    entries = snapshot["entries"]
    assert isinstance(own, list) and isinstance(entries, list)
    return PlaceholderVault.from_dict({**snapshot, "entries": [e for e in entries if e not in own]})


@dataclass(kw_only=True)
class ApologiseAndRetry:
    store: ConversationStore
    recorder: RunRecorder
    backoff: BackoffPolicy
    notices: Notices
    clock: Callable[[], datetime]
    jitter: Callable[[], float] = field(default=random.random)

    async def __call__(
        self, burst: Burst, drafts: Sequence[OutboundDraft], attempt: int, failure: Unavailable
    ) -> None:
        """Tell the user once (the apology is keyed on the burst), keep the burst, and queue
        the conversation again after a backoff: never dropped."""
        now = self.clock()
        apology = notice(burst, "apology", self.notices.apology)
        await self.recorder.keep_for_retry(
            burst, [*drafts, apology], error=failure.error, started=now
        )
        delay = self.backoff.delay(min(attempt, 8), jitter=self.jitter())
        await self.store.defer(burst.conversation_id, run_at=now + delay, attempt=attempt + 1)
        log.warning(
            "converse.ai_unavailable",
            conversation_id=burst.conversation_id,
            attempt=attempt,
            retry_in_s=round(delay.total_seconds(), 1),
        )
