"""Who is calling the operator API, and for which tenant (MT1, MT2).

A bearer token speaks for one tenant (a token issued with `wagate tenants token T`, which acts
as that tenant's admin, or a personal token from `wagate users token NAME`, which acts as that
user with their role; refused while they are disabled) or for the platform
(`WAGATE_API_TOKEN`, or a platform token; admin). A tenant's token only ever reaches its own
tenant's services, so another tenant's conversation, dead letter or account is simply not
there (404). A platform admin picks a tenant with the `X-Wagate-Tenant` header (the default
tenant without it).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Header, HTTPException, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wagate.edge_services import TenantServices, TokenResolver
from wagate.pipeline.operator import Actor
from wagate.pipeline.tenancy import TenantRuntimes

TENANT_HEADER = "X-Wagate-Tenant"
# Declared in the OpenAPI schema; the check itself stays ours (401 with WWW-Authenticate).
BEARER = HTTPBearer(
    auto_error=False, description="WAGATE_API_TOKEN, or a token from `wagate tenants token`"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    services: TenantServices
    actor: Actor
    platform: bool  # a platform admin (may manage tenants and act for any of them)

    @property
    def tenant(self) -> str:
        return self.services.tenant.id


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """A checked token: the tenant it is bound to (None: the platform) and its actor."""

    tenant: str | None
    actor: Actor


def _unauthorized() -> HTTPException:
    return HTTPException(
        status_code=401,
        detail="missing or invalid API token",
        headers={"WWW-Authenticate": "Bearer"},
    )


def token_check(*, api_token: str, tokens: TokenResolver) -> Callable[..., Awaitable[Grant]]:
    expected = api_token.encode()

    async def check(
        credentials: HTTPAuthorizationCredentials | None = Security(BEARER),
    ) -> Grant:
        token = credentials.credentials.strip() if credentials else ""
        if not token:
            raise _unauthorized()
        if hmac.compare_digest(token.encode(), expected):
            return Grant(tenant=None, actor=Actor(via="api"))
        grant = await tokens.resolve(token)
        if grant is None:
            raise _unauthorized()
        if grant.user is not None and grant.role is not None:
            # A personal token acts as its user, with the role they hold now.
            return Grant(
                tenant=grant.tenant, actor=Actor(via="api", user=grant.user, role=grant.role)
            )
        return Grant(tenant=grant.tenant, actor=Actor(via="api", user=f"token-{grant.id}"))

    return check


def caller_scope(
    *,
    api_token: str,
    tokens: TokenResolver,
    tenants: TenantRuntimes[TenantServices],
) -> Callable[..., Awaitable[Caller]]:
    """The dependency every tenant-scoped route takes."""
    check = token_check(api_token=api_token, tokens=tokens)

    async def scope(
        credentials: HTTPAuthorizationCredentials | None = Security(BEARER),
        tenant: str | None = Header(default=None, alias=TENANT_HEADER, max_length=40),
    ) -> Caller:
        grant = await check(credentials)
        if grant.tenant is not None and tenant is not None and tenant != grant.tenant:
            raise HTTPException(status_code=403, detail="this token is for another tenant")
        tenant_id = grant.tenant or tenant or tenants.default_id
        await tenants.refresh()  # at most every few seconds: picks up a tenant just added
        services = tenants.get(tenant_id)
        if services is None:
            raise HTTPException(status_code=404, detail="no such tenant")
        return Caller(services=services, actor=grant.actor, platform=grant.tenant is None)

    return scope


def platform_scope(*, api_token: str, tokens: TokenResolver) -> Callable[..., Awaitable[Grant]]:
    """The dependency of platform-only routes (tenants): 403 for a tenant's token."""
    check = token_check(api_token=api_token, tokens=tokens)

    async def scope(
        credentials: HTTPAuthorizationCredentials | None = Security(BEARER),
    ) -> Grant:
        grant = await check(credentials)
        if grant.tenant is not None:
            raise HTTPException(status_code=403, detail="platform administrators only")
        return grant

    return scope
