"""The only place that builds adapters from settings and hands them to the pipeline."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import structlog

from wagate import provider_catalog
from wagate.assistants.context import ContextHook, load_context_hook
from wagate.assistants.embeddings import OpenAICompatibleEmbedder
from wagate.assistants.offline import OfflineAssistant
from wagate.assistants.openai_compatible import OpenAICompatibleAssistant
from wagate.assistants.transcription import OpenAICompatibleTranscriber
from wagate.assistants.zone_classifier import classifier_assistant
from wagate.doctor.database import DatabaseProbe
from wagate.doctor.endpoints import AiProbe, PublicUrlProbe
from wagate.doctor.facts import live_facts
from wagate.doctor.keys import KeySource, KeysProbe
from wagate.doctor.providers import CredentialProbe, FonnteDeviceProbe, MetaNumberProbe
from wagate.domain import flow_exchange
from wagate.domain.assistant_port import Assistant
from wagate.domain.breaker import BreakerPolicy
from wagate.domain.consent import Keywords
from wagate.domain.console import SessionPolicy
from wagate.domain.conversation import DebouncePolicy, Notices
from wagate.domain.media import MediaLimits
from wagate.domain.messages import Provider
from wagate.domain.outbound_files import UploadLimits
from wagate.domain.pacing import PairPacing
from wagate.domain.privacy.recognizers import Recognizer
from wagate.domain.provider_port import InboundRequest, ProviderSetup, Refusal, Verdict
from wagate.domain.provider_port import Rejected as Refused
from wagate.domain.retry import BackoffPolicy
from wagate.domain.review import DEFAULT_ACK_TEXT, DEFAULT_REJECT_TEXT, DEFAULT_URGENT_TEXT
from wagate.domain.tenants import Tenant, TenantChannel, TenantStatus
from wagate.domain.transcription import Transcriber
from wagate.domain.window import TemplateSet
from wagate.edge_services import (
    ConsoleServices,
    TenantServices,
    WebhookEndpoints,
    WebServices,
    WorkerServices,
    WorkerTuning,
)
from wagate.notify.smtp import SmtpMailer
from wagate.observability.metrics import MetricsRecorder, TenantMetrics
from wagate.pipeline.console_sessions import ConsoleSessions
from wagate.pipeline.conversation.case_intake import CaseIntakeStep
from wagate.pipeline.conversation.consent import ConsentGate
from wagate.pipeline.conversation.knowledge import DEFAULT_DECLINE_TEXT, KnowledgePolicy
from wagate.pipeline.conversation.review import LawyerReview, SendEverything
from wagate.pipeline.converse import Converse, ConversePolicy
from wagate.pipeline.deliver import Deliver, EmailFallback
from wagate.pipeline.inbound_routing import InboundRouter, ProviderInbound
from wagate.pipeline.intake import Intake
from wagate.pipeline.media import FetchMedia, TranscriptionPolicy
from wagate.pipeline.metrics import UNMEASURED, Metrics
from wagate.pipeline.operator import NotFound, OperatorService
from wagate.pipeline.operator.recorder import Recorder
from wagate.pipeline.operator.tenants import TenantAdmin
from wagate.pipeline.outbound_files import OutboundFiles
from wagate.pipeline.ports import Handover, RecipientCheck, StaffAlerts, TurnImages, ZoneTriage
from wagate.pipeline.readiness import Doctor, Probe
from wagate.pipeline.review_escalation import ReviewEscalation
from wagate.pipeline.staff_alerts import MailedStaffAlerts
from wagate.pipeline.status import GatewayStatus
from wagate.pipeline.tenancy import TenantRuntimes
from wagate.providers.meta.flow_endpoint import MetaFlowEndpoint, load_private_key
from wagate.providers.registry import ProviderRegistry
from wagate.security.keyfile_sealer import FixedKeyring, KeyfileKeyring
from wagate.security.keys import Keyring, load_or_create_keyfile
from wagate.security.passwords import Argon2Passwords
from wagate.security.sealing import Sealer
from wagate.settings import (
    OPENROUTER_URL,
    ConfigurationError,
    Settings,
    check_plugin,
    check_tenant_overrides,
    tenant_settings,
)
from wagate.settings_view import console_view
from wagate.storage import migrate
from wagate.storage.accounts import AccountAdmin
from wagate.storage.audit import PostgresAuditLog
from wagate.storage.case_intakes import PostgresCaseIntakes
from wagate.storage.console_sessions import PostgresConsoleSessions
from wagate.storage.conversations import PostgresConversationStore
from wagate.storage.database import Database
from wagate.storage.dead_letters import DeadLetters
from wagate.storage.embedded import EmbeddedPostgres
from wagate.storage.gauges import read_gauges
from wagate.storage.handover import PostgresHandover
from wagate.storage.identity import PostgresIdentityStore
from wagate.storage.inbound_failures import InboundFailures
from wagate.storage.intake import IntakeStore
from wagate.storage.knowledge import Embedder, KnowledgeBase
from wagate.storage.knowledge_jobs import KnowledgeRefreshJobs
from wagate.storage.media import ErasedTenantFiles, PostgresMedia, SealedVault
from wagate.storage.media_text import MediaTextReader
from wagate.storage.metric_counters import PostgresMetricCounters
from wagate.storage.objects import FileObjectStore, ObjectStore, S3ObjectStore
from wagate.storage.outbound import PostgresOutbox
from wagate.storage.outbound_files import PostgresOutboundFiles
from wagate.storage.provider_health import PostgresChannelHealth, PostgresCredentials
from wagate.storage.queries import ConversationQueries
from wagate.storage.recipients import OptOuts
from wagate.storage.reseal import KeyAdmin, Resealer
from wagate.storage.reviews import PostgresReviewDrafts
from wagate.storage.rights import ContactRights
from wagate.storage.roles import ensure_app_role
from wagate.storage.sessions import PostgresSessionStore
from wagate.storage.staff_alerts import PostgresAlertStore
from wagate.storage.tenant_keys import TenantKeys
from wagate.storage.tenants import ApiTokens, TenantCatalog
from wagate.storage.users import PostgresUsers
from wagate.storage.vaults import PostgresVaultStore
from wagate.triage_rules.factory import build_zone_triage

log = structlog.get_logger(__name__)


Clock = Callable[[], datetime]

# How often each process adds what it counted to the metrics' sums (and so how far behind
# another process's figures a scrape may be).
METRICS_FLUSH_SECONDS = 5.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Gateway:
    """What one process opened (database, clients) and what wiring built on it; `close()`
    releases it. The edges are never handed this: the web app gets `web`, the worker gets
    `worker`; the CLI acts through a tenant's `operator` or the platform's `tenant_admin`."""

    settings: Settings
    database: Database
    embedded: EmbeddedPostgres | None
    sealer: Sealer
    assistant: Assistant
    clock: Clock
    tenants: TenantRuntimes[TenantServices]
    tenant_admin: TenantAdmin
    tenant_keys: TenantKeys
    web: WebServices
    worker: WorkerServices
    metrics: MetricsRecorder
    triage_assistant: Assistant | None = None  # the zone classifier's client, when an AI is
    transcriber: Transcriber | None = None  # AI_TRANSCRIPTION_MODEL's client, to close

    async def keep_fresh(self) -> None:
        """Follow what other processes change (tenants, their data keys) until cancelled, and
        add this process's metrics to the shared sums: a background task of every
        long-running process."""
        await asyncio.gather(
            self.tenant_keys.keep_fresh(),
            self.tenants.follow(),
            self.metrics.flush_every(METRICS_FLUSH_SECONDS),
        )

    def services(self, tenant: str | None = None) -> TenantServices:
        """A tenant's services (the default tenant's without a name)."""
        tenant_id = tenant or self.tenants.default_id
        services = self.tenants.get(tenant_id)
        if services is None:
            known = self.tenants.tenant(tenant_id)
            state = "is erased" if known is not None else "does not exist"
            raise NotFound(f"tenant {tenant_id!r} {state}")
        return services

    @property
    def operator(self) -> OperatorService:
        return self.services().operator

    @property
    def accounts(self) -> Any:
        return self.services().operator.accounts.store

    async def close(self) -> None:
        await self.metrics.close()  # what this process counted since its last flush
        await self.tenants.aclose()
        await self.assistant.aclose()
        if self.triage_assistant is not None:
            await self.triage_assistant.aclose()
        if self.transcriber is not None:
            await self.transcriber.aclose()
        await self.database.close()
        if self.embedded is not None:
            self.embedded.stop()


@dataclass(frozen=True, slots=True, kw_only=True)
class Opened:
    """What `open_gateway` opened or read before anything is built on it: what every tenant
    shares."""

    settings: Settings
    database: Database
    embedded: EmbeddedPostgres | None
    sealer: Sealer  # one for every tenant: it seals under the context's tenant's data key
    tenant_keys: TenantKeys
    setups: tuple[ProviderSetup, ...]
    assistant: Assistant
    api_token: str
    link_pepper: str
    pii_stages: list[Recognizer] = dataclasses.field(default_factory=list)
    context_hook: ContextHook | None = None
    embedder: Embedder | None = None  # AI_EMBEDDING_MODEL: vector similarity in retrieval
    # Triage into green / yellow / red (AI7), one for every tenant; None: every question green.
    zone_triage: ZoneTriage | None = None
    triage_assistant: Assistant | None = None  # the classification client it uses, to close
    # Operator users' passwords: one hasher (and its small thread pool) for every tenant.
    passwords: Argon2Passwords = dataclasses.field(default_factory=Argon2Passwords)
    # This process's counters (each tenant's view records into it); flushed to the database.
    metrics: MetricsRecorder = dataclasses.field(default_factory=MetricsRecorder)
    # Inbound files (MD1): the object store every tenant's sealed files go to.
    objects: ObjectStore | None = None
    # Voice notes in words (AI_TRANSCRIPTION_MODEL), one client for every tenant; None: off.
    transcriber: Transcriber | None = None


async def build_gateway(opened: Opened, *, clock: Clock = utcnow) -> Gateway:
    """The platform's services, and each tenant's, built over what was opened."""
    s = opened.settings
    database = opened.database
    catalog = ConfiguredTenants(
        TenantCatalog(database, opened.sealer),
        default=s.wagate_tenant,
        channels=configured_tenant_channels(s, opened.setups),
        keys=opened.tenant_keys,
    )
    await catalog.ensure_default(at=clock())
    await opened.tenant_keys.ensure(s.wagate_tenant)
    key_admin = key_admin_for(opened, s.wagate_tenant)

    async def build(tenant: Tenant) -> TenantServices:
        await opened.tenant_keys.ensure(tenant.id)
        return build_tenant(opened, tenant, clock=clock)

    async def retire(services: TenantServices) -> None:
        await services.providers.aclose()

    tenants: TenantRuntimes[TenantServices] = TenantRuntimes(
        source=catalog, build=build, retire=retire, default=s.wagate_tenant
    )
    await tenants.refresh(force=True)
    # The platform's own records (tenant changes, tokens) go to the default tenant's chain.
    recorder = Recorder(audit=tenants.default.audit, clock=clock)
    erased_files = ErasedTenantFiles(database, opened.objects or build_objects(s))
    tenant_admin = TenantAdmin(
        store=catalog,
        keys=TenantKeyring(keys=opened.tenant_keys, admin=key_admin, database=database),
        tokens=ApiTokens(database),
        recorder=recorder,
        default_tenant=s.wagate_tenant,
        providers={setup.name for setup in opened.setups},
        secret_providers={setup.name for setup in opened.setups if setup.secret_param},
        check_settings=check_tenant_overrides,
        changed=partial(tenants.refresh, force=True),
        files=erased_files,
    )
    web = WebServices(
        webhooks=WebhookEndpoints(
            routes=tuple((setup.name, route) for setup in opened.setups for route in setup.routes),
            intake=InboundRouter(
                tenants,  # type: ignore[arg-type]
                {setup.name: provider_inbound(setup, tenants) for setup in opened.setups},
            ),
        ),
        tenants=tenants,
        tenant_admin=tenant_admin,
        tokens=ApiTokens(database),
        configuration=configuration_summary(s, embedded=opened.embedded is not None),
        ping=database.ping,
        api_token=opened.api_token,
        clock=clock,
        max_body_bytes=s.wagate_max_body_bytes,
        max_pending_body_bytes=s.wagate_max_pending_body_bytes,
        api_docs=s.wagate_api_docs,
        bench_endpoint=s.wagate_bench_endpoint,
        kb_max_upload_bytes=s.kb_max_upload_bytes,
        send_file_max_bytes=upload_limits(s).largest,
        console=build_console(s, database, clock) if s.console_enabled else None,
        metrics=opened.metrics,
        flow_endpoint=flow_endpoint(s),
    )
    worker = WorkerServices(
        database=database,
        tenants=tenants,
        breaker=breaker_policy(s),
        backoff=BackoffPolicy(max_attempts=s.send_attempts),
        clock=clock,
        tuning=worker_tuning(s),
        sweep_erased_files=erased_files.sweep,
    )
    return Gateway(
        settings=s,
        database=database,
        embedded=opened.embedded,
        sealer=opened.sealer,
        assistant=opened.assistant,
        clock=clock,
        tenants=tenants,
        tenant_admin=tenant_admin,
        tenant_keys=opened.tenant_keys,
        web=web,
        worker=worker,
        metrics=opened.metrics,
        triage_assistant=opened.triage_assistant,
        transcriber=opened.transcriber,
    )


def provider_inbound(
    setup: ProviderSetup, tenants: TenantRuntimes[TenantServices]
) -> ProviderInbound:
    """How this provider's webhooks reach their tenant. A provider without a platform
    receiver of its own (a plugin) is received by its default channel's adapter."""
    receiver = setup.receiver
    if receiver is None and setup.channel_id is not None:
        receiver = _DefaultChannelReceiver(tenants, setup.name, setup.channel_id)
    return ProviderInbound(
        receiver=receiver,
        shared_webhook=setup.shared_webhook,
        secret_param=setup.secret_param,
        listen=setup.listen,
    )


