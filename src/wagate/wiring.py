"""The only place that builds adapters from settings and hands them to the pipeline."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from wagate.domain.conversation import DebouncePolicy
from wagate.domain.messages import Provider
from wagate.domain.retry import BackoffPolicy
from wagate.pipeline.converse import Converse
from wagate.pipeline.intake import Intake
from wagate.providers.base import MessagingProvider
from wagate.providers.fonnte.client import FonnteClient
from wagate.providers.meta.client import MetaClient
from wagate.providers.registry import Factory, ProviderRegistry
from wagate.security.sealing import PlaintextSealer, Sealer
from wagate.settings import Settings
from wagate.storage import migrate
from wagate.storage.conversations import PostgresConversationStore
from wagate.storage.database import Database
from wagate.storage.embedded import EmbeddedPostgres
from wagate.storage.intake import IntakeStore
from wagate.storage.queries import ConversationQueries
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
    intake: Intake = field(init=False)
    queries: ConversationQueries = field(init=False)
    conversations: PostgresConversationStore = field(init=False)
    converse: Converse = field(init=False)

    def __post_init__(self) -> None:
        tenant = self.settings.wagate_tenant
        self.intake = Intake(
            store=IntakeStore(self.database, self.sealer, tenant),
            debounce=timedelta(seconds=self.settings.debounce_seconds),
            clock=self.clock,
        )
        self.queries = ConversationQueries(self.database, self.sealer, tenant)
        self.conversations = PostgresConversationStore(self.database)
        self.converse = Converse(
            store=self.conversations,
            providers=self.providers,
            debounce=DebouncePolicy(
                quiet=timedelta(seconds=self.settings.debounce_seconds),
                max_wait=timedelta(seconds=self.settings.debounce_max_seconds),
            ),
            backoff=BackoffPolicy(max_attempts=self.settings.mark_read_attempts),
            clock=self.clock,
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
        }

    async def close(self) -> None:
        await self.providers.aclose()
        await self.database.close()
        if self.embedded is not None:
            self.embedded.stop()


def provider_registry(settings: Settings) -> ProviderRegistry:
    factories: dict[Provider, Factory] = {}
    if settings.meta_configured:
        token = _secret(settings.meta_access_token) or ""

        def meta(channel_id: str) -> MessagingProvider:
            return MetaClient(
                graph_url=settings.meta_graph_url, access_token=token, phone_number_id=channel_id
            )

        factories[Provider.META] = meta
    if settings.fonnte_configured:
        fonnte_token = _secret(settings.fonnte_token) or ""

        def fonnte(_channel_id: str) -> MessagingProvider:
            return FonnteClient(api_url=settings.fonnte_api_url, token=fonnte_token)

        factories[Provider.FONNTE] = fonnte
    return ProviderRegistry(factories)


def api_token(settings: Settings) -> str:
    """The configured token, or one generated once and kept in the data dir (mode 0600)."""
    configured = _secret(settings.wagate_api_token)
    if configured:
        return configured
    path = settings.wagate_data_dir / "api-token"
    if path.exists():
        return path.read_text().strip()
    token = secrets.token_urlsafe(32)
    settings.wagate_data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    log.warning(
        "api.token.generated",
        path=str(path.resolve()),
        hint="set WAGATE_API_TOKEN to choose your own",
    )
    return token


def database_url(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    configured = _secret(settings.database_url)
    if configured:
        return configured, None
    embedded = EmbeddedPostgres(Path(settings.wagate_data_dir))
    return embedded.start(), embedded


async def open_gateway(settings: Settings, *, pool_size: int = 10) -> Gateway:
    """Start (or reach) the database, migrate it, open pools. The caller closes the gateway."""
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
        sealer=PlaintextSealer(),
        providers=provider_registry(settings),
        api_token=api_token(settings),
    )
