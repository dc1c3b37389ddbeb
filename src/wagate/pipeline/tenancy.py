"""Each tenant's services, built once and kept while the tenant is unchanged (MT1, IN8).

Every process (web, worker, CLI) holds one `TenantRuntimes`: the tenant catalogue's current
snapshot, the services wiring built for each tenant (its intake, conversation, delivery,
operator service …) and the routing maps webhooks need (which tenant owns this number, whose
webhook secret is this). Looking a tenant up is a dict access, so the cost of a message does
not grow with the number of tenants; the catalogue is polled by a cheap stamp and only changed
tenants are rebuilt.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import structlog

from wagate.domain.messages import Provider
from wagate.domain.tenants import Tenant, TenantChannel, TenantStatus

log = structlog.get_logger(__name__)

S = TypeVar("S")


class TenantSource(Protocol):
    async def stamp(self) -> Hashable:
        """Changes whenever any tenant or channel changes."""

    async def load(self) -> list[Tenant]:
        """Every tenant, with its channels (the default tenant's configured ones included)."""


def secret_key(secret: str) -> str:
    """The lookup key of a webhook path secret (the same digest the catalogue stores)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Built(Generic[S]):
    tenant: Tenant
    services: S


class TenantRuntimes(Generic[S]):
    """The tenants this process serves, and their services. `get` never touches the database;
    `refresh` (called by a background loop, and on a webhook for a number nobody owns) picks
    up changes."""

    def __init__(
        self,
        *,
        source: TenantSource,
        build: Callable[[Tenant], Awaitable[S]],
        retire: Callable[[S], Awaitable[None]],
        default: str,
        refresh_every: float = 2.0,
    ) -> None:
        self._source = source
        self._build = build
        self._retire = retire
        self.default_id = default
        self._refresh_every = refresh_every
        self._built: dict[str, _Built[S]] = {}
        self._tenants: dict[str, Tenant] = {}
        self._owners: dict[tuple[Provider, str], str] = {}
        self._secrets: dict[tuple[Provider, str], tuple[str, TenantChannel]] = {}
        self._retired: list[S] = []
        self._stamp: Hashable | None = None
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ lookups (no I/O)

    def get(self, tenant_id: str) -> S | None:
        """The tenant's services; None for an unknown or erased tenant."""
        built = self._built.get(tenant_id)
        return built.services if built is not None else None

    def tenant(self, tenant_id: str) -> Tenant | None:
        return self._tenants.get(tenant_id)

    @property
    def default(self) -> S:
        services = self.get(self.default_id)
        if services is None:  # the default tenant is ensured at start and never erased
            raise LookupError(f"the default tenant {self.default_id!r} is not loaded")
        return services

    def tenants(self) -> list[Tenant]:
        return sorted(self._tenants.values(), key=lambda t: t.id)

    def served(self) -> Iterator[tuple[Tenant, S]]:
        """Every tenant that has services (not erased), in id order."""
        for tenant_id in sorted(self._built):
            built = self._built[tenant_id]
            yield built.tenant, built.services

    def owner_of(self, provider: Provider, channel_id: str) -> str | None:
        return self._owners.get((provider, channel_id))

    def by_secret(self, provider: Provider, secret: str) -> tuple[str, TenantChannel] | None:
        """The tenant and channel whose webhook secret this is (Fonnte's URL secret)."""
        return self._secrets.get((provider, secret_key(secret)))

    # ------------------------------------------------------------------ changes

    async def refresh(self, *, force: bool = False) -> bool:
        """Reload when the catalogue changed (checked at most every `refresh_every` seconds
        unless forced); True when something was rebuilt."""
        now = time.monotonic()
        if not force and now - self._checked_at < self._refresh_every:
            return False
        async with self._lock:
            if not force and time.monotonic() - self._checked_at < self._refresh_every:
                return False
            self._checked_at = time.monotonic()
            stamp = await self._source.stamp()
            if stamp == self._stamp and not force:
                return False
            tenants = await self._source.load()
            changed = await self._apply(tenants)
            self._stamp = stamp
            return changed

    async def _apply(self, tenants: list[Tenant]) -> bool:
        changed = False
        seen = {t.id for t in tenants}
        for gone in [t for t in self._built if t not in seen]:
            self._retired.append(self._built.pop(gone).services)
            changed = True
        for tenant in tenants:
            current = self._built.get(tenant.id)
            if tenant.status is TenantStatus.ERASED:
                if current is not None:
                    self._retired.append(self._built.pop(tenant.id).services)
                    changed = True
                continue
            if current is not None and current.tenant == tenant:
                continue
            try:
                services = await self._build(tenant)
            except Exception as exc:  # one tenant's bad settings must not stop the others
                log.error("tenant.build_failed", tenant=tenant.id, error=str(exc))
                continue
            if current is not None:
                self._retired.append(current.services)
            self._built[tenant.id] = _Built(tenant, services)
            changed = True
            log.info("tenant.loaded", tenant=tenant.id, status=tenant.status.value)
        self._tenants = {t.id: t for t in tenants}
        self._owners, self._secrets = _routing(tenants)
        return changed

    async def follow(self) -> None:
        """Keep this process's tenants current (run as a background task until cancelled)."""
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # the catalogue must outlive a database hiccup
                log.error("tenants.refresh_failed", error_type=type(exc).__name__)
            await asyncio.sleep(self._refresh_every)

    async def aclose(self) -> None:
        for services in [*(b.services for b in self._built.values()), *self._retired]:
            await self._retire(services)
        self._built.clear()
        self._retired.clear()


def _routing(
    tenants: list[Tenant],
) -> tuple[dict[tuple[Provider, str], str], dict[tuple[Provider, str], tuple[str, TenantChannel]]]:
    owners: dict[tuple[Provider, str], str] = {}
    secrets: dict[tuple[Provider, str], tuple[str, TenantChannel]] = {}
    for tenant in tenants:
        if tenant.status is TenantStatus.ERASED:
            continue
        for channel in tenant.channels:
            owners.setdefault((channel.provider, channel.channel_id), tenant.id)
            if channel.webhook_secret:
                key = (channel.provider, secret_key(channel.webhook_secret))
                secrets.setdefault(key, (tenant.id, channel))
    return owners, secrets
