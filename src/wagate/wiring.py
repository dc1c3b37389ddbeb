"""The only place that builds adapters from settings and hands them to the pipeline."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from wagate.assistants.base import Assistant
from wagate.assistants.context import ContextHook, load_context_hook
from wagate.assistants.offline import OfflineAssistant
from wagate.assistants.openai_compatible import OpenAICompatibleAssistant
from wagate.domain.breaker import BreakerPolicy, ChannelHealth
from wagate.domain.capabilities import Capabilities
from wagate.domain.consent import Keywords
from wagate.domain.conversation import DebouncePolicy, Notices
from wagate.domain.messages import Provider
from wagate.domain.pacing import PairPacing
from wagate.domain.retry import BackoffPolicy
from wagate.notify.smtp import SmtpMailer
from wagate.pipeline.consent_gate import ConsentGate
from wagate.pipeline.converse import Converse, ConversePolicy
from wagate.pipeline.deliver import Deliver, EmailFallback
from wagate.pipeline.intake import Intake
from wagate.pipeline.send import OperatorSend
from wagate.providers.base import MessagingProvider
from wagate.providers.fonnte.client import FonnteClient
from wagate.providers.meta.client import MetaClient
from wagate.providers.registry import Factory, ProviderRegistry
from wagate.security.crypto import AesGcmSealer, BlindIndex
from wagate.security.keyfile_sealer import KeyfileSealer
from wagate.security.keys import Keyring, load_or_create_keyfile
from wagate.security.sealing import Sealer
from wagate.settings import OPENROUTER_URL, Settings
from wagate.storage import migrate
from wagate.storage.accounts import AccountAdmin
from wagate.storage.audit import PostgresAuditLog
from wagate.storage.blind import Indexer
from wagate.storage.conversations import PostgresConversationStore
from wagate.storage.database import Database
from wagate.storage.dead_letters import DeadLetters
from wagate.storage.embedded import EmbeddedPostgres
from wagate.storage.identity import PostgresIdentityStore
from wagate.storage.inbound_failures import InboundFailures
from wagate.storage.intake import IntakeStore
from wagate.storage.outbound import PostgresOutbox
from wagate.storage.provider_health import PostgresChannelHealth, PostgresCredentials
from wagate.storage.queries import ConversationQueries
from wagate.storage.rights import ContactRights
from wagate.storage.sessions import PostgresSessionStore
from wagate.storage.vaults import PostgresVaultStore
from wagate.web.webhooks import WebhookSecrets

log = structlog.get_logger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


@dataclass
class Gateway:
    settings: Settings
    database: Database
    embedded: EmbeddedPostgres | None
    sealer: Sealer
    providers: ProviderRegistry
    api_token: str
    blind: Indexer
    assistant: Assistant
    link_pepper: str
    context_hook: ContextHook | None = None
    intake: Intake = field(init=False)
    queries: ConversationQueries = field(init=False)
    conversations: PostgresConversationStore = field(init=False)
    accounts: AccountAdmin = field(init=False)
    outbox: PostgresOutbox = field(init=False)
    deliver: Deliver = field(init=False)
    converse: Converse = field(init=False)
    sender: OperatorSend = field(init=False)
    audit: PostgresAuditLog = field(init=False)
    rights: ContactRights = field(init=False)
    dead_letters: DeadLetters = field(init=False)
    inbound_failures: InboundFailures = field(init=False)
    channel_health: PostgresChannelHealth = field(init=False)
    credentials: PostgresCredentials = field(init=False)
    breaker: BreakerPolicy = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        tenant = s.wagate_tenant
        self.inbound_failures = InboundFailures(self.database, tenant)
        self.dead_letters = DeadLetters(self.database, self.sealer, tenant, self.inbound_failures)
        self.channel_health = PostgresChannelHealth(self.database, tenant)
        self.credentials = PostgresCredentials(self.database, self.sealer, tenant)
        self.providers.token_source = self.credentials.current
        self.breaker = breaker_policy(s)
        self.audit = PostgresAuditLog(self.database, tenant)
        self.rights = ContactRights(self.database, self.sealer, self.blind, tenant)

        self.intake = Intake(
            store=IntakeStore(
                self.database,
                self.sealer,
                self.blind,
                tenant,
                meta_channel=configured_channels(s).get(Provider.META),
            ),
            debounce=timedelta(seconds=s.debounce_seconds),
            clock=self.clock,
        )
        self.queries = ConversationQueries(self.database, self.sealer, tenant)
        self.conversations = PostgresConversationStore(
            self.database, self.sealer, self.blind, tenant
        )
        self.accounts = AccountAdmin(
            self.database, self.sealer, self.blind, tenant, pepper=self.link_pepper
        )
        self.outbox = PostgresOutbox(self.database, self.sealer, self.blind, tenant)
        backoff = BackoffPolicy(max_attempts=s.send_attempts)
        templates = s.templates()
        self.sender = OperatorSend(
            outbox=self.outbox,
            channels=configured_channels(s),
            capabilities=configured_capabilities(s),
            clock=self.clock,
            templates=templates,
        )
        mailer = SmtpMailer.from_settings(s)
        self.deliver = Deliver(
            outbox=self.outbox,
            providers=self.providers,
            backoff=backoff,
            clock=self.clock,
            audit=self.audit,
            templates=templates,
            health=self.channel_health,
            breaker=self.breaker,
            pacing=PairPacing(
                burst=s.pair_burst, interval=timedelta(seconds=s.pair_interval_seconds)
            )
            if s.pair_interval_seconds > 0
            else None,
            reconcile=timedelta(seconds=s.send_reconcile_seconds),
            email=EmailFallback(mailer=mailer, contacts=self.accounts, subject=s.smtp_subject)
            if mailer is not None
            else None,
        )
        identities = PostgresIdentityStore(self.database, self.sealer, self.blind, tenant)
        policy = converse_policy(s)
        self.converse = Converse(
            store=self.conversations,
            identities=identities,
            sessions=PostgresSessionStore(self.database, self.sealer, tenant),
            assistant=self.assistant,
            vaults=PostgresVaultStore(self.database, self.sealer, tenant),
            deliver=self.deliver,
            providers=self.providers,
            debounce=DebouncePolicy(
                quiet=timedelta(seconds=s.debounce_seconds),
                max_wait=timedelta(seconds=s.debounce_max_seconds),
            ),
            backoff=backoff,
            policy=policy,
            clock=self.clock,
            context_hook=self.context_hook,
            audit=self.audit,
            consent=ConsentGate(
                identities=identities,
                notices=policy.notices,
                keywords=Keywords(consent=s.consent_keyword, optout=s.optout_keyword),
                audit=self.audit,
            )
            if s.consent_required
            else None,
        )

    @staticmethod
    def clock() -> datetime:
        return utcnow()

    @property
    def webhook_secrets(self) -> WebhookSecrets:
        s = self.settings
        return WebhookSecrets(
            meta_app_secret=_secret(s.meta_app_secret) if s.meta_configured else None,
            meta_verify_token=_secret(s.meta_webhook_verify_token) if s.meta_configured else None,
            fonnte_secret=_secret(s.fonnte_webhook_secret) if s.fonnte_configured else None,
            fonnte_networks=tuple(
                ipaddress.ip_network(n, strict=False) for n in s.fonnte_allowed_ips
            ),
        )

    async def status(self) -> dict[str, Any]:
        """What is configured, as booleans only: never a secret, never an id."""
        s = self.settings
        return {
            "sandbox": s.sandbox_active,
            "meta": {
                "configured": s.meta_configured,
                "appSecret": s.meta_app_secret is not None,
                "accessToken": s.meta_access_token is not None,
                "phoneNumberId": s.meta_phone_number_id is not None,
                "businessAccountId": s.meta_business_account_id is not None,
                "webhookVerifyToken": s.meta_webhook_verify_token is not None,
            },
            "fonnte": {
                "configured": s.fonnte_configured,
                "token": s.fonnte_token is not None,
                "webhookSecret": s.fonnte_webhook_secret is not None,
                "ipAllowList": bool(s.fonnte_allowed_ips),
            },
            "database": {
                "embedded": self.embedded is not None,
                "reachable": await self.database.ping(),
            },
            "apiToken": s.wagate_api_token is not None,
            "ai": {
                "configured": s.ai_configured,
                "model": s.ai_model is not None,
                "fallbackModels": len(s.ai_fallback_models),
            },
            "identityPolicy": s.identity_policy.value,
            "email": {"configured": s.smtp_configured},
            "channels": await self.channel_states(),
        }

    async def channel_states(self, *, with_ids: bool = False) -> list[dict[str, Any]]:
        """OU5/OU7: each channel's breaker or degraded state, and why (never a secret; the
        channel's id only for token holders)."""
        known = {(p, c): h for p, c, h in await self.channel_health.all()}
        for key in configured_channels(self.settings).items():
            known.setdefault(key, ChannelHealth())
        return [
            {
                "provider": provider.value,
                **({"channel": channel} if with_ids else {}),
                "state": health.state.value,
                "sending": health.healthy,
                "failures": health.failures,
                # Digits runs could be numbers of people or ids: never in a status.
                "reason": re.sub(r"\d{6,}", "…", health.reason) if health.reason else None,
                "since": health.changed_at.isoformat() if health.changed_at else None,
                "retryAt": health.retry_at.isoformat() if health.retry_at else None,
            }
            for (provider, channel), health in sorted(known.items())
        ]

    async def close(self) -> None:
        await self.assistant.aclose()
        await self.providers.aclose()
        await self.database.close()
        if self.embedded is not None:
            self.embedded.stop()


