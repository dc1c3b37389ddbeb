"""Each tenant's data keys in `tenant_keys`, wrapped by the master keys (envelope encryption).

Rows of `tenant_keys` (a platform catalogue table: no row-level security):

* `d1`, `d2`, … — the tenant's data keys (`wagate.security.data_keys`), `wrapped` under the
  master key named by `wrapped_by`. The newest live generation seals; all open.
* `index.master` — a marker, never a key (`wrapped` NULL): the tenant's lookup digests stay
  under the master-derived blind index, because its data predates per-tenant keys (the
  install's original tenant). A tenant without it indexes under a key derived from its `d1`.
  The marker is written in the same transaction as the tenant's `d1`, so the choice is made
  once, by whichever process created the tenant's first key.
* once shredded, every row of the tenant has `wrapped` NULL and `destroyed_at` set, and a
  tenant shredded before it ever had a key gets a destroyed `d1` as a tombstone: `ensure` never
  gives an erased tenant a fresh key.

`TenantKeys` keeps every tenant's keys unwrapped in its `TenantSealer`, because sealing runs
synchronously on hot paths. Other processes' changes (a new tenant's key, a rotated data key, a
re-wrap, a shredding) reach this process when it calls `refresh()`.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

import structlog
from psycopg import AsyncConnection
from psycopg.errors import ForeignKeyViolation

from wagate.security.crypto import BlindIndex
from wagate.security.data_keys import (
    DataKey,
    data_key_id,
    generation_of,
    new_data_key,
    unwrap,
    wrap,
)
from wagate.security.keyfile_sealer import MasterKeys, MasterSealer
from wagate.security.keys import Key, Keyring, KeyringError
from wagate.security.sealing import ShreddedTenant
from wagate.security.tenant_sealer import TenantIndexer, TenantRing, TenantSealer
from wagate.storage.database import Database

MASTER_INDEX_MARKER = "index.master"
# How often a running process should `refresh()`: a data key rotated elsewhere is used to
# re-seal that tenant's content only after this (times two) has passed.
REFRESH_EVERY_SECONDS = 1.0

log = structlog.get_logger(__name__)

_COLUMNS = "tenant, key_id, wrapped, wrapped_by, created_at, destroyed_at"
_ALL_SQL = f"SELECT {_COLUMNS} FROM tenant_keys ORDER BY tenant, key_id"
_TENANT_SQL = f"SELECT {_COLUMNS} FROM tenant_keys WHERE tenant = %(tenant)s"
_INSERT_SQL = """
INSERT INTO tenant_keys (tenant, key_id, wrapped, wrapped_by, created_at)
VALUES (%(tenant)s, %(key_id)s, %(wrapped)s, %(wrapped_by)s, now())
ON CONFLICT (tenant, key_id) DO NOTHING
"""
_TOMBSTONE_SQL = """
INSERT INTO tenant_keys (tenant, key_id, wrapped, wrapped_by, created_at, destroyed_at)
VALUES (%(tenant)s, %(key_id)s, NULL, NULL, now(), now())
ON CONFLICT (tenant, key_id) DO NOTHING
"""
_SHRED_SQL = """
UPDATE tenant_keys SET wrapped = NULL, wrapped_by = NULL, destroyed_at = now()
 WHERE tenant = %(tenant)s AND destroyed_at IS NULL
RETURNING key_id
"""
_STALE_SQL = """
SELECT key_id, wrapped, wrapped_by FROM tenant_keys
 WHERE tenant = %(tenant)s AND wrapped IS NOT NULL AND destroyed_at IS NULL
   AND wrapped_by IS DISTINCT FROM %(current)s
 FOR UPDATE
"""
_STALE_TENANTS_SQL = """
SELECT DISTINCT tenant FROM tenant_keys
 WHERE wrapped IS NOT NULL AND destroyed_at IS NULL AND wrapped_by IS DISTINCT FROM %(current)s
 ORDER BY tenant
"""
_REWRAP_SQL = """
UPDATE tenant_keys SET wrapped = %(wrapped)s, wrapped_by = %(wrapped_by)s
 WHERE tenant = %(tenant)s AND key_id = %(key_id)s
