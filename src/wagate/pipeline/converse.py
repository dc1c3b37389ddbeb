"""The conversation job (step one of the pipeline): take a settled burst and acknowledge it.

This issue's version marks the burst read through the provider and records the run, so the
path webhook → queue → worker → provider is real end to end. The AI answer joins it next.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import structlog

from wagate.domain.conversation import DebouncePolicy
from wagate.domain.errors import PermanentSendError, TransientSendError
from wagate.domain.retry import BackoffPolicy
from wagate.pipeline.ports import ConversationStore, ProviderDirectory, RunRecord

log = structlog.get_logger(__name__)


class Outcome(StrEnum):
    NOTHING_TO_DO = "nothing_to_do"
    WAITING = "waiting"  # burst not settled yet: the job re-queued itself for later
    RETRY = "retry"  # provider failed transiently: re-queued with backoff
    DONE = "done"
    MARK_READ_FAILED = "mark_read_failed"  # recorded; the burst itself is not lost


@dataclass(kw_only=True)
class Converse:
    store: ConversationStore
    providers: ProviderDirectory
    debounce: DebouncePolicy
    backoff: BackoffPolicy
    clock: Callable[[], datetime]
    jitter: Callable[[], float] = field(default=random.random)

    async def __call__(self, conversation_id: int, *, attempt: int = 0) -> Outcome:
        burst = await self.store.load_burst(conversation_id)
        if burst is None or not burst.messages:
            return Outcome.NOTHING_TO_DO
        started = self.clock()
        wait = self.debounce.wait_until(
            now=started,
            first_arrival=min(m.received_at for m in burst.messages),
            last_arrival=max(m.received_at for m in burst.messages),
        )
        if wait is not None:
            await self.store.defer(conversation_id, run_at=wait, attempt=attempt)
            return Outcome.WAITING

        latest = burst.messages[-1]
        marked, outcome, error = False, Outcome.DONE, None
        provider = self.providers.get(burst.provider, burst.channel_id)
        if provider is not None:
            try:
                marked = await provider.mark_read(
                    message_id=latest.provider_message_id, typing=False
                )
            except TransientSendError as exc:
                if not self.backoff.gives_up_after(attempt):
                    delay = self.backoff.delay(
                        attempt, jitter=self.jitter(), retry_after=exc.retry_after
                    )
                    await self.store.defer(
                        conversation_id, run_at=started + delay, attempt=attempt + 1
                    )
                    log.warning(
                        "converse.retry",
                        conversation_id=conversation_id,
                        attempt=attempt,
                        error_type=type(exc).__name__,
                        code=exc.code,
                    )
                    return Outcome.RETRY
                outcome, error = Outcome.MARK_READ_FAILED, f"{type(exc).__name__}: {exc.code}"
            except PermanentSendError as exc:
                outcome, error = Outcome.MARK_READ_FAILED, f"{type(exc).__name__}: {exc.code}"
        await self.store.record_run(
            RunRecord(
                conversation_id=conversation_id,
                message_ids=[m.id for m in burst.messages],
                started_at=started,
                finished_at=self.clock(),
                last_message_id=latest.provider_message_id,
                marked_read=marked,
                outcome=outcome.value,
                error=error,
            )
        )
        log.info(
            "converse.done",
            conversation_id=conversation_id,
            outcome=outcome.value,
            messages=len(burst.messages),
            marked_read=marked,
        )
        return outcome
