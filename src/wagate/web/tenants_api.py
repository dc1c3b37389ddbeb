"""Tenants over HTTP (MT1): platform administrators only (a tenant's token gets 403). Every
action goes through the operator service's `TenantAdmin`, which checks, acts and audits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from wagate.domain.messages import Provider
from wagate.pipeline.operator.tenants import TenantAdmin
from wagate.web.admin_api import OperatorRoute
from wagate.web.scope import Grant

TENANT_ID = Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")


class NewTenant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    settings: dict[str, Any] = Field(default_factory=dict)


class TenantChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    # A null value removes a setting (back to the platform's).
    settings: dict[str, Any] = Field(default_factory=dict)


class NewChannel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    provider: Provider
    channel: str = Field(min_length=1, max_length=100)
    token: str = Field(min_length=1, max_length=4096)
    account: str | None = Field(default=None, max_length=100)
    webhook_secret: str | None = Field(
        default=None, alias="webhookSecret", min_length=1, max_length=200
    )


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="api", min_length=1, max_length=100)


def tenants_router(*, admin: TenantAdmin, scope: Callable[..., Awaitable[Grant]]) -> APIRouter:
    router = APIRouter(prefix="/api/tenants", route_class=OperatorRoute)
    platform = Depends(scope)

    @router.get("")
    async def list_tenants(_: Grant = platform) -> dict[str, Any]:
        return {"items": await admin.list()}

    @router.post("", status_code=201)
    async def add_tenant(body: NewTenant, who: Grant = platform) -> dict[str, Any]:
        return await admin.add(body.id, name=body.name, settings=body.settings, by=who.actor)

    @router.get("/{tenant_id}")
    async def show_tenant(tenant_id: str = TENANT_ID, _: Grant = platform) -> dict[str, Any]:
        return await admin.show(tenant_id)

    @router.patch("/{tenant_id}")
    async def change_tenant(
        body: TenantChange, tenant_id: str = TENANT_ID, who: Grant = platform
    ) -> dict[str, Any]:
        return await admin.set(tenant_id, name=body.name, settings=body.settings, by=who.actor)

    @router.post("/{tenant_id}/disable")
    async def disable(tenant_id: str = TENANT_ID, who: Grant = platform) -> dict[str, Any]:
        return await admin.disable(tenant_id, by=who.actor)

    @router.post("/{tenant_id}/enable")
    async def enable(tenant_id: str = TENANT_ID, who: Grant = platform) -> dict[str, Any]:
        return await admin.enable(tenant_id, by=who.actor)

    @router.post("/{tenant_id}/erase")
    async def erase(tenant_id: str = TENANT_ID, who: Grant = platform) -> dict[str, Any]:
        """Crypto-shred: the tenant's data key is destroyed and its content is unreadable."""
        return await admin.erase(tenant_id, by=who.actor)

    @router.post("/{tenant_id}/channels", status_code=201)
    async def add_channel(
        body: NewChannel, tenant_id: str = TENANT_ID, who: Grant = platform
    ) -> dict[str, Any]:
        return await admin.add_channel(
            tenant_id,
            provider=body.provider,
            channel_id=body.channel,
            token=body.token,
            account_id=body.account,
            webhook_secret=body.webhook_secret,
            by=who.actor,
        )

    @router.delete("/{tenant_id}/channels/{provider}/{channel_id}")
    async def remove_channel(
        provider: Provider,
        channel_id: str = Path(min_length=1, max_length=100),
        tenant_id: str = TENANT_ID,
        who: Grant = platform,
    ) -> dict[str, Any]:
        return await admin.remove_channel(
            tenant_id, provider=provider, channel_id=channel_id, by=who.actor
        )

    @router.get("/{tenant_id}/tokens")
    async def list_tokens(tenant_id: str = TENANT_ID, _: Grant = platform) -> dict[str, Any]:
        return {"items": await admin.list_tokens(tenant_id)}

    @router.post("/{tenant_id}/tokens", status_code=201)
    async def issue_token(
        body: NewToken, tenant_id: str = TENANT_ID, who: Grant = platform
    ) -> dict[str, Any]:
        """The token is in this answer only; the gateway keeps its digest."""
        return await admin.issue_token(tenant_id, name=body.name, by=who.actor)

    @router.delete("/{tenant_id}/tokens/{token_id}", status_code=204)
    async def revoke_token(
        token_id: int = Path(ge=1, le=2**63 - 1),
        tenant_id: str = TENANT_ID,
        who: Grant = platform,
    ) -> None:
        await admin.revoke_token(tenant_id, token_id, by=who.actor)

    return router
