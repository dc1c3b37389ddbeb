"""Tenants (MT1, MT2): the platform admin's actions on the firms one gateway serves.

Each action is checked, done, and recorded in the platform's audit trail (the default tenant's
chain) naming the tenant; secrets (tokens, webhook secrets) never reach the record. Erasing a
tenant destroys its data key first: from that moment nothing it stored can be read, whatever
happens to the rest of the steps.
"""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog

from wagate.domain.messages import Provider
from wagate.domain.operators import Permission
from wagate.domain.tenants import Tenant, TenantChannel, TenantStatus, check_tenant_id
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import Conflict, NotFound, Rejected
from wagate.pipeline.operator.recorder import Recorder

log = structlog.get_logger(__name__)

MIN_WEBHOOK_SECRET = 16


class ChannelConflict(Exception):
    """Raised by the store when another tenant owns the channel or its secret."""


class TenantStore(Protocol):
    async def all(self) -> list[Tenant]: ...

    async def get(self, tenant_id: str) -> Tenant | None: ...

    async def add(
        self, tenant_id: str, name: str, settings: dict[str, Any], *, at: datetime
    ) -> bool: ...

    async def update(
        self,
        tenant_id: str,
        *,
        at: datetime,
        name: str | None = None,
        settings: dict[str, Any] | None = None,
        status: TenantStatus | None = None,
    ) -> bool: ...

    async def add_channel(self, tenant_id: str, channel: TenantChannel, *, at: datetime) -> None:
        """Raises ChannelConflict when another tenant owns the channel."""

    async def remove_channel(
        self, tenant_id: str, provider: Provider, channel_id: str, *, at: datetime
    ) -> bool: ...

    async def erase(self, tenant_id: str, *, at: datetime) -> None: ...


class TenantKeyStore(Protocol):
    async def ensure(self, tenant: str) -> None:
        """The tenant has a data key (created on first call)."""

    async def shred(self, tenant: str) -> None:
        """Destroy the tenant's data keys: its sealed content is unreadable from now on."""


class TenantFiles(Protocol):
    async def discard(self, tenant: str) -> int:
        """Remove every file the tenant was sent: rows (into the trash, one statement) and
        objects (deleted while the store answers; the rest by the worker's hourly sweep).
        Returns the files removed."""