"""

Connection = AsyncConnection[dict[str, Any]]


class UnknownTenant(LookupError):
    """A data key was asked for a tenant that is not in the `tenants` table."""


class TenantKeys:
    """The tenants' data keys: created on first need, loaded and unwrapped into `sealer`,
    re-wrapped when the master rotates, rotated per tenant, and destroyed (`shred`).

    `masters` are the master keys (they may follow a key file). `master_indexed` names the
    tenants whose lookup digests predate per-tenant keys (the install's configured tenant):
    when one of them gets its first data key, it is marked to keep the master-derived index.
    """

    def __init__(
        self, database: Database, masters: MasterKeys, *, master_indexed: Collection[str]
    ) -> None:
        self._database = database
        self._masters = masters
        self._master_indexed = frozenset(master_indexed)
        self._sealer = TenantSealer(MasterSealer(masters), BlindIndex(masters.ring()))
        # (tenant, key id) → (wrapped, wrapped_by, the key): unwrapping only what changed.
        self._unwrapped: dict[tuple[str, str], tuple[bytes, str, DataKey]] = {}
        self._known: set[str] = set()
        self._installed: dict[str, TenantRing] = {}

    @property
    def sealer(self) -> TenantSealer:
        """The `Sealer` of every tenant: seals under `context.tenant`'s current data key."""
        return self._sealer

    def indexer_for(self, tenant: str) -> TenantIndexer:
        """The tenant's blind index (`wagate.storage.blind.Indexer`)."""
        return self._sealer.indexer_for(tenant)

    # --- loading -------------------------------------------------------------------------

    async def load(self) -> None:
        """Load and unwrap every tenant's data keys."""
        await self.refresh()

    async def refresh(self) -> None:
        """Pick up keys other processes created, rotated, re-wrapped or destroyed. A tenant
        whose rows vanished is treated as shredded."""
        async with self._database.pool.connection() as conn:
            rows = await (await conn.execute(_ALL_SQL)).fetchall()
        by_tenant: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for row in rows:
            by_tenant[row["tenant"]].append(row)
        for gone in self._known - by_tenant.keys():
            self._forget(gone)
        failures: list[str] = []
        for tenant, tenant_rows in by_tenant.items():
            try:
                self._install(tenant, tenant_rows)
            except KeyringError as error:  # keep the others usable, then say what is wrong
                failures.append(str(error))
        if failures:
            raise KeyringError("; ".join(failures))

    async def keep_fresh(self, *, every: float = REFRESH_EVERY_SECONDS) -> None:
        """`refresh()` every `every` seconds until cancelled (a task of the web and worker
        processes); a failed refresh is logged and the keys loaded so far stay in use."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.refresh()
            except Exception as error:  # the database may be away for a moment
                log.warning("tenant_keys.refresh_failed", error=type(error).__name__)

    async def _reload(self, tenant: str) -> None:
        async with self._database.pool.connection() as conn:
            rows = await (await conn.execute(_TENANT_SQL, {"tenant": tenant})).fetchall()
        if rows:
            self._install(tenant, rows)

    def _install(self, tenant: str, rows: Iterable[Mapping[str, Any]]) -> None:
        rows = list(rows)
        self._known.add(tenant)
        if any(row["destroyed_at"] is not None for row in rows):
            self._forget(tenant)
            return
        keys = [
            self._unwrap(tenant, row)
            for row in rows
            if generation_of(row["key_id"]) is not None and row["wrapped"] is not None
        ]
        if not keys:
            return  # only a marker so far: the key is being created
        keys.sort(key=lambda key: key.generation, reverse=True)
        ring = TenantRing(
            tenant=tenant,
            keys=tuple(keys),
            master_index=any(row["key_id"] == MASTER_INDEX_MARKER for row in rows),
        )
        if self._installed.get(tenant) != ring or not self._sealer.loaded(tenant):
            # Deriving the ciphers costs more than comparing: a refresh re-installs only the
            # tenants whose keys changed.
            self._sealer.install(ring)
            self._installed[tenant] = ring

    def _forget(self, tenant: str) -> None:
        self._sealer.shred(tenant)
        self._installed.pop(tenant, None)
        for cached in [entry for entry in self._unwrapped if entry[0] == tenant]:
            del self._unwrapped[cached]

    def _unwrap(self, tenant: str, row: Mapping[str, Any]) -> DataKey:
        key_id, wrapped, wrapped_by = row["key_id"], bytes(row["wrapped"]), row["wrapped_by"]
        cached = self._unwrapped.get((tenant, key_id))
        if cached is not None and cached[:2] == (wrapped, wrapped_by):
            return cached[2]
        key = unwrap(tenant, key_id, wrapped, self._master(wrapped_by, tenant, key_id))
        self._unwrapped[(tenant, key_id)] = (wrapped, wrapped_by, key)
        return key

    def _master(self, key_id: str | None, tenant: str, data_key: str) -> Key:
        master = None if key_id is None else self._masters.ring().get(key_id)
        if master is None and key_id is not None:  # maybe a key rotated in since we looked
            master = self._masters.ring(force=True).get(key_id)
        if master is None:
            raise KeyringError(
                f"data key {data_key!r} of tenant {tenant!r} is wrapped by master key "
                f"{key_id!r}, which is not in the keyring "
                f"(configured: {', '.join(self._masters.ring().ids)})"
            )
        return master

    # --- creating ------------------------------------------------------------------------

    async def ensure(self, tenant: str) -> None:
        """Make sure `tenant` has a data key, loaded here: creates its first one if it has
        none. Idempotent, and safe against other processes doing the same at once (both insert
        `d1`; the database keeps one, and both read back the same). `ShreddedTenant` if the
        tenant was shredded; `UnknownTenant` if it is not in the `tenants` table."""
        if self._sealer.loaded(tenant):
            return
        await self._create(tenant, 1, master_index=tenant in self._master_indexed)
        await self._reload(tenant)
        self._check_loaded(tenant)

    async def _create(self, tenant: str, generation: int, *, master_index: bool) -> bool:
        """Insert the tenant's key of `generation` unless it exists; True if this call did."""
        master = self._masters.ring().current
        key = new_data_key(tenant, generation)
        params = {
            "tenant": tenant,
            "key_id": key.key_id,
            "wrapped": wrap(key, master),
            "wrapped_by": master.key_id,
        }
        try:
            async with self._database.pool.connection() as conn, conn.transaction():
                created = (await conn.execute(_INSERT_SQL, params)).rowcount == 1
                if created and master_index:
                    marker = {**params, "key_id": MASTER_INDEX_MARKER, "wrapped": None}
                    await conn.execute(_INSERT_SQL, {**marker, "wrapped_by": None})
        except ForeignKeyViolation:
            raise UnknownTenant(f"tenant {tenant!r} is not in the tenants table") from None
        return created

    def _check_loaded(self, tenant: str) -> None:
        if self._sealer.shredded(tenant):
            raise ShreddedTenant(f"tenant {tenant!r} was erased: its data keys are destroyed")
        if not self._sealer.loaded(tenant):
            raise KeyringError(f"tenant {tenant!r} has no usable data key")

    async def rotate(self, tenant: str) -> str:
        """A new current data key for `tenant` (the old ones stay, to open what they sealed);
        returns its id. Content is re-sealed under it by the resealer, scoped to the tenant."""
        await self.ensure(tenant)
        await self._reload(tenant)
        self._check_loaded(tenant)
        current = generation_of(self._sealer.current_key_id(tenant))
        assert current is not None
        await self._create(tenant, current + 1, master_index=False)
        await self._reload(tenant)
        self._check_loaded(tenant)
        return self._sealer.current_key_id(tenant)

    # --- master rotation -----------------------------------------------------------------

    async def rewrap(self, masters: Keyring | None = None) -> dict[str, int]:
        """Wrap every live data key not wrapped by the current master key under it, one
        transaction per tenant; content sealed under the data keys is not touched. `masters`:
        the keyring to use (the one a rotation just wrote), else the current one. Returns how
        many keys were re-wrapped per tenant."""
        ring = masters or self._masters.ring(force=True)
        current = ring.current
        async with self._database.pool.connection() as conn:
            cursor = await conn.execute(_STALE_TENANTS_SQL, {"current": current.key_id})
            tenants = [row["tenant"] for row in await cursor.fetchall()]
        done: dict[str, int] = {}
        for tenant in tenants:
            async with self._database.pool.connection() as conn, conn.transaction():
                done[tenant] = await self._rewrap_tenant(conn, tenant, ring)
        await self.refresh()
        return done

    async def _rewrap_tenant(self, conn: Connection, tenant: str, ring: Keyring) -> int:
        current = ring.current
        cursor = await conn.execute(_STALE_SQL, {"tenant": tenant, "current": current.key_id})
        count = 0
        for row in await cursor.fetchall():
            old = ring.get(row["wrapped_by"]) if row["wrapped_by"] is not None else None
            if old is None:
                old = self._master(row["wrapped_by"], tenant, row["key_id"])
            key = unwrap(tenant, row["key_id"], bytes(row["wrapped"]), old)
            params = {
                "tenant": tenant,
                "key_id": key.key_id,
                "wrapped": wrap(key, current),
                "wrapped_by": current.key_id,
            }
            count += (await conn.execute(_REWRAP_SQL, params)).rowcount
        return count

    # --- crypto-shredding ----------------------------------------------------------------

    async def shred(self, tenant: str) -> int:
        """Destroy every data key of `tenant` (in the database and here): everything it sealed
        under them can no longer be opened, by any process once it refreshes. Returns how many
        keys were destroyed. Envelopes still of version 0 or 1 (sealed before per-tenant keys
        and not re-sealed since) are NOT covered: re-seal the tenant first."""
        try:
            async with self._database.pool.connection() as conn, conn.transaction():
                await conn.execute(_TOMBSTONE_SQL, {"tenant": tenant, "key_id": data_key_id(1)})
                destroyed = await (await conn.execute(_SHRED_SQL, {"tenant": tenant})).fetchall()
        except ForeignKeyViolation:
            raise UnknownTenant(f"tenant {tenant!r} is not in the tenants table") from None
        self._known.add(tenant)
        self._forget(tenant)
        return sum(1 for row in destroyed if generation_of(row["key_id"]) is not None)

    # --- for the operator ----------------------------------------------------------------

    async def describe(self) -> list[dict[str, Any]]:
        """Every key row, without any key material: tenant, key id, the master that wraps it,
        when it was created and destroyed."""
        async with self._database.pool.connection() as conn:
            rows = await (await conn.execute(_ALL_SQL)).fetchall()
        return [
            {
                "tenant": row["tenant"],
                "keyId": row["key_id"],
                "wrappedBy": row["wrapped_by"],
                "createdAt": _iso(row["created_at"]),
                "destroyedAt": _iso(row["destroyed_at"]),
            }
            for row in rows
        ]


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
