"""Provider channel health (OU5, OU7) and replaced credentials, shared by every process.

Transitions are decided by the pure `BreakerPolicy`; this module only makes each one atomic:
the row is locked, the policy applied, the result written, in one transaction. A channel with
no row is healthy, so the common path (healthy, nothing to change) writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from wagate.domain.breaker import ChannelHealth, ChannelState
from wagate.domain.messages import Provider
from wagate.security.sealing import SealContext, Sealer
from wagate.storage.database import Database

_COLUMNS = "state, failures, trips, reason, changed_at, retry_at, probe_started_at"
# The outbox reads a channel's row with its pending messages (storage/outbound.py).
HEALTH_COLUMNS = _COLUMNS
_LOAD_SQL = f"""
SELECT {_COLUMNS} FROM provider_health
 WHERE tenant = %(tenant)s AND provider = %(provider)s AND channel_id = %(channel_id)s
"""
_ENSURE_SQL = """
INSERT INTO provider_health (tenant, provider, channel_id) VALUES (%(tenant)s, %(provider)s,
       %(channel_id)s)
ON CONFLICT DO NOTHING
"""
_WRITE_SQL = """
UPDATE provider_health
   SET state = %(state)s, failures = %(failures)s, trips = %(trips)s, reason = %(reason)s,
       changed_at = %(changed_at)s, retry_at = %(retry_at)s,
       probe_started_at = %(probe_started_at)s, updated_at = now()
 WHERE tenant = %(tenant)s AND provider = %(provider)s AND channel_id = %(channel_id)s
"""
_ALL_SQL = f"""
SELECT provider, channel_id, {_COLUMNS}, updated_at FROM provider_health
 WHERE tenant = %(tenant)s ORDER BY provider, channel_id
"""
_CREDENTIAL_SQL = """
SELECT secret, version FROM provider_credentials
 WHERE tenant = %(tenant)s AND provider = %(provider)s
"""
_ALL_CREDENTIALS_SQL = """
SELECT provider, secret, version FROM provider_credentials WHERE tenant = %(tenant)s
"""
_VERSIONS_SQL = "SELECT provider, version FROM provider_credentials WHERE tenant = %(tenant)s"
_SET_CREDENTIAL_SQL = """
INSERT INTO provider_credentials (tenant, provider, secret) VALUES (%(tenant)s, %(provider)s,
       %(secret)s)
ON CONFLICT (tenant, provider) DO UPDATE
   SET secret = EXCLUDED.secret, version = provider_credentials.version + 1, updated_at = now()
RETURNING version
"""
# A replaced token ends the degraded state of every channel of that provider at once, and the
# conversations that waited for it are picked up by their own (deferred) jobs.
_CLEAR_DEGRADED_SQL = """
UPDATE provider_health SET state = 'closed', failures = 0, reason = NULL, retry_at = NULL,
       probe_started_at = NULL, changed_at = %(at)s, updated_at = now()
 WHERE tenant = %(tenant)s AND provider = %(provider)s AND state = 'degraded'
"""


def health_from_row(row: Any) -> ChannelHealth:
    return ChannelHealth(
        state=ChannelState(str(row["state"])),
        failures=int(row["failures"]),
        trips=int(row["trips"]),
        reason=row["reason"],
        changed_at=row["changed_at"],
        retry_at=row["retry_at"],
        probe_started_at=row["probe_started_at"],
    )


class PostgresChannelHealth:
    def __init__(self, database: Database, tenant: str) -> None:
        self._database = database
        self._tenant = tenant

    def _key(self, provider: Provider, channel_id: str) -> dict[str, Any]:
        return {"tenant": self._tenant, "provider": provider.value, "channel_id": channel_id}

    async def load(self, provider: Provider, channel_id: str) -> ChannelHealth:
        rows = await self._database.tenant_rows(
            self._tenant, _LOAD_SQL, self._key(provider, channel_id)
        )
        return health_from_row(rows[0]) if rows else ChannelHealth()

    async def change(
        self,
        provider: Provider,
        channel_id: str,
        transition: Callable[[ChannelHealth], ChannelHealth | None],
    ) -> tuple[ChannelHealth, ChannelHealth]:
        """Apply `transition` under the row's lock; returns (before, after). A transition that
        returns None (or the same state) writes nothing."""
        key = self._key(provider, channel_id)
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(_ENSURE_SQL, key)
            cursor = await conn.execute(_LOAD_SQL + " FOR UPDATE", key)
            row = await cursor.fetchone()
            before = health_from_row(row) if row is not None else ChannelHealth()
            after = transition(before)
            if after is None or after == before:
                return before, before
            await conn.execute(
                _WRITE_SQL,
                {
                    **key,
                    "state": after.state.value,
                    "failures": after.failures,
                    "trips": after.trips,
                    "reason": (after.reason or "")[:300] or None,
                    "changed_at": after.changed_at,
                    "retry_at": after.retry_at,
                    "probe_started_at": after.probe_started_at,
                },
            )
        return before, after

    async def all(self) -> list[tuple[Provider, str, ChannelHealth]]:
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(_ALL_SQL, {"tenant": self._tenant})
            rows = await cursor.fetchall()
        return [
            (Provider(str(r["provider"])), str(r["channel_id"]), health_from_row(r)) for r in rows
        ]


class PostgresCredentials:
    """Tokens replaced at run time (`wagate tenants set-token`), sealed at rest."""

    def __init__(self, database: Database, sealer: Sealer, tenant: str) -> None:
        self._database = database
        self._sealer = sealer
        self._tenant = tenant

    def _context(self, provider: Provider) -> SealContext:
        return SealContext(tenant=self._tenant, table="provider_credentials", key=provider.value)

    async def versions(self) -> dict[Provider, int]:
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(_VERSIONS_SQL, {"tenant": self._tenant})
            rows = await cursor.fetchall()
        return {Provider(str(r["provider"])): int(r["version"]) for r in rows}

    async def current(self) -> dict[Provider, tuple[str, int]]:
        """Every replaced token with its version (the registry's token source)."""
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(_ALL_CREDENTIALS_SQL, {"tenant": self._tenant})
            rows = await cursor.fetchall()
        result: dict[Provider, tuple[str, int]] = {}
        for row in rows:
            provider = Provider(str(row["provider"]))
            token = self._sealer.open(bytes(row["secret"]), self._context(provider)).decode()
            result[provider] = (token, int(row["version"]))
        return result

    async def get(self, provider: Provider) -> tuple[str, int] | None:
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(
                _CREDENTIAL_SQL, {"tenant": self._tenant, "provider": provider.value}
            )
            row = await cursor.fetchone()
        if row is None:
            return None
        token = self._sealer.open(bytes(row["secret"]), self._context(provider)).decode()
        return token, int(row["version"])

    async def set(self, provider: Provider, token: str, *, at: datetime) -> int:
        """Store the new token and end the provider's degraded state; returns its version."""
        params = {
            "tenant": self._tenant,
            "provider": provider.value,
            "secret": self._sealer.seal(token.encode(), self._context(provider)),
            "at": at,
        }
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(_SET_CREDENTIAL_SQL, params)
            row = await cursor.fetchone()
            await conn.execute(_CLEAR_DEGRADED_SQL, params)
        assert row is not None
        return int(row["version"])
