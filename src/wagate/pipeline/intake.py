"""Intake (IN5, IN6): commit what a webhook carried and queue its conversations. Nothing more
happens inside the webhook request; the AI never runs here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from wagate.domain.messages import WebhookBatch
from wagate.pipeline.metrics import (
    MEDIA_RECEIVED,
    RECEIVED,
    UNMEASURED,
    WEBHOOK_STORE,
    Metrics,
)
from wagate.pipeline.ports import IntakeResult

log = structlog.get_logger(__name__)


class IntakeStorePort(Protocol):
    async def store(self, batch: WebhookBatch, *, run_at: datetime) -> IntakeResult: ...


@dataclass(kw_only=True)
class Intake:
    store: IntakeStorePort
    debounce: timedelta
    clock: Callable[[], datetime]
    metrics: Metrics = UNMEASURED

    async def receive(self, batch: WebhookBatch, *, source: str) -> IntakeResult:
        if batch.is_empty:
            return IntakeResult()
        # The job's first look is one quiet period after this message; it re-queues itself
        # if more of the burst arrived meanwhile.
        try:
            result = await self.store.store(batch, run_at=self.clock() + self.debounce)
        except Exception:
            # Not committed: the edge answers 503 and the provider delivers it again.
            self.metrics.error(provider=source, error_class=WEBHOOK_STORE)
            raise
        self._count(result, source)
        log.info(
            "webhook.stored",
            source=source,
            stored=result.stored,
            duplicates=result.duplicates,
            statuses=result.statuses,
            status_duplicates=result.status_duplicates,
            others=result.others,
            queued=result.queued,
        )
        return result

    def _count(self, result: IntakeResult, provider: str) -> None:
        """In memory only: the webhook's one statement stays its only round trip."""
        stored = result.stored
        self.metrics.message(direction="in", provider=provider, status=RECEIVED, count=stored)
        self.metrics.duplicates(provider=provider, kind="message", count=result.duplicates)
        self.metrics.duplicates(provider=provider, kind="status", count=result.status_duplicates)
        for kind in result.files:
            self.metrics.media(provider=provider, kind=kind, status=MEDIA_RECEIVED)