def configured_channels(settings: Settings) -> dict[Provider, str]:
    """Each configured provider's own channel: Meta's phone number id; Fonnte has one device."""
    channels: dict[Provider, str] = {}
    if settings.meta_configured and settings.meta_phone_number_id:
        channels[Provider.META] = settings.meta_phone_number_id
    if settings.fonnte_configured:
        channels[Provider.FONNTE] = "fonnte"
    return channels


def configured_capabilities(settings: Settings) -> dict[Provider, Capabilities]:
    """What each configured provider's adapter declares it can do."""
    adapters = {Provider.META: MetaClient.capabilities, Provider.FONNTE: FonnteClient.capabilities}
    return {provider: adapters[provider] for provider in configured_channels(settings)}


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


def provider_registry(settings: Settings) -> ProviderRegistry:
    factories: dict[Provider, Factory] = {}
    tokens: dict[Provider, str] = {}
    timeout = settings.provider_timeout_seconds
    if settings.meta_configured:
        tokens[Provider.META] = _secret(settings.meta_access_token) or ""

        def meta(channel_id: str, token: str) -> MessagingProvider:
            return MetaClient(
                graph_url=settings.meta_graph_url,
                access_token=token,
                phone_number_id=channel_id,
                timeout=timeout,
            )

        factories[Provider.META] = meta
    if settings.fonnte_configured:
        tokens[Provider.FONNTE] = _secret(settings.fonnte_token) or ""

        def fonnte(_channel_id: str, token: str) -> MessagingProvider:
            return FonnteClient(api_url=settings.fonnte_api_url, token=token, timeout=timeout)

        factories[Provider.FONNTE] = fonnte
    return ProviderRegistry(factories, tokens)


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


