"""What wiring hands each edge: one frozen bundle of built services per edge, nothing more.

The web app and the worker never see the settings, the `Gateway` or a constructor: they get
exactly the services and the few knobs they use, built once by `wagate.wiring`. Each bundle
lists its edge's whole dependency surface, so a new dependency of an edge shows up here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from wagate.domain.breaker import BreakerPolicy
from wagate.domain.flow_exchange import FlowDataEndpoint
from wagate.domain.messages import Provider, WebhookBatch
from wagate.domain.provider_port import InboundRequest, WebhookRoute
from wagate.domain.retry import BackoffPolicy
from wagate.domain.tenants import Tenant, TokenGrant
from wagate.observability.metrics import MetricsRecorder, TenantMetrics
from wagate.pipeline.console_sessions import ConsoleSessions
from wagate.pipeline.converse import Converse
from wagate.pipeline.inbound_routing import Receiving
from wagate.pipeline.intake import Intake
from wagate.pipeline.media import FetchMedia
from wagate.pipeline.operator import OperatorService
from wagate.pipeline.operator.tenants import TenantAdmin
from wagate.pipeline.ports import IntakeResult
from wagate.pipeline.review_escalation import ReviewEscalation
from wagate.pipeline.staff_alerts import MailedStaffAlerts
from wagate.pipeline.status import GatewayStatus
from wagate.pipeline.tenancy import TenantRuntimes
from wagate.providers.registry import ProviderRegistry
from wagate.storage.audit import PostgresAuditLog
from wagate.storage.conversations import PostgresConversationStore
from wagate.storage.database import Database
from wagate.storage.inbound_failures import InboundFailures
from wagate.storage.media import PostgresMedia
from wagate.storage.provider_health import PostgresChannelHealth
from wagate.storage.queries import ConversationQueries
from wagate.storage.rights import ContactRights

Clock = Callable[[], datetime]


class WebhookIntake(Protocol):
    """Finds who receives a webhook and commits what it accepted (see InboundRouter)."""

    def receiving(self, provider: Provider, request: InboundRequest) -> Receiving | None: ...

    async def receive(
        self, batch: WebhookBatch, *, source: str, tenant: str | None
    ) -> IntakeResult: ...

    def rejected(self, provider: Provider, reason: str, *, tenant: str | None) -> None:
        """Count a refused request (`whatsapp_webhook_rejected_total`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEndpoints:
    """The configured providers' webhook routes, and who receives and stores them."""

    routes: tuple[tuple[Provider, WebhookRoute], ...]
    intake: WebhookIntake


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantServices:
    """One tenant's services (MT1): what the web app and the worker use for its requests and
    its jobs, built by wiring over the tenant's own settings, channels and credentials."""

    tenant: Tenant
    intake: Intake
    operator: OperatorService
    queries: ConversationQueries
    status: GatewayStatus
    converse: Converse
    conversations: PostgresConversationStore
    inbound_failures: InboundFailures
    audit: PostgresAuditLog
    rights: ContactRights
    providers: ProviderRegistry
    channel_health: PostgresChannelHealth
    channels: Mapping[Provider, str]
    retention: timedelta
    email_fallback: bool
    # The lawyer's review (AI7): the worker's SLA sweep, and the figures the metrics read.
    review_escalation: ReviewEscalation | None = None
    review_figures: Callable[[], Awaitable[dict[str, Any]]] | None = None
    alerts: MailedStaffAlerts  # on-duty staff alerts; the worker's sweep retries unsent ones
    metrics: TenantMetrics  # what its pipeline counts; /metrics reads the sums
    # Case intakes the tenant holds (FL1): what `whatsapp_intake_total` can be read from.
    intake_count: Callable[[], Awaitable[int]] | None = None
    # Inbound files (MD1): the fetch job, and the rows the worker's sweep re-queues.
    media: PostgresMedia
    media_fetch: FetchMedia

    @property
    def answers(self) -> bool:
        return self.tenant.answers


class TokenResolver(Protocol):
    async def resolve(self, token: str) -> TokenGrant | None:
        """Whom an issued API token speaks for; None for an unknown or revoked one."""


class SandboxPeer(Protocol):
    """The sandbox's stand-in for a WhatsApp user (sandbox mode only): what the console's chat
    page writes through and reads back from. It signs and posts to the gateway's real webhook,
    and reads what the gateway sent from the sandbox's fake Graph API."""

    async def say(self, number: str, text: str, *, name: str) -> int:
        """Post one message as `number`; the webhook's HTTP status."""

    async def answers(self, number: str, *, after: int) -> list[dict[str, Any]]:
        """What the gateway sent to `number` after sequence number `after`: dicts with
        `seq`, `text`, `kind` and `at`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleServices:
    """The operator console (`/console`): its sessions and knobs."""

    sessions: ConsoleSessions
    secure_cookie: bool = False  # always Secure (else: Secure when the request was HTTPS)
    language: str = "id"  # the default language; a user may switch
    sandbox: SandboxPeer | None = None  # sandbox mode: the chat page's stand-in WhatsApp user
    # The settings as the console shows them (read-only), secrets already hidden.
    settings_view: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebServices:
    """Everything `wagate.web.app.create_app` serves: webhooks, operator API, metrics."""

    webhooks: WebhookEndpoints
    tenants: TenantRuntimes[TenantServices]
    tenant_admin: TenantAdmin
    tokens: TokenResolver
    configuration: Mapping[str, Any]  # booleans and counts, for the public status
    ping: Callable[[], Awaitable[bool]]
    api_token: str  # the platform admin's machine token (WAGATE_API_TOKEN)
    clock: Clock
    max_body_bytes: int
    max_pending_body_bytes: int  # unfinished request bodies held at once (slow clients)
    api_docs: bool = False  # Swagger UI at /api/docs (its assets come from a CDN)
    kb_max_upload_bytes: int = 20 * 1024 * 1024  # POST /api/kb's body limit (KB_MAX_UPLOAD_BYTES)
    # POST /api/whatsapp/send-file's file limit, streamed (the larger OUTBOUND_MAX_*_BYTES).
    send_file_max_bytes: int = 100 * 1024 * 1024
    bench_endpoint: bool = False
    console: ConsoleServices | None = None  # None: no console (CONSOLE_ENABLED=false)
    # This process's counters: flushed before a scrape reads the sums; its uptime.
    metrics: MetricsRecorder | None = None
    # The Flows data endpoint (FL1), when INTAKE_FLOW_PRIVATE_KEY is set; None: no route.
    flow_endpoint: FlowDataEndpoint | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerTuning:
    """The worker's knobs, read once from the settings."""

    concurrency: int
    poll_seconds: float
    sweep_interval_seconds: float
    inbound_attempts: int
    credential_check_seconds: float
    degraded_probe_seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerServices:
    """Everything `wagate.jobs.worker` runs: each tenant's conversation jobs, sweeps,
    retention and credential checks, and the queue statistics."""

    database: Database
    tenants: TenantRuntimes[TenantServices]
    breaker: BreakerPolicy
    backoff: BackoffPolicy
    clock: Clock
    tuning: WorkerTuning
    # Erased tenants' files the erasure could not remove at once (a store that was down, a
    # crash): removed by the hourly retention run. Returns the objects deleted.
    sweep_erased_files: Callable[[], Awaitable[int]] | None = None