class TokenStore(Protocol):
    async def issue(self, tenant: str | None, name: str, *, at: datetime) -> tuple[int, str]: ...

    async def list(self, tenant: str | None) -> list[dict[str, Any]]: ...

    async def revoke(self, token_id: int, tenant: str | None, *, at: datetime) -> bool: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantAdmin:
    store: TenantStore
    keys: TenantKeyStore
    tokens: TokenStore
    recorder: Recorder
    default_tenant: str
    # The providers tenants may bring channels of, and those whose webhook URL carries a
    # per-channel secret (which must then be given, long enough).
    providers: Collection[Provider]
    secret_providers: Collection[Provider]
    # The settings check (names and types of what a tenant may override), and what to call
    # after a change so this process serves it at once (others poll).
    check_settings: Callable[[Mapping[str, Any]], dict[str, Any]]
    changed: Callable[[], Awaitable[object]]
    # The files people sent the tenant (issue 16): removed from the object store on erasure.
    files: TenantFiles | None = None

    async def list(self) -> list[dict[str, Any]]:
        return [describe(t) for t in await self.store.all()]

    async def show(self, tenant_id: str) -> dict[str, Any]:
        return describe(await self._existing(tenant_id))

    async def add(
        self,
        tenant_id: str,
        *,
        name: str | None = None,
        settings: Mapping[str, Any] | None = None,
        by: Actor,
    ) -> dict[str, Any]:
        by.require(Permission.ADMINISTER)
        try:
            check_tenant_id(tenant_id)
        except ValueError as exc:
            raise Rejected(str(exc)) from exc
        overrides = self._checked(settings or {})
        at = self.recorder.clock()
        if not await self.store.add(tenant_id, (name or tenant_id).strip(), overrides, at=at):
            raise Conflict(f"tenant {tenant_id!r} exists (ids are never reused)")
        await self.keys.ensure(tenant_id)
        await self.recorder.record(
            by, "tenant.added", f"tenant:{tenant_id}", tenant=tenant_id, settings=sorted(overrides)
        )
        await self.changed()
        return await self.show(tenant_id)

    async def set(
        self,
        tenant_id: str,
        *,
        name: str | None = None,
        settings: Mapping[str, Any] | None = None,
        by: Actor,
    ) -> dict[str, Any]:
        """Merge `settings` into the tenant's overrides; a None value removes one (back to
        the platform's)."""
        by.require(Permission.ADMINISTER)
        tenant = await self._live(tenant_id)
        merged: dict[str, Any] | None = None
        if settings:
            merged = dict(tenant.settings)
            for key, value in settings.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            merged = self._checked(merged)
        await self.store.update(
            tenant_id,
            at=self.recorder.clock(),
            name=name.strip() if name else None,
            settings=merged,
        )
        await self.recorder.record(
            by,
            "tenant.updated",
            f"tenant:{tenant_id}",
            tenant=tenant_id,
            settings=sorted(settings or {}),
            renamed=name is not None,
        )
        await self.changed()
        return await self.show(tenant_id)

    async def disable(self, tenant_id: str, *, by: Actor) -> dict[str, Any]:
        """Its webhooks are still taken and stored; nothing is answered or sent until it is
        enabled again (then its waiting messages are answered)."""
        by.require(Permission.ADMINISTER)
        return await self._status(tenant_id, TenantStatus.DISABLED, "tenant.disabled", by)

    async def enable(self, tenant_id: str, *, by: Actor) -> dict[str, Any]:
        by.require(Permission.ADMINISTER)
        return await self._status(tenant_id, TenantStatus.ACTIVE, "tenant.enabled", by)

    async def add_channel(
        self,
        tenant_id: str,
        *,
        provider: Provider,
        channel_id: str,
        token: str,
        account_id: str | None = None,
        webhook_secret: str | None = None,
        by: Actor,
    ) -> dict[str, Any]:
        by.require(Permission.ADMINISTER)
        await self._live(tenant_id)
        channel_id, token = channel_id.strip(), token.strip()
        if provider not in self.providers:
            raise Rejected(f"{provider.value} is not configured on this gateway")
        if not channel_id or not token:
            raise Rejected("a channel needs its id and its token")
        secret_too_short = not webhook_secret or len(webhook_secret) < MIN_WEBHOOK_SECRET
        if provider in self.secret_providers and secret_too_short:
            raise Rejected(
                f"{provider.value} signs nothing: give a webhook secret of at least "
                f"{MIN_WEBHOOK_SECRET} characters (it goes in the webhook URL)"
            )
        channel = TenantChannel(
            provider=provider,
            channel_id=channel_id,
            token=token,
            account_id=(account_id or "").strip() or None,
            webhook_secret=webhook_secret,
        )
        try:
            await self.store.add_channel(tenant_id, channel, at=self.recorder.clock())
        except ChannelConflict as exc:
            raise Conflict(f"{provider.value} channel is taken: {exc}") from exc
        await self.recorder.record(
            by,
            "tenant.channel_added",
            f"tenant:{tenant_id}",
            tenant=tenant_id,
            provider=provider.value,
            channel=channel_id,
        )
        await self.changed()
        return await self.show(tenant_id)

    async def remove_channel(
        self, tenant_id: str, *, provider: Provider, channel_id: str, by: Actor
    ) -> dict[str, Any]:
        by.require(Permission.ADMINISTER)
        await self._existing(tenant_id)
        if not await self.store.remove_channel(
            tenant_id, provider, channel_id, at=self.recorder.clock()
        ):
            raise NotFound(f"tenant {tenant_id!r} has no {provider.value} channel {channel_id!r}")
        await self.recorder.record(
            by,
            "tenant.channel_removed",
            f"tenant:{tenant_id}",
            tenant=tenant_id,
            provider=provider.value,
            channel=channel_id,
        )
        await self.changed()
        return await self.show(tenant_id)

    async def issue_token(self, tenant_id: str | None, *, name: str, by: Actor) -> dict[str, Any]:
        """A new operator API token for the tenant (None: a platform admin token). The token
        is shown once; only its digest is kept."""
        by.require(Permission.ADMINISTER)
        if tenant_id is not None:
            await self._live(tenant_id)
        label = name.strip() or "token"
        token_id, token = await self.tokens.issue(tenant_id, label, at=self.recorder.clock())
        await self.recorder.record(
            by,
            "api_token.issued",
            f"api_token:{token_id}",
            tenant=tenant_id,
            name=label,
        )
        return {"id": token_id, "tenant": tenant_id, "name": label, "token": token}

    async def list_tokens(self, tenant_id: str | None) -> builtins.list[dict[str, Any]]:
        if tenant_id is not None:
            await self._existing(tenant_id)
        return await self.tokens.list(tenant_id)

    async def revoke_token(self, tenant_id: str | None, token_id: int, *, by: Actor) -> None:
        by.require(Permission.ADMINISTER)
        if not await self.tokens.revoke(token_id, tenant_id, at=self.recorder.clock()):
            raise NotFound(f"no live token {token_id} for {tenant_id or 'the platform'}")
        await self.recorder.record(
            by, "api_token.revoked", f"api_token:{token_id}", tenant=tenant_id
        )

    async def erase(self, tenant_id: str, *, by: Actor) -> dict[str, Any]:
        """Crypto-shred the tenant: its data key is destroyed first (everything it stored is
        unreadable from then on), then its channels and tokens go and it is marked erased.
        Its rows stay, unreadable, except its files: their rows and objects are removed (a
        failure there leaves the rest to the worker's hourly sweep of erased tenants). The
        audit chains stay verifiable."""
        by.require(Permission.ADMINISTER)
        tenant = await self._existing(tenant_id)
        if tenant_id == self.default_tenant:
            raise Rejected("the default tenant holds the platform's records: it is not erased")
        if tenant.status is TenantStatus.ERASED:
            raise Conflict(f"tenant {tenant_id!r} is already erased")
        at = self.recorder.clock()
        # Stop it first, so no process seals anything new for it while the key goes.
        await self.store.update(tenant_id, at=at, status=TenantStatus.DISABLED)
        await self.changed()
        await self.keys.shred(tenant_id)
        await self.store.erase(tenant_id, at=at)
        # Unreadable without the key, but not left in the bucket: the objects go too.
        files: int | None = 0
        if self.files is not None:
            try:
                files = await self.files.discard(tenant_id)
            except Exception as exc:  # the erasure stands; the worker's sweep finishes this
                log.warning(
                    "tenant.files_deferred", tenant=tenant_id, error_type=type(exc).__name__
                )
                files = None
        await self.recorder.record(
            by, "tenant.erased", f"tenant:{tenant_id}", tenant=tenant_id, media=files
        )
        await self.changed()
        return await self.show(tenant_id)

    # ------------------------------------------------------------------ helpers

    async def _status(
        self, tenant_id: str, status: TenantStatus, action: str, by: Actor
    ) -> dict[str, Any]:
        tenant = await self._live(tenant_id)
        if tenant.status is not status:
            await self.store.update(tenant_id, at=self.recorder.clock(), status=status)
            await self.recorder.record(by, action, f"tenant:{tenant_id}", tenant=tenant_id)
            await self.changed()
        return await self.show(tenant_id)

    async def _existing(self, tenant_id: str) -> Tenant:
        tenant = await self.store.get(tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {tenant_id!r}")
        return tenant

    async def _live(self, tenant_id: str) -> Tenant:
        tenant = await self._existing(tenant_id)
        if tenant.status is TenantStatus.ERASED:
            raise Conflict(f"tenant {tenant_id!r} is erased")
        return tenant

    def _checked(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self.check_settings(settings)
        except ValueError as exc:
            raise Rejected(str(exc)) from exc


def describe(tenant: Tenant) -> dict[str, Any]:
    """A tenant as shown to a platform admin: settings and channels, never a secret."""
    return {
        "id": tenant.id,
        "name": tenant.name,
        "status": tenant.status.value,
        "settings": dict(tenant.settings),
        "channels": [
            {
                "provider": c.provider.value,
                "channel": c.channel_id,
                "account": c.account_id,
                "token": bool(c.token),
                "webhookSecret": bool(c.webhook_secret),
            }
            for c in tenant.channels
        ],
        "version": tenant.version,
    }
