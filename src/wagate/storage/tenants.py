"""The tenant catalogue (MT1): tenants, the channels they own, and operator API tokens.

These tables are read before a request's tenant is known (which tenant owns this number? whose
token is this?), so they are the platform's and carry no row-level security. Channel secrets
are sealed under the owning tenant's context: erasing the tenant's key makes them unreadable
with everything else it stored. API tokens are kept as SHA-256 digests only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from datetime import datetime
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb

from wagate.domain.messages import Provider
from wagate.domain.operators import Role
from wagate.domain.tenants import Tenant, TenantChannel, TenantStatus, TokenGrant
from wagate.pipeline.operator.tenants import ChannelConflict
from wagate.security.sealing import SealContext, Sealer, UnreadableEnvelope
from wagate.storage.database import Database

TOKEN_PREFIX = "wgt_"  # noqa: S105 - a prefix, not a secret

_TENANTS_SQL = "SELECT id, name, status, settings, version FROM tenants ORDER BY id"
_TENANT_SQL = "SELECT id, name, status, settings, version FROM tenants WHERE id = %(id)s"
_CHANNELS_SQL = """
SELECT tenant, provider, channel_id, account_id, secrets FROM tenant_channels ORDER BY id
"""
_TENANT_CHANNELS_SQL = """
SELECT tenant, provider, channel_id, account_id, secrets FROM tenant_channels
 WHERE tenant = %(id)s ORDER BY id
"""
# Any change to a tenant or its channels bumps its version: the sum changes, and the count
# tells an added tenant from one whose version another change already moved.
_STAMP_SQL = "SELECT count(*) AS n, coalesce(sum(version), 0) AS v FROM tenants"
_ADD_SQL = """
INSERT INTO tenants (id, name, status, settings, created_at, updated_at)
VALUES (%(id)s, %(name)s, 'active', %(settings)s, %(at)s, %(at)s)
ON CONFLICT (id) DO NOTHING
RETURNING id
"""
_BUMP_SQL = """
UPDATE tenants SET version = version + 1, updated_at = %(at)s WHERE id = %(id)s
"""
_ADD_CHANNEL_SQL = """
INSERT INTO tenant_channels (tenant, provider, channel_id, account_id, secrets, route_key,
                             created_at)
VALUES (%(tenant)s, %(provider)s, %(channel_id)s, %(account_id)s, %(secrets)s, %(route_key)s,
        %(at)s)
ON CONFLICT ON CONSTRAINT tenant_channels_owner DO UPDATE
   SET account_id = EXCLUDED.account_id, secrets = EXCLUDED.secrets,
       route_key = EXCLUDED.route_key
 WHERE tenant_channels.tenant = EXCLUDED.tenant
RETURNING tenant
"""
_REMOVE_CHANNEL_SQL = """
DELETE FROM tenant_channels
 WHERE tenant = %(tenant)s AND provider = %(provider)s AND channel_id = %(channel_id)s
"""
_ISSUE_GRANT_SQL = """
INSERT INTO api_tokens (tenant, name, digest, created_at)
VALUES (%(tenant)s, %(name)s, %(digest)s, %(at)s)
RETURNING id
"""
_RESOLVE_GRANT_SQL = """
SELECT t.id, t.tenant, t.name, t.user_id FROM api_tokens t LEFT JOIN tenants n ON n.id = t.tenant
 WHERE t.digest = %(digest)s AND t.revoked_at IS NULL
   AND (t.tenant IS NULL OR n.status <> 'erased')
"""
# A tenant's machine tokens; its users' personal tokens are listed per user (`wagate users`).
_LIST_TOKENS_SQL = """
SELECT id, tenant, name, created_at, revoked_at FROM api_tokens
 WHERE tenant IS NOT DISTINCT FROM %(tenant)s AND user_id IS NULL ORDER BY id
"""
# The user a personal token acts as, as they are now (operator_users is under row-level
# security: read in the token's tenant's transaction).
_TOKEN_USER_SQL = """
SELECT name, role FROM operator_users
 WHERE tenant = %(tenant)s AND id = %(id)s AND disabled_at IS NULL
"""  # noqa: S105 - SQL, not a secret
_REVOKE_GRANT_SQL = """
UPDATE api_tokens SET revoked_at = %(at)s
 WHERE id = %(id)s AND tenant IS NOT DISTINCT FROM %(tenant)s AND revoked_at IS NULL