@dataclass(frozen=True, slots=True)
class _DefaultChannelReceiver:
    """A plugin's webhooks, verified by the default tenant's adapter of its channel (the
    adapter holds the plugin's secrets)."""

    tenants: TenantRuntimes[TenantServices]
    provider: Provider
    channel_id: str

    def receive(self, request: InboundRequest, *, now: datetime) -> Verdict:
        adapter = self.tenants.default.providers.get(self.provider, self.channel_id)
        if adapter is None:
            return Refused(reason=Refusal.NOT_FOUND, detail="not found", cause="provider")
        return adapter.receive(request, now=now)


def build_tenant(opened: Opened, tenant: Tenant, *, clock: Clock = utcnow) -> TenantServices:
    """Every service of one tenant, over its own settings, channels and credentials."""
    s = tenant_settings(opened.settings, tenant.settings)
    database, sealer, tenant_id = opened.database, opened.sealer, tenant.id
    blind = opened.tenant_keys.indexer_for(tenant_id)
    inbound_failures = InboundFailures(database, tenant_id)
    channel_health = PostgresChannelHealth(database, tenant_id)
    credentials = PostgresCredentials(database, sealer, tenant_id)
    providers = tenant_registry(opened.setups, tenant)
    providers.token_source = credentials.current
    audit = PostgresAuditLog(database, tenant_id)
    accounts = AccountAdmin(database, sealer, blind, tenant_id, pepper=opened.link_pepper)
    opt_outs = OptOuts(database, blind, tenant_id)
    outbox = PostgresOutbox(database, sealer, blind, tenant_id, audit=audit, opt_outs=opt_outs)
    conversations = PostgresConversationStore(
        database, sealer, blind, tenant_id, audit=audit, outbox=outbox
    )
    knowledge = KnowledgeBase(
        database, tenant_id, embedder=opened.embedder, max_file_bytes=s.kb_max_file_bytes
    )
    review_drafts = PostgresReviewDrafts(database, sealer, blind, tenant_id)
    users = PostgresUsers(database, tenant_id)
    backoff = BackoffPolicy(max_attempts=s.send_attempts)
    breaker = breaker_policy(s)
    takeover_idle = timedelta(minutes=s.takeover_idle_minutes)
    handover = PostgresHandover(database, sealer, blind, tenant_id, idle=takeover_idle)
    alerts = staff_alerts(s, tenant_id, database=database, clock=clock)
    case_intakes = PostgresCaseIntakes(database, sealer, tenant_id)
    intake_flow = s.intake_flow()
    channels = providers.default_channels
    capabilities = {
        setup.name: setup.capabilities for setup in opened.setups if setup.name in channels
    }
    templates = s.templates()
    metrics = tenant_metrics(opened, s, tenant_id)
    objects = opened.objects or build_objects(opened.settings)
    vault = SealedVault(objects, sealer, tenant_id, clock)
    deliver = build_deliver(
        s,
        templates=templates,
        outbox=outbox,
        providers=providers,
        audit=audit,
        contacts=accounts,
        health=channel_health,
        breaker=breaker,
        backoff=backoff,
        clock=clock,
        recipients=opt_outs,
        metrics=metrics,
        files=PostgresOutboundFiles(database, sealer, tenant_id, vault=vault, objects=objects),
    )
    media = PostgresMedia(
        database,
        sealer,
        tenant_id,
        vault=vault,
        objects=objects,
        vision_max_bytes=s.media_max_image_bytes,
    )
    converse = build_converse(
        opened,
        s,
        tenant_id,
        # Photos are put on the turn only where the tenant lets the vision model see them:
        # without this port the assistant's vision model never gets a turn with images.
        images=media if s.ai_vision_model and s.ai_vision_enabled else None,
        knowledge=knowledge,
        providers=providers,
        store=conversations,
        deliver=deliver,
        audit=audit,
        backoff=backoff,
        clock=clock,
        review_drafts=review_drafts,
        handover=handover,
        alerts=alerts,
        lawyer_exists=users.lawyer_exists,
        metrics=metrics,
        case_intakes=CaseIntakeStep(
            store=case_intakes,
            flow=intake_flow,
            providers=providers,
            clock=clock,
            audit=audit,
            alerts=alerts,
            counted=metrics.case_intake,
        ),
    )
    status = GatewayStatus(
        configuration={"tenant": tenant_id, "status": tenant.status.value},
        channels=channels,
        health=channel_health,
        ping=database.ping,
        count=partial(read_gauges, database, tenant_id, takeover_idle=takeover_idle),
    )
    media_fetch = FetchMedia(
        rows=media,
        vault=vault,
        providers=providers,
        limits=media_limits(s),
        backoff=BackoffPolicy(max_attempts=s.media_fetch_attempts, cap=timedelta(minutes=2)),
        clock=clock,
        reader=MediaTextReader(
            vault, max_bytes=s.media_text_max_bytes, max_chars=s.media_text_max_chars
        )
        if s.media_text_max_bytes and s.media_text_max_chars
        else None,
        transcriber=opened.transcriber,
        transcription=TranscriptionPolicy(
            max_bytes=s.ai_transcription_max_bytes,
            max_chars=s.media_text_max_chars or 4000,
            backoff=BackoffPolicy(
                max_attempts=s.ai_transcription_attempts, cap=timedelta(minutes=2)
            ),
        ),
        metrics=metrics,
    )
    rights = ContactRights(database, sealer, blind, tenant_id, media=media)
    operator = OperatorService.build(
        audit=audit,
        clock=clock,
        accounts=accounts,
        outbox=outbox,
        channels=channels,
        capabilities=capabilities,
        templates=templates,
        link_code_text=converse.policy.notices.link_code,
        link_code_template=(
            (s.link_code_template, s.link_code_template_language) if s.link_code_template else None
        ),
        dead_letters=DeadLetters(database, sealer, tenant_id, inbound_failures),
        credentials=credentials,
        rights=rights,
        keys=key_admin_for(opened, tenant_id),
        users=users,
        passwords=opened.passwords,
        recipients=opt_outs,
        knowledge=knowledge,
        knowledge_refreshes=KnowledgeRefreshJobs(database, tenant_id),
        knowledge_folder=knowledge_folder(opened.settings, tenant_id),
        review_drafts=review_drafts,
        vaults=converse.vaults,
        handover=converse.handover,
        review_disclaimer=converse.policy.notices.disclaimer,
        review_reject_text=s.review_reject_text or DEFAULT_REJECT_TEXT,
        desk=handover,
        deliveries=outbox,
        case_intakes=case_intakes,
        intake_flow=intake_flow,
        media=media,
        vault=vault,
        upload_limits=upload_limits(s),
    )
    return TenantServices(
        tenant=tenant,
        intake=Intake(
            store=IntakeStore(
                database,
                sealer,
                blind,
                tenant_id,
                email_fallback=deliver.email is not None,
            ),
            debounce=timedelta(seconds=s.debounce_seconds),
            clock=clock,
            metrics=metrics,
        ),
        operator=operator,
        queries=ConversationQueries(
            database, sealer, tenant_id, indexer=blind, takeover_idle=takeover_idle
        ),
        status=status,
        converse=converse,
        conversations=conversations,
        inbound_failures=inbound_failures,
        audit=audit,
        rights=rights,
        providers=providers,
        channel_health=channel_health,
        channels=channels,
        retention=timedelta(days=s.retention_days),
        email_fallback=deliver.email is not None,
        review_escalation=ReviewEscalation(
            drafts=review_drafts, alerts=converse.alerts, clock=clock
        ),
        review_figures=review_drafts.figures,
        alerts=alerts,
        metrics=metrics,
        intake_count=case_intakes.count,
        media=media,
        media_fetch=media_fetch,
    )


