"""A read-only look at the database for `wagate doctor`: the server, the migration reached, the
extensions, unhealthy channels and the master keys the tenants' data keys are wrapped under.

It connects with the owner's URL (DATABASE_URL), in a read-only transaction: nothing is
created, migrated or granted, and tables a migration has not made yet are simply absent from
the answer. The owner is not bound by row-level security, which is what lets it see every
tenant's channels here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from wagate.domain.readiness import DatabaseFacts
from wagate.storage.urls import libpq_url

_SERVER_SQL = """
SELECT current_setting('server_version_num')::int AS version,
       current_setting('max_connections')::int AS max_connections,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int
           AS connections,
       to_regclass('alembic_version') IS NOT NULL AS migrated,
       to_regclass('provider_health') IS NOT NULL AS has_health,
       to_regclass('tenant_keys') IS NOT NULL AS has_keys
"""
_REVISION_SQL = "SELECT version_num FROM alembic_version"
_EXTENSIONS_SQL = """
SELECT name, installed_version IS NOT NULL AS installed
  FROM pg_available_extensions WHERE name IN ('pg_trgm', 'vector')
"""
_UNHEALTHY_SQL = """
SELECT tenant, provider, channel_id, state, coalesce(reason, '') AS reason
  FROM provider_health WHERE state <> 'closed' ORDER BY tenant, provider, channel_id
"""
# One wrapped data key per (tenant, master key): enough to prove the master key opens them.
_WRAPPED_SQL = """
SELECT DISTINCT ON (tenant, wrapped_by) tenant, key_id, wrapped, wrapped_by
  FROM tenant_keys WHERE wrapped IS NOT NULL ORDER BY tenant, wrapped_by, key_id
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class WrappedDataKey:
    tenant: str
    key_id: str
    wrapped: bytes
    wrapped_by: str  # the master key's id


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseLook:
    facts: DatabaseFacts
    wrapped_keys: tuple[WrappedDataKey, ...]


async def look(owner_url: str, *, connect_timeout: float = 5.0) -> DatabaseLook:
    """Connect, read, disconnect. Raises psycopg.OperationalError when the server cannot be
    reached or refuses the login."""
    conn = await psycopg.AsyncConnection.connect(
        libpq_url(owner_url),
        connect_timeout=max(1, round(connect_timeout)),
        row_factory=dict_row,
        autocommit=False,
    )
    try:
        await conn.set_read_only(True)
        async with conn.transaction():
            server = await _first(conn, _SERVER_SQL)
            assert server is not None
            version = await _first(conn, _REVISION_SQL) if server["migrated"] else None
            extensions = await _all(conn, _EXTENSIONS_SQL)
            unhealthy = await _all(conn, _UNHEALTHY_SQL) if server["has_health"] else []
            wrapped = await _all(conn, _WRAPPED_SQL) if server["has_keys"] else []
    finally:
        await conn.close()
    facts = DatabaseFacts(
        server_version=int(server["version"]),
        max_connections=int(server["max_connections"]),
        connections=int(server["connections"]),
        revision=str(version["version_num"]) if version else None,
        available_extensions=frozenset(str(e["name"]) for e in extensions),
        installed_extensions=frozenset(str(e["name"]) for e in extensions if e["installed"]),
        unhealthy_channels=tuple(
            (str(r["tenant"]), str(r["provider"]), str(r["channel_id"]), r["state"], r["reason"])
            for r in unhealthy
        ),
    )
    keys = tuple(
        WrappedDataKey(
            tenant=str(r["tenant"]),
            key_id=str(r["key_id"]),
            wrapped=bytes(r["wrapped"]),
            wrapped_by=str(r["wrapped_by"]),
        )
        for r in wrapped
    )
    return DatabaseLook(facts=facts, wrapped_keys=keys)


Row = dict[str, Any]


async def _first(conn: psycopg.AsyncConnection[Row], query: str) -> Row | None:
    return await (await conn.execute(query)).fetchone()


async def _all(conn: psycopg.AsyncConnection[Row], query: str) -> list[Row]:
    return await (await conn.execute(query)).fetchall()