RETURNING id
"""


def route_key(secret: str) -> str:
    """How a path secret (Fonnte's webhook URL) is found without being stored in the clear.
    The secrets are long and random, so an unkeyed digest reveals nothing."""
    return hashlib.sha256(secret.encode()).hexdigest()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TenantCatalog:
    def __init__(self, database: Database, sealer: Sealer) -> None:
        self._database = database
        self._sealer = sealer

    async def stamp(self) -> tuple[int, int]:
        """Changes whenever a tenant or one of its channels changes (cheap to poll)."""
        async with self._database.pool.connection() as conn:
            row = await (await conn.execute(_STAMP_SQL)).fetchone()
        assert row is not None
        return int(row["n"]), int(row["v"])

    async def all(self) -> list[Tenant]:
        async with self._database.pool.connection() as conn:
            tenants = await (await conn.execute(_TENANTS_SQL)).fetchall()
            channels = await (await conn.execute(_CHANNELS_SQL)).fetchall()
        owned: dict[str, list[TenantChannel]] = {}
        for row in channels:
            channel = self._channel(row)
            if channel is not None:
                owned.setdefault(row["tenant"], []).append(channel)
        return [_tenant(row, owned.get(row["id"], [])) for row in tenants]

    async def get(self, tenant_id: str) -> Tenant | None:
        async with self._database.pool.connection() as conn:
            row = await (await conn.execute(_TENANT_SQL, {"id": tenant_id})).fetchone()
            if row is None:
                return None
            channels = await (
                await conn.execute(_TENANT_CHANNELS_SQL, {"id": tenant_id})
            ).fetchall()
        return _tenant(row, [c for c in map(self._channel, channels) if c is not None])

    async def add(
        self, tenant_id: str, name: str, settings: dict[str, Any], *, at: datetime
    ) -> bool:
        """False when the id is taken (by a tenant of any status: ids are never reused)."""
        params = {"id": tenant_id, "name": name, "settings": Jsonb(settings), "at": at}
        async with self._database.pool.connection() as conn:
            row = await (await conn.execute(_ADD_SQL, params)).fetchone()
        return row is not None

    async def update(
        self,
        tenant_id: str,
        *,
        at: datetime,
        name: str | None = None,
        settings: dict[str, Any] | None = None,
        status: TenantStatus | None = None,
    ) -> bool:
        changes = ["version = version + 1", "updated_at = %(at)s"]
        params: dict[str, Any] = {"id": tenant_id, "at": at}
        if name is not None:
            changes.append("name = %(name)s")
            params["name"] = name
        if settings is not None:
            changes.append("settings = %(settings)s")
            params["settings"] = Jsonb(settings)
        if status is not None:
            changes.append("status = %(status)s")
            params["status"] = status.value
            if status is TenantStatus.ERASED:
                changes.append("erased_at = %(at)s")
        sql = f"UPDATE tenants SET {', '.join(changes)} WHERE id = %(id)s RETURNING id"
        async with self._database.pool.connection() as conn:
            row = await (await conn.execute(sql, params)).fetchone()
        return row is not None

    async def add_channel(self, tenant_id: str, channel: TenantChannel, *, at: datetime) -> None:
        """Give `channel` to the tenant (replacing its credentials if it already has it).
        Raises ChannelConflict when another tenant owns it (or its webhook secret)."""
        secrets_json = orjson.dumps(
            {"token": channel.token, "webhook_secret": channel.webhook_secret}
        )
        params = {
            "tenant": tenant_id,
            "provider": channel.provider.value,
            "channel_id": channel.channel_id,
            "account_id": channel.account_id,
            "secrets": self._sealer.seal(secrets_json, _channel_context(tenant_id, channel)),
            "route_key": route_key(channel.webhook_secret) if channel.webhook_secret else None,
            "at": at,
        }
        try:
            async with self._database.pool.connection() as conn, conn.transaction():
                row = await (await conn.execute(_ADD_CHANNEL_SQL, params)).fetchone()
                if row is None:
                    raise ChannelConflict(f"{channel.provider.value} {channel.channel_id}")
                await conn.execute(_BUMP_SQL, {"id": tenant_id, "at": at})
        except psycopg.errors.UniqueViolation as exc:  # the route key (webhook secret)
            raise ChannelConflict("that webhook secret is in use by another channel") from exc

    async def remove_channel(
        self, tenant_id: str, provider: Provider, channel_id: str, *, at: datetime
    ) -> bool:
        params = {"tenant": tenant_id, "provider": provider.value, "channel_id": channel_id}
        async with self._database.pool.connection() as conn, conn.transaction():
            removed = (await conn.execute(_REMOVE_CHANNEL_SQL, params)).rowcount
            if removed:
                await conn.execute(_BUMP_SQL, {"id": tenant_id, "at": at})
        return bool(removed)

    async def erase(self, tenant_id: str, *, at: datetime) -> None:
        """The catalogue's part of erasing a tenant: its channels and tokens go, its settings
        are emptied, its console sessions end, its status says erased. The id stays taken."""
        async with self._database.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "DELETE FROM tenant_channels WHERE tenant = %(id)s", {"id": tenant_id}
            )
            await conn.execute(
                "UPDATE api_tokens SET revoked_at = %(at)s "
                "WHERE tenant = %(id)s AND revoked_at IS NULL",
                {"id": tenant_id, "at": at},
            )
            await conn.execute(
                "UPDATE console_sessions SET ended_at = %(at)s "
                "WHERE tenant = %(id)s AND ended_at IS NULL",
                {"id": tenant_id, "at": at},
            )
            await conn.execute(
                "UPDATE tenants SET status = 'erased', settings = '{}'::jsonb, erased_at = %(at)s,"
                " version = version + 1, updated_at = %(at)s WHERE id = %(id)s",
                {"id": tenant_id, "at": at},
            )

    def _channel(self, row: dict[str, Any]) -> TenantChannel | None:
        provider = Provider(row["provider"])
        context = SealContext(
            tenant=row["tenant"],
            table="tenant_channels",
            key=f"{provider.value}:{row['channel_id']}",
        )
        try:
            values = orjson.loads(self._sealer.open(bytes(row["secrets"]), context))
        except (UnreadableEnvelope, ValueError, LookupError):
            # Its tenant's key is gone (erased) or not loaded here yet: no channel for now.
            return None
        return TenantChannel(
            provider=provider,
            channel_id=row["channel_id"],
            account_id=row["account_id"],
            token=values.get("token") or "",
            webhook_secret=values.get("webhook_secret"),
        )


class ApiTokens:
    """Operator API tokens: each speaks for one tenant, or for the platform (tenant None)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def issue(self, tenant: str | None, name: str, *, at: datetime) -> tuple[int, str]:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        params = {"tenant": tenant, "name": name, "digest": token_digest(token), "at": at}
        async with self._database.pool.connection() as conn:
            row = await (await conn.execute(_ISSUE_GRANT_SQL, params)).fetchone()
        assert row is not None
        return int(row["id"]), token

    async def resolve(self, token: str) -> TokenGrant | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        async with self._database.pool.connection() as conn:
            row = await (
                await conn.execute(_RESOLVE_GRANT_SQL, {"digest": token_digest(token)})
            ).fetchone()
        if row is None:
            return None
        grant = TokenGrant(id=int(row["id"]), tenant=row["tenant"], name=row["name"])
        if row["user_id"] is None:
            return grant
        # A personal token: valid only while its user exists and is not disabled.
        async with self._database.tenant_connection(row["tenant"]) as conn:
            user = await (
                await conn.execute(_TOKEN_USER_SQL, {"tenant": row["tenant"], "id": row["user_id"]})
            ).fetchone()
        if user is None:
            return None
        return dataclasses.replace(grant, user=user["name"], role=Role(user["role"]))

    async def list(self, tenant: str | None) -> list[dict[str, Any]]:
        async with self._database.pool.connection() as conn:
            rows = await (await conn.execute(_LIST_TOKENS_SQL, {"tenant": tenant})).fetchall()
        return [
            {
                "id": r["id"],
                "tenant": r["tenant"],
                "name": r["name"],
                "created_at": r["created_at"].isoformat(),
                "revoked": r["revoked_at"] is not None,
            }
            for r in rows
        ]

    async def revoke(self, token_id: int, tenant: str | None, *, at: datetime) -> bool:
        params = {"id": token_id, "tenant": tenant, "at": at}
        async with self._database.pool.connection() as conn:
            row = await (await conn.execute(_REVOKE_GRANT_SQL, params)).fetchone()
        return row is not None


def _channel_context(tenant_id: str, channel: TenantChannel) -> SealContext:
    return SealContext(
        tenant=tenant_id,
        table="tenant_channels",
        key=f"{channel.provider.value}:{channel.channel_id}",
    )


def _tenant(row: dict[str, Any], channels: list[TenantChannel]) -> Tenant:
    return Tenant(
        id=row["id"],
        name=row["name"],
        status=TenantStatus(row["status"]),
        settings=dict(row["settings"] or {}),
        channels=tuple(channels),
        version=int(row["version"]),
    )