def flow_endpoint(settings: Settings) -> MetaFlowEndpoint | None:
    """The Flows data endpoint when its key is configured (the settings checked the key and
    that Meta's app secret, which signs the requests, is set)."""
    pem = settings.flow_endpoint_key()
    secret = _secret(settings.meta_app_secret)
    if pem is None or secret is None:
        return None
    passphrase = _secret(settings.intake_flow_private_key_passphrase)
    return MetaFlowEndpoint(
        private_key=load_private_key(pem, passphrase.encode() if passphrase else None),
        app_secret=secret,
        respond=flow_exchange.respond,
    )


def tenant_metrics(opened: Opened, settings: Settings, tenant: str) -> TenantMetrics:
    """The tenant's view of the process's counters, measuring against its SLA."""
    return opened.metrics.tenant(tenant, sla_seconds=settings.sla_seconds)


def staff_alerts(
    settings: Settings, tenant: str, *, database: Database, clock: Clock
) -> MailedStaffAlerts:
    """On-duty alerts (URGENT_NOTIFY_EMAILS over the SMTP settings); without either they are
    stored and counted as undeliverable."""
    return MailedStaffAlerts(
        store=PostgresAlertStore(database, tenant),
        mailer=SmtpMailer.from_settings(settings),
        addresses=tuple(settings.urgent_notify_emails),
        tenant=tenant,
        clock=clock,
        public_url=settings.public_url,
    )


