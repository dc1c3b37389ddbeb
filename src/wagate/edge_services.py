"""What wiring hands each edge: one frozen bundle of built services per edge, nothing more.

The web app and the worker never see the settings, the `Gateway` or a constructor: they get
exactly the services and the few knobs they use, built once by `wagate.wiring`. Each bundle
lists its edge's whole dependency surface, so a new dependency of an edge shows up here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from wagate.domain.breaker import BreakerPolicy
from wagate.domain.messages import Provider
from wagate.domain.provider_port import WebhookReceiver, WebhookRoute
from wagate.domain.retry import BackoffPolicy
from wagate.pipeline.converse import Converse
from wagate.pipeline.intake import Intake
from wagate.pipeline.operator import OperatorService
from wagate.pipeline.status import GatewayStatus
from wagate.providers.registry import ProviderRegistry
from wagate.storage.audit import PostgresAuditLog
from wagate.storage.conversations import PostgresConversationStore
from wagate.storage.database import Database
from wagate.storage.inbound_failures import InboundFailures
from wagate.storage.provider_health import PostgresChannelHealth
from wagate.storage.queries import ConversationQueries
from wagate.storage.rights import ContactRights

Clock = Callable[[], datetime]


class InboundAdapters(Protocol):
    def inbound(self, provider: Provider) -> WebhookReceiver | None:
        """The adapter that receives `provider`'s webhooks; None when it is not configured."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEndpoints:
    """The configured providers' webhook routes, and where their adapters are found."""

    routes: tuple[tuple[Provider, WebhookRoute], ...]
    adapters: InboundAdapters


@dataclass(frozen=True, slots=True, kw_only=True)
class WebServices:
    """Everything `wagate.web.app.create_app` serves: webhooks, operator API, metrics."""

    webhooks: WebhookEndpoints
    intake: Intake
    operator: OperatorService
    queries: ConversationQueries
    status: GatewayStatus
    ping: Callable[[], Awaitable[bool]]
    api_token: str
    clock: Clock
    max_body_bytes: int
    max_pending_body_bytes: int  # unfinished request bodies held at once (slow clients)
    api_docs: bool = False  # Swagger UI at /api/docs (its assets come from a CDN)
    bench_endpoint: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerTuning:
    """The worker's knobs, read once from the settings."""

    concurrency: int
    poll_seconds: float
    sweep_interval_seconds: float
    retention: timedelta
    inbound_attempts: int
    credential_check_seconds: float
    degraded_probe_seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerServices:
    """Everything `wagate.jobs.worker` runs: conversation jobs, the sweep, retention, credential
    checks and the queue statistics."""

    database: Database
    converse: Converse
    conversations: PostgresConversationStore
    inbound_failures: InboundFailures
    audit: PostgresAuditLog
    rights: ContactRights
    providers: ProviderRegistry
    channel_health: PostgresChannelHealth
    channels: Mapping[Provider, str]
    breaker: BreakerPolicy
    backoff: BackoffPolicy
    email_fallback: bool
    clock: Clock
    tuning: WorkerTuning
