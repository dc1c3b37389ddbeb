"""Operator users over HTTP (issue 14): the caller's tenant's users and their personal tokens
(administrators), and `GET /api/me` (anyone with a token: who the gateway takes them for).
The operator service checks the role, acts and audits; its errors map like every operator
route's (403 for a role that may not)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Path
from pydantic import ConfigDict, Field

from wagate.domain.operators import GRANTS
from wagate.web.admin_api import OperatorRoute, _Body
from wagate.web.scope import Caller

USER_NAME = Path(min_length=1, max_length=64)
TOKEN_ID = Path(ge=1, le=2**63 - 1)


class NewUser(_Body):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    role: str = Field(min_length=1, max_length=20)
    password: str = Field(min_length=1, max_length=1024)


class RoleBody(_Body):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(min_length=1, max_length=20)


class PasswordBody(_Body):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=1024)


class TokenLabel(_Body):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(default="api", min_length=1, max_length=100)


def users_router(*, scope: Callable[..., Awaitable[Caller]]) -> APIRouter:
    router = APIRouter(prefix="/api", route_class=OperatorRoute)
    caller = Depends(scope)

    @router.get("/me")
    async def me(who: Caller = caller) -> dict[str, Any]:
        """Who this token acts as: a user's name (null for a machine token), the role and what
        it may do, the tenant."""
        actor = who.actor
        personal = actor.user is not None and not actor.user.startswith("token-")
        return {
            "name": actor.user if personal else None,
            "actor": actor.audit_name,
            "role": actor.role.value,
            "permissions": sorted(p.value for p in GRANTS[actor.role]),
            "tenant": who.tenant,
            "platform": who.platform,
        }

    @router.get("/users")
    async def list_users(who: Caller = caller) -> dict[str, Any]:
        users = await who.services.operator.users.list(by=who.actor)
        return {"items": [u.as_json() for u in users]}

    @router.post("/users", status_code=201)
    async def add_user(body: NewUser, who: Caller = caller) -> dict[str, Any]:
        user = await who.services.operator.users.add(
            body.name, role=body.role, password=body.password, by=who.actor
        )
        return user.as_json()

    @router.get("/users/{name}")
    async def show_user(name: str = USER_NAME, who: Caller = caller) -> dict[str, Any]:
        return (await who.services.operator.users.show(name, by=who.actor)).as_json()

    @router.post("/users/{name}/role")
    async def set_role(
        body: RoleBody, name: str = USER_NAME, who: Caller = caller
    ) -> dict[str, Any]:
        user = await who.services.operator.users.set_role(name, body.role, by=who.actor)
        return user.as_json()

    @router.post("/users/{name}/password")
    async def set_password(
        body: PasswordBody, name: str = USER_NAME, who: Caller = caller
    ) -> dict[str, Any]:
        user = await who.services.operator.users.passwd(name, password=body.password, by=who.actor)
        return user.as_json()

    @router.post("/users/{name}/disable")
    async def disable(name: str = USER_NAME, who: Caller = caller) -> dict[str, Any]:
        return (await who.services.operator.users.disable(name, by=who.actor)).as_json()

    @router.post("/users/{name}/enable")
    async def enable(name: str = USER_NAME, who: Caller = caller) -> dict[str, Any]:
        return (await who.services.operator.users.enable(name, by=who.actor)).as_json()

    @router.get("/users/{name}/tokens")
    async def list_tokens(name: str = USER_NAME, who: Caller = caller) -> dict[str, Any]:
        return {"items": await who.services.operator.users.tokens(name, by=who.actor)}

    @router.post("/users/{name}/tokens", status_code=201)
    async def issue_token(
        body: TokenLabel | None = None, name: str = USER_NAME, who: Caller = caller
    ) -> dict[str, Any]:
        """The token is in this answer only; the gateway keeps its digest."""
        label = body.label if body is not None else None
        return await who.services.operator.users.issue_token(name, label=label, by=who.actor)

    @router.delete("/users/tokens/{token_id}", status_code=204)
    async def revoke_token(token_id: int = TOKEN_ID, who: Caller = caller) -> None:
        await who.services.operator.users.revoke_token(token_id, by=who.actor)

    return router