def knowledge_folder(settings: Settings, tenant: str) -> Path:
    """Where a tenant's documents are read from: KB_DIR for the default tenant (the
    environment's), `$WAGATE_DATA_DIR/tenants/<id>/knowledge` for the others."""
    if tenant == settings.wagate_tenant:
        return settings.knowledge_dir
    return settings.wagate_data_dir / "tenants" / tenant / "knowledge"


def build_embedder(settings: Settings) -> Embedder | None:
    if not settings.ai_embedding_model:
        return None
    if not settings.ai_configured:
        raise ConfigurationError("AI_EMBEDDING_MODEL needs AI_BASE_URL (or AI_API_KEY)")
    return OpenAICompatibleEmbedder(
        base_url=settings.ai_base_url or OPENROUTER_URL,
        api_key=_secret(settings.ai_api_key) or "not-needed",
        model=settings.ai_embedding_model,
        timeout_seconds=settings.ai_timeout_seconds,
    )


def build_transcriber(settings: Settings) -> Transcriber | None:
    """Voice notes in words, when AI_TRANSCRIPTION_MODEL names a model on the AI endpoint
    (the settings refuse one without an endpoint)."""
    if not settings.ai_transcription_model:
        return None
    return OpenAICompatibleTranscriber(
        base_url=settings.ai_base_url or OPENROUTER_URL,
        api_key=_secret(settings.ai_api_key),
        model=settings.ai_transcription_model,
        language=settings.ai_transcription_language.strip() or None,
        timeout_seconds=settings.ai_transcription_timeout_seconds,
    )


