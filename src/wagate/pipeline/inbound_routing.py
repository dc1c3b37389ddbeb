"""Which tenant a webhook belongs to (IN8), and handing it to that tenant's intake.

Two ways, as each provider declares (`ProviderSetup`): a secret in the webhook URL names one
tenant's channel (Fonnte), so the whole delivery is that tenant's; or one webhook serves every
channel (Meta's app), and each part goes to the tenant owning the channel it names. A part for
a channel nobody owns is stored under the default tenant, flagged, and never answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import structlog

from wagate.domain.messages import Provider, WebhookBatch
from wagate.domain.provider_port import InboundRequest, Listen, WebhookReceiver
from wagate.domain.tenants import route_batch
from wagate.pipeline.metrics import Metrics
from wagate.pipeline.ports import IntakeResult, sum_results
from wagate.pipeline.tenancy import TenantRuntimes, secret_key

log = structlog.get_logger(__name__)


class TenantIntake(Protocol):
    async def receive(self, batch: WebhookBatch, *, source: str) -> IntakeResult: ...


class HasIntake(Protocol):
    @property
    def intake(self) -> TenantIntake: ...

    @property
    def metrics(self) -> Metrics: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderInbound:
    """How one provider's webhooks find their tenant (see ProviderSetup)."""

    receiver: WebhookReceiver | None  # the platform's (environment) receiver
    shared_webhook: bool = False  # split by the channel each part names
    secret_param: str | None = None  # the URL parameter holding a channel's secret
    listen: Listen | None = None  # a channel's secret → its receiver


@dataclass(frozen=True, slots=True)
class Receiving:
    """The receiver for one request, and whose it is (None: decided per part)."""

    receiver: WebhookReceiver
    tenant: str | None


class InboundRouter:
    def __init__(
        self,
        tenants: TenantRuntimes[HasIntake],
        providers: Mapping[Provider, ProviderInbound],
    ) -> None:
        self._tenants = tenants
        self._providers = dict(providers)
        self._listeners: dict[tuple[Provider, str], WebhookReceiver] = {}

    def receiving(self, provider: Provider, request: InboundRequest) -> Receiving | None:
        """Who verifies this request; None when nobody would (the URL answers 404)."""
        spec = self._providers.get(provider)
        if spec is None:
            return None
        if spec.secret_param is not None and spec.listen is not None:
            secret = request.path_params.get(spec.secret_param, "")
            found = self._tenants.by_secret(provider, secret) if secret else None
            if found is not None:
                tenant_id, _channel = found
                return Receiving(self._listener(provider, secret, spec.listen), tenant_id)
        if spec.receiver is None:
            return None
        default = self._tenants.default_id
        return Receiving(spec.receiver, None if spec.shared_webhook else default)

    def _listener(self, provider: Provider, secret: str, listen: Listen) -> WebhookReceiver:
        key = (provider, secret_key(secret))
        receiver = self._listeners.get(key)
        if receiver is None:
            receiver = self._listeners[key] = listen(secret)
        return receiver

    async def receive(
        self, batch: WebhookBatch, *, source: str, tenant: str | None
    ) -> IntakeResult:
        """Commit the batch, each part under its tenant. Raises what the store raises (the
        edge answers 503 and the provider delivers again; intake is idempotent)."""
        if tenant is not None:
            return await self._intake(tenant).receive(batch, source=source)
        routed = route_batch(batch, self._tenants.owner_of)
        if routed.unowned.others and await self._tenants.refresh():
            # A number added a moment ago (by another process) may be behind the flag.
            routed = route_batch(batch, self._tenants.owner_of)
        results = [
            await self._intake(owner).receive(part, source=source)
            for owner, part in routed.by_tenant.items()
        ]
        if not routed.unowned.is_empty:
            if any(o.field_name == "unknown_channel_message" for o in routed.unowned.others):
                log.warning("intake.unknown_channel", provider=source)
            results.append(
                await self._intake(self._tenants.default_id).receive(routed.unowned, source=source)
            )
        return sum_results(results)

    def rejected(self, provider: Provider, reason: str, *, tenant: str | None) -> None:
        """Count a refused request: under the tenant whose URL it used, else the platform's
        (the default tenant: a forged or unsigned request names nobody)."""
        services = self._tenants.get(tenant) if tenant is not None else None
        if services is None:
            services = self._tenants.default
        services.metrics.webhook_rejected(provider=provider.value, reason=reason)

    def _intake(self, tenant: str) -> TenantIntake:
        services = self._tenants.get(tenant)
        if services is None:  # erased meanwhile: what is left is the platform's
            services = self._tenants.default
        return services.intake