def api_token(settings: Settings) -> str:
    """The configured token, or one generated once into the data dir."""
    configured = _secret(settings.wagate_api_token)
    if configured:
        return configured
    path = settings.wagate_data_dir / "api-token"
    existed = path.exists()
    token = data_dir_secret(settings, "api-token")
    if not existed:
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
    )


def build_assistant(settings: Settings) -> Assistant:
    if not settings.ai_configured:
        log.warning("assistant.offline", hint="set AI_BASE_URL, AI_API_KEY and AI_MODEL")
        return OfflineAssistant()
    return OpenAICompatibleAssistant(
        base_url=settings.ai_base_url or OPENROUTER_URL,
        api_key=_secret(settings.ai_api_key) or "not-needed",
        model=settings.ai_model or "openrouter/auto",
        fallback_models=settings.ai_fallback_models,
        timeout_seconds=settings.ai_timeout_seconds,
    )


def database_url(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    configured = _secret(settings.database_url)
    if configured:
        return configured, None
    embedded = EmbeddedPostgres(Path(settings.wagate_data_dir))
    return embedded.start(), embedded


def keyfile_path(settings: Settings) -> Path | None:
    """The key file, unless the keys come from WAGATE_ENCRYPTION_KEYS."""
    if _secret(settings.wagate_encryption_keys):
        return None
    return settings.wagate_data_dir / "encryption-keys.json"


def build_sealer(settings: Settings, ring: Keyring) -> Sealer:
    path = keyfile_path(settings)
    # With a key file, rotation adds keys to it and running processes follow the file.
    return KeyfileSealer(path, ring) if path is not None else AesGcmSealer(ring)


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


async def open_gateway(settings: Settings, *, pool_size: int = 10) -> Gateway:
    """Start (or reach) the database, migrate it, open pools. The caller closes the gateway."""
    ring = keyring(settings)  # before anything starts: a bad key stops us here
    url, embedded = database_url(settings)
    try:
        migrate.upgrade(url)
        database = Database(url, pool_size=pool_size)
        await database.open()
    except BaseException:
        if embedded is not None:
            embedded.stop()
        raise
    return Gateway(
        settings=settings,
        database=database,
        embedded=embedded,
        sealer=build_sealer(settings, ring),
        blind=BlindIndex(ring),
        providers=provider_registry(settings),
        api_token=api_token(settings),
        assistant=build_assistant(settings),
        link_pepper=data_dir_secret(settings, "link-code-pepper"),
        context_hook=(
            load_context_hook(settings.ai_context_hook) if settings.ai_context_hook else None
        ),
    )