def key_admin_for(opened: Opened, tenant: str) -> KeyAdmin:
    return KeyAdmin(
        Resealer(opened.database, opened.sealer, tenant),
        keyfile_path(opened.settings),
        source="WAGATE_ENCRYPTION_KEYS",
        tenant_keys=opened.tenant_keys,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantKeyring:
    """The tenant admin's view of the data keys: created with the tenant; on erasure, what it
    still has under a master key is moved onto its data key, then the keys are destroyed, and
    its knowledge base (plain text, for search) is deleted."""

    keys: TenantKeys
    admin: KeyAdmin
    database: Database

    async def ensure(self, tenant: str) -> None:
        await self.keys.ensure(tenant)

    async def shred(self, tenant: str) -> None:
        await self.admin.shred(tenant)
        # What is stored unsealed for search (the knowledge base's text) is deleted outright.
        await KnowledgeBase(self.database, tenant).erase_all()


def tenant_registry(setups: tuple[ProviderSetup, ...], tenant: Tenant) -> ProviderRegistry:
    """The tenant's adapters: its own channels, each with its own token. The first channel of
    a provider is the one operator sends use."""
    defaults: dict[Provider, str] = {}
    for channel in tenant.channels:
        defaults.setdefault(channel.provider, channel.channel_id)
    # The environment's Fonnte device is configured by its token alone (its number is not a
    # setting), as the channel `fonnte`; its messages name the device's number. Its token is
    # the provider's, so answers on that number are sent with it (not with no token at all).
    tokens = {
        c.provider: c.token
        for c in tenant.channels
        if c.provider == Provider.FONNTE and c.channel_id == provider_catalog.FONNTE_CHANNEL
    }
    return ProviderRegistry(
        {setup.name: setup.connect for setup in setups},
        tokens,
        channels=defaults,
        channel_tokens={(c.provider, c.channel_id): c.token for c in tenant.channels},
    )


def configured_tenant_channels(
    settings: Settings, setups: tuple[ProviderSetup, ...]
) -> tuple[TenantChannel, ...]:
    """The default tenant's channels from the environment (a single-firm install needs no
    `wagate tenants` at all)."""
    fonnte_secret = _secret(settings.fonnte_webhook_secret)
    return tuple(
        TenantChannel(
            provider=setup.name,
            channel_id=setup.channel_id,
            token=setup.token,
            account_id=settings.meta_business_account_id if setup.name == Provider.META else None,
            webhook_secret=fonnte_secret if setup.secret_param and fonnte_secret else None,
        )
        for setup in setups
        if setup.channel_id is not None
    )


class ConfiguredTenants:
    """The catalogue as every process sees it: the default tenant carries the environment's
    channels before any it was given in the catalogue."""

    def __init__(
        self,
        catalog: TenantCatalog,
        *,
        default: str,
        channels: tuple[TenantChannel, ...],
        keys: TenantKeys,
    ) -> None:
        self._catalog = catalog
        self._default = default
        self._channels = channels
        self._keys = keys

    async def ensure_default(self, *, at: datetime) -> None:
        await self._catalog.add(self._default, self._default, {}, at=at)

    async def stamp(self) -> tuple[int, int]:
        return await self._catalog.stamp()

    async def load(self) -> list[Tenant]:
        # A tenant another process just added: its data key opens its channels' secrets.
        await self._keys.refresh()
        return await self.all()

    async def all(self) -> list[Tenant]:
        return [self._with_configured(t) for t in await self._catalog.all()]

    async def get(self, tenant_id: str) -> Tenant | None:
        tenant = await self._catalog.get(tenant_id)
        return self._with_configured(tenant) if tenant is not None else None

    def _with_configured(self, tenant: Tenant) -> Tenant:
        if tenant.id != self._default:
            return tenant
        return dataclasses.replace(tenant, channels=(*self._channels, *tenant.channels))

    # Changes go to the catalogue as they are.

    async def add(
        self, tenant_id: str, name: str, settings: dict[str, Any], *, at: datetime
    ) -> bool:
        return await self._catalog.add(tenant_id, name, settings, at=at)

    async def update(
        self,
        tenant_id: str,
        *,
        at: datetime,
        name: str | None = None,
        settings: dict[str, Any] | None = None,
        status: TenantStatus | None = None,
    ) -> bool:
        return await self._catalog.update(
            tenant_id, at=at, name=name, settings=settings, status=status
        )

    async def add_channel(self, tenant_id: str, channel: TenantChannel, *, at: datetime) -> None:
        await self._catalog.add_channel(tenant_id, channel, at=at)

    async def remove_channel(
        self, tenant_id: str, provider: Provider, channel_id: str, *, at: datetime
    ) -> bool:
        return await self._catalog.remove_channel(tenant_id, provider, channel_id, at=at)

    async def erase(self, tenant_id: str, *, at: datetime) -> None:
        await self._catalog.erase(tenant_id, at=at)


def build_deliver(
    settings: Settings,
    *,
    templates: TemplateSet,
    outbox: PostgresOutbox,
    providers: ProviderRegistry,
    audit: PostgresAuditLog,
    contacts: AccountAdmin,
    health: PostgresChannelHealth,
    breaker: BreakerPolicy,
    backoff: BackoffPolicy,
    clock: Clock,
    recipients: RecipientCheck | None = None,
    metrics: Metrics = UNMEASURED,
    files: OutboundFiles | None = None,
) -> Deliver:
    s = settings
    mailer = SmtpMailer.from_settings(s)
    return Deliver(
        outbox=outbox,
        providers=providers,
        backoff=backoff,
        clock=clock,
        audit=audit,
        templates=templates,
        health=health,
        breaker=breaker,
        pacing=PairPacing(burst=s.pair_burst, interval=timedelta(seconds=s.pair_interval_seconds))
        if s.pair_interval_seconds > 0
        else None,
        reconcile=timedelta(seconds=s.send_reconcile_seconds),
        email=EmailFallback(mailer=mailer, contacts=contacts, subject=s.smtp_subject)
        if mailer is not None
        else None,
        recipients=recipients,
        metrics=metrics,
        files=files,
    )


def build_converse(
    opened: Opened,
    settings: Settings,
    tenant: str,
    *,
    knowledge: KnowledgeBase | None = None,
    providers: ProviderRegistry,
    store: PostgresConversationStore,
    deliver: Deliver,
    audit: PostgresAuditLog,
    backoff: BackoffPolicy,
    clock: Clock,
    review_drafts: PostgresReviewDrafts | None = None,
    handover: Handover | None = None,
    alerts: StaffAlerts | None = None,
    lawyer_exists: Callable[[], Awaitable[bool]] | None = None,
    metrics: Metrics = UNMEASURED,
    case_intakes: CaseIntakeStep | None = None,
    images: TurnImages | None = None,
) -> Converse:
    s = settings
    database, sealer = opened.database, opened.sealer
    identities = PostgresIdentityStore(
        database, sealer, opened.tenant_keys.indexer_for(tenant), tenant
    )
    policy = converse_policy(s)
    review = (
        LawyerReview(
            drafts=review_drafts,
            clock=clock,
            mode=s.review_mode,
            sla=timedelta(minutes=s.review_sla_minutes),
            ack_text=s.review_ack_text or DEFAULT_ACK_TEXT,
            knowledge=knowledge,
            lawyer_exists=lawyer_exists,
        )
        if review_drafts is not None
        else None
    )
    return Converse(
        store=store,
        identities=identities,
        sessions=PostgresSessionStore(database, sealer, tenant),
        assistant=opened.assistant,
        vaults=PostgresVaultStore(database, sealer, tenant),
        deliver=deliver,
        providers=providers,
        debounce=DebouncePolicy(
            quiet=timedelta(seconds=s.debounce_seconds),
            max_wait=timedelta(seconds=s.debounce_max_seconds),
        ),
        backoff=backoff,
        policy=policy,
        clock=clock,
        context_hook=opened.context_hook,
        pii_stages=opened.pii_stages,
        audit=audit,
        knowledge=knowledge,
        handover=handover,
        alerts=alerts,
        consent=ConsentGate(
            identities=identities,
            notices=policy.notices,
            keywords=Keywords(consent=s.consent_keyword, optout=s.optout_keyword),
            audit=audit,
            # Off: the opt-out keyword is still honoured (a right, not a setting).
            required=s.consent_required,
        ),
        review=review if review is not None else SendEverything(),
        zone_triage=opened.zone_triage,
        metrics=metrics,
        case_intakes=case_intakes,
        images=images,
    )


def build_triage(settings: Settings) -> tuple[ZoneTriage, Assistant | None]:
    """The zone triage every tenant uses, and the classification client to close. A firm's own
    classifier (WAGATE_ZONE_TRIAGE, "package.module:callable") replaces the built-in one: the
    packaged rules and TRIAGE_RULES_FILE, with the AI beside them where one is configured."""
    if settings.wagate_zone_triage:
        plugin: ZoneTriage = check_plugin(settings.wagate_zone_triage)
        return plugin, None
    ai = None
    if settings.ai_configured and settings.triage_ai:
        ai = classifier_assistant(
            base_url=settings.ai_base_url or OPENROUTER_URL,
            api_key=_secret(settings.ai_api_key) or "not-needed",
            model=settings.ai_model or "openrouter/auto",
            timeout_seconds=settings.triage_ai_timeout_seconds,
        )
    return build_zone_triage(settings, ai), ai


def worker_tuning(settings: Settings) -> WorkerTuning:
    s = settings
    return WorkerTuning(
        concurrency=s.worker_concurrency,
        poll_seconds=s.job_poll_seconds,
        sweep_interval_seconds=s.sweep_interval_seconds,
        inbound_attempts=s.inbound_attempts,
        credential_check_seconds=s.credential_check_seconds,
        degraded_probe_seconds=s.degraded_probe_seconds,
    )


def configuration_summary(settings: Settings, *, embedded: bool) -> dict[str, Any]:
    """What is configured, as booleans and counts only: never a secret, never an id."""
    s = settings
    # In sandbox mode the Meta settings are the built-in fake's, not the operator's: the
    # fields say what the operator configured (nothing, or there would be no sandbox).
    own = not s.sandbox_active
    return {
        "sandbox": s.sandbox_active,
        "meta": {
            "configured": own and s.meta_configured,
            "appSecret": own and s.meta_app_secret is not None,
            "accessToken": own and s.meta_access_token is not None,
            "phoneNumberId": own and s.meta_phone_number_id is not None,
            "businessAccountId": own and s.meta_business_account_id is not None,
            "webhookVerifyToken": own and s.meta_webhook_verify_token is not None,
        },
        "fonnte": {
            "configured": s.fonnte_configured,
            "token": s.fonnte_token is not None,
            "webhookSecret": s.fonnte_webhook_secret is not None,
            "ipAllowList": bool(s.fonnte_allowed_ips),
        },
        "database": {"embedded": embedded},
        # A token always exists (configured, or generated into the data dir at start).
        "apiToken": True,
        "apiTokenSource": "environment" if s.wagate_api_token is not None else "dataDir",
        "ai": {
            "configured": s.ai_configured,
            "model": s.ai_model is not None,
            "fallbackModels": len(s.ai_fallback_models),
        },
        "identityPolicy": s.identity_policy.value,
        "email": {"configured": s.smtp_configured},
    }


def breaker_policy(settings: Settings) -> BreakerPolicy:
    return BreakerPolicy(
        failures=settings.breaker_failures,
        cooldown=timedelta(seconds=settings.breaker_cooldown_seconds),
        max_cooldown=timedelta(
            seconds=max(settings.breaker_max_cooldown_seconds, settings.breaker_cooldown_seconds)
        ),
        degraded_probe=timedelta(seconds=settings.degraded_probe_seconds),
        # A probe cannot take longer than the provider call's own timeout (plus slack).
        probe_timeout=timedelta(seconds=settings.provider_timeout_seconds * 2 + 5),
    )


def data_dir_secret(settings: Settings, name: str) -> str:
    """A secret generated once and kept in the data dir (mode 0600), shared by every process
    that uses the same data dir."""
    path = settings.wagate_data_dir / name
    if path.exists():
        return path.read_text().strip()
    token = secrets.token_urlsafe(32)
    settings.wagate_data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its secret
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token


def api_token(settings: Settings, *, notices: bool = True) -> str:
    """The configured token, or one generated once into the data dir (said in the log when
    `notices`: a command line tool's output is about its command)."""
    configured = _secret(settings.wagate_api_token)
    if configured:
        return configured
    path = settings.wagate_data_dir / "api-token"
    existed = path.exists()
    token = data_dir_secret(settings, "api-token")
    if not existed and notices:
        log.warning(
            "api.token.generated",
            path=str(path.resolve()),
            hint="set WAGATE_API_TOKEN to choose your own",
        )
    return token


def converse_policy(settings: Settings) -> ConversePolicy:
    defaults = Notices()
    notices = Notices(
        link_first=settings.link_notice_text or defaults.link_first,
        rate_limited=settings.rate_limit_notice_text or defaults.rate_limited,
        too_long=settings.too_long_notice_text or defaults.too_long,
        non_text=settings.non_text_notice_text or defaults.non_text,
        media_received=settings.media_received_text or defaults.media_received,
        audio_received=settings.audio_received_text or defaults.audio_received,
        audio_failed=settings.audio_failed_text or defaults.audio_failed,
        media_too_large=settings.media_too_large_text or defaults.media_too_large,
        media_refused=settings.media_refused_text or defaults.media_refused,
        media_mismatch=settings.media_mismatch_text or defaults.media_mismatch,
        media_unavailable=settings.media_unavailable_text or defaults.media_unavailable,
        apology=settings.apology_text or defaults.apology,
        # An empty text switches the disclosure or the disclaimer off.
        disclosure=(
            settings.ai_disclosure_text
            if settings.ai_disclosure_text is not None
            else defaults.disclosure
        ),
        disclaimer=(
            settings.ai_disclaimer_text
            if settings.ai_disclaimer_text is not None
            else defaults.disclaimer
        ),
    )
    return ConversePolicy(
        identity=settings.identity_policy,
        max_chars=settings.max_message_chars,
        rate_limit=settings.rate_limit_per_minute,
        session_timeout=timedelta(minutes=settings.session_timeout_minutes),
        history_turns=settings.history_messages,
        system_prompt=settings.resolved_system_prompt(),
        notices=notices,
        knowledge=KnowledgePolicy(
            passages=settings.kb_passages,
            strict=settings.kb_strict,
            decline_text=(settings.kb_decline_text or "").strip() or DEFAULT_DECLINE_TEXT,
        ),
        urgent_text=(settings.urgent_holding_text or "").strip() or DEFAULT_URGENT_TEXT,
        media_limits=media_limits(settings),
    )


def upload_limits(settings: Settings) -> UploadLimits:
    return UploadLimits(
        image=settings.outbound_max_image_bytes, document=settings.outbound_max_document_bytes
    )


def media_limits(settings: Settings) -> MediaLimits:
    return MediaLimits(
        image=settings.media_max_image_bytes,
        document=settings.media_max_document_bytes,
        audio=settings.media_max_audio_bytes,
        video=settings.media_max_video_bytes,
        sticker=settings.media_max_sticker_bytes,
    )


def build_objects(settings: Settings) -> ObjectStore:
    """Where files are kept: the S3-compatible bucket when S3_BUCKET is set, else a folder
    under the data dir (MEDIA_DIR)."""
    if settings.s3_bucket:
        return S3ObjectStore(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=_secret(settings.s3_secret_access_key),
            prefix=settings.s3_prefix,
            timeout_seconds=settings.provider_timeout_seconds * 3,
        )
    return FileObjectStore(settings.media_folder)


def pii_stages(settings: Settings) -> list[Recognizer]:
    """The optional named-entity model stage (PII_NER_MODEL), loaded once per process."""
    if not settings.pii_ner_model:
        return []
    from wagate.assistants.ner import load_model_stage  # transformers: the `ner` extra

    try:
        return [load_model_stage(settings.pii_ner_model, min_score=settings.pii_ner_min_score)]
    except ImportError as exc:
        raise ConfigurationError(
            "PII_NER_MODEL needs the ner extra: pip install 'wagate[ner]'"
        ) from exc


def build_assistant(settings: Settings, *, notices: bool = True) -> Assistant:
    if not settings.ai_configured:
        if notices:
            log.warning("assistant.offline", hint="set AI_BASE_URL, AI_API_KEY and AI_MODEL")
        return OfflineAssistant()
    return OpenAICompatibleAssistant(
        base_url=settings.ai_base_url or OPENROUTER_URL,
        api_key=_secret(settings.ai_api_key) or "not-needed",
        model=settings.ai_model or "openrouter/auto",
        fallback_models=settings.ai_fallback_models,
        timeout_seconds=settings.ai_timeout_seconds,
        vision_model=settings.ai_vision_model,
    )


def database_url(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    configured = _secret(settings.database_url)
    if configured:
        return configured, None
    embedded = EmbeddedPostgres(Path(settings.wagate_data_dir))
    return embedded.start(), embedded


def app_database_url(settings: Settings, owner_url: str) -> str:
    """The URL the gateway connects with: DATABASE_APP_URL (the operator's role, granted
    here), or the owner's URL with WAGATE_DB_APP_ROLE, created here with a password kept in
    the data dir (or WAGATE_DB_APP_PASSWORD)."""
    explicit = _secret(settings.database_app_url)
    if explicit:
        return ensure_app_role(owner_url, app_url=explicit)
    password = _secret(settings.wagate_db_app_password) or data_dir_secret(
        settings, "db-app-password"
    )
    return ensure_app_role(owner_url, role=settings.wagate_db_app_role, password=password)


def migrate_database(settings: Settings, *, up: bool, revision: str) -> str | None:
    """Migrate the configured (or embedded) database up or down to `revision`; returns the
    revision reached (None: base)."""
    url, embedded = database_url(settings)
    try:
        if up:
            migrate.upgrade(url, revision)
        else:
            migrate.downgrade(url, revision)
        return migrate.current_revision(url)
    finally:
        if embedded is not None:
            embedded.stop()


def keyfile_path(settings: Settings) -> Path | None:
    """The key file, unless the keys come from WAGATE_ENCRYPTION_KEYS."""
    if _secret(settings.wagate_encryption_keys):
        return None
    return settings.wagate_data_dir / "encryption-keys.json"


def keyring(settings: Settings) -> Keyring:
    """Keys from WAGATE_ENCRYPTION_KEYS, else a key file generated once in the data dir."""
    configured = _secret(settings.wagate_encryption_keys)
    if configured:
        return Keyring.parse(configured)
    path = settings.wagate_data_dir / "encryption-keys.json"
    ring, created = load_or_create_keyfile(path)
    if created:
        log.warning(
            "encryption.key_created",
            path=str(path.resolve()),
            action="BACK THIS FILE UP NOW: without it the stored messages cannot be read",
        )
    return ring


async def open_gateway(settings: Settings, *, pool_size: int = 10, notices: bool = True) -> Gateway:
    """Start (or reach) the database, migrate it, open pools. The caller closes the gateway.

    `notices`: log what a running gateway's operator should know (no AI endpoint, an API
    token generated); a command line tool opening the gateway for one command passes False."""
    ring = keyring(settings)  # before anything starts: a bad key stops us here
    url, embedded = database_url(settings)
    try:
        migrate.upgrade(url)
        # Migrations run as the owner; the gateway itself connects as a role that owns no
        # table, so row-level security binds every query it makes.
        database = Database(app_database_url(settings, url), pool_size=pool_size)
        await database.open()
    except BaseException:
        if embedded is not None:
            embedded.stop()
        raise
    setups = provider_catalog.configured(settings)
    try:
        path = keyfile_path(settings)
        masters = KeyfileKeyring(path, ring) if path is not None else FixedKeyring(ring)
        # The environment's tenant keeps the master-derived lookup index it always had.
        tenant_keys = TenantKeys(database, masters, master_indexed={settings.wagate_tenant})
        await tenant_keys.load()
        triage, triage_assistant = build_triage(settings)
        return await build_gateway(
            Opened(
                settings=settings,
                database=database,
                embedded=embedded,
                sealer=tenant_keys.sealer,
                tenant_keys=tenant_keys,
                setups=setups,
                api_token=api_token(settings, notices=notices),
                assistant=build_assistant(settings, notices=notices),
                zone_triage=triage,
                triage_assistant=triage_assistant,
                link_pepper=data_dir_secret(settings, "link-code-pepper"),
                objects=build_objects(settings),
                pii_stages=pii_stages(settings),
                embedder=build_embedder(settings),
                transcriber=build_transcriber(settings),
                metrics=MetricsRecorder(PostgresMetricCounters(database)),
                context_hook=(
                    load_context_hook(settings.ai_context_hook)
                    if settings.ai_context_hook
                    else None
                ),
            )
        )
    except BaseException:
        await database.close()
        if embedded is not None:
            embedded.stop()
        raise


def build_doctor(settings: Settings) -> Doctor:
    """`wagate doctor`: a probe for everything going live needs, built from the settings
    alone (nothing is opened, migrated or created until the probes run, and they only read)."""
    s = settings
    keys = KeySource(
        environment=_secret(s.wagate_encryption_keys),
        keyfile=s.wagate_data_dir / "encryption-keys.json",
    )
    probes: list[Probe] = [
        KeysProbe(source=keys),
        DatabaseProbe(
            owner_url=_secret(s.database_url) or None,
            data_dir=s.wagate_data_dir,
            keys=keys,
            embeddings=bool(s.ai_embedding_model),
        ),
    ]
    timeout = s.provider_timeout_seconds
    if s.meta_number_configured:
        probes.append(
            MetaNumberProbe(
                graph_url=s.meta_graph_url,
                access_token=_secret(s.meta_access_token) or "",
                phone_number_id=s.meta_phone_number_id or "",
                timeout=timeout,
            )
        )
    if s.fonnte_configured:
        probes.append(
            FonnteDeviceProbe(
                api_url=s.fonnte_api_url, token=_secret(s.fonnte_token) or "", timeout=timeout
            )
        )
    for setup in provider_catalog.configured(s):
        if setup.name in (Provider.META, Provider.FONNTE) or setup.channel_id is None:
            continue
        channel, token, connect = setup.channel_id, setup.token, setup.connect
        probes.append(
            CredentialProbe(area=setup.name.value, connect=partial(connect, channel, token))
        )
    if s.ai_configured:
        probes.append(
            AiProbe(
                base_url=s.ai_base_url or OPENROUTER_URL,
                api_key=_secret(s.ai_api_key),
                model=s.ai_model or "openrouter/auto",
                fallback_models=s.ai_fallback_models,
                transcription_model=s.ai_transcription_model,
                vision_model=s.ai_vision_model,
                timeout=s.ai_timeout_seconds,
            )
        )
    if s.public_url:
        probes.append(
            PublicUrlProbe(
                public_url=s.public_url,
                verify_token=_secret(s.meta_webhook_verify_token) if s.meta_configured else None,
            )
        )
    return Doctor(facts=live_facts(s), probes=probes)


def build_console(s: Settings, database: Database, clock: Clock) -> ConsoleServices:
    """The console's sessions over the catalogue, with the settings' timeouts."""
    policy = SessionPolicy(
        idle=timedelta(minutes=s.console_idle_minutes),
        lifetime=timedelta(hours=s.console_session_hours),
    )
    return ConsoleServices(
        sessions=ConsoleSessions(
            store=PostgresConsoleSessions(database), clock=clock, policy=policy
        ),
        secure_cookie=s.console_secure_cookie,
        language=s.console_language,
        settings_view=console_view(s),
    )
