"""Key rotation (CP2): re-seal every sealed column with the current key, in batches, without
stopping the gateway. Each value is re-sealed under the same associated data (tenant, table,
row key) it was sealed with, and written back only if nobody changed it meanwhile.

With a data key per tenant (`TenantKeys`), rotating the master re-wraps the data keys and leaves
version-2 content alone; re-sealing then moves what is still of version 0 or 1 to the tenant's
data key, and after a tenant's data key is rotated, moves that tenant's content to it. The
resealer works one tenant at a time (each tenant's rows are its own pages), so it can run under
row-level security scoped to the tenant."""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from wagate.security.crypto import DATA_KEY_VERSION
from wagate.security.keys import Keyring, add_key_to_file
from wagate.security.sealing import SealContext, ShreddedTenant
from wagate.storage.case_intakes import row_key as intake_row_key
from wagate.storage.conversations import insight_seal_key
from wagate.storage.database import Database
from wagate.storage.intake import conversation_seal_key
from wagate.storage.tenant_keys import REFRESH_EVERY_SECONDS, TenantKeys


class ResealingSealer(Protocol):
    def needs_reseal(self, sealed: bytes, *, tenant: str | None = None) -> bool: ...

    def reseal(self, sealed: bytes, context: SealContext) -> bytes: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SealedColumn:
    table: str
    column: str
    context_table: str  # the table name bound into the associated data
    key_columns: tuple[str, ...]
    row_key: Callable[[dict[str, Any]], str]
    base64_text: bool = False  # stored as base64 text rather than bytea


def _keyed_by(key: str, table: str, column: str, context_table: str) -> SealedColumn:
    """A column whose row key is one column's value, as text."""
    return SealedColumn(
        table=table,
        column=column,
        context_table=context_table,
        key_columns=(key,),
        row_key=lambda r: str(r[key]),
    )


COLUMNS = (
    SealedColumn(
        table="inbound_messages",
        column="content",
        context_table="inbound_messages.content",
        key_columns=("provider", "provider_message_id"),
        row_key=lambda r: f"{r['provider']}:{r['provider_message_id']}",
    ),
    SealedColumn(
        table="inbound_messages",
        column="raw",
        context_table="inbound_messages.raw",
        key_columns=("provider", "provider_message_id"),
        row_key=lambda r: f"{r['provider']}:{r['provider_message_id']}",
    ),
    SealedColumn(
        table="conversations",
        column="profile",
        context_table="conversations",
        key_columns=("provider", "channel_id", "contact_key"),
        row_key=lambda r: conversation_seal_key(r["provider"], r["channel_id"], r["contact_key"]),
    ),
    _keyed_by("idempotency_key", "outbound_messages", "content", "outbound_messages.content"),
    SealedColumn(
        table="turns",
        column="content",
        context_table="turns",
        key_columns=("session_id", "run_key", "role"),
        row_key=lambda r: f"{r['session_id']}:{r['run_key']}:{r['role']}",
    ),
    SealedColumn(
        table="conversation_runs",
        column="insight",
        context_table="conversation_runs.insight",
        key_columns=("conversation_id", "run_key"),
        row_key=lambda r: insight_seal_key(r["conversation_id"], r["run_key"]),
    ),
    _keyed_by("dedup_key", "provider_events", "payload", "provider_events"),
    _keyed_by("username", "accounts", "pii", "accounts"),
    SealedColumn(
        table="consents",
        column="evidence",
        context_table="consents",
        key_columns=("contact_id", "provider_message_id"),
        row_key=lambda r: f"{r['contact_id']}:{r['provider_message_id']}",
    ),
    _keyed_by("conversation_id", "pii_vaults", "vault", "pii_vaults"),
    _keyed_by("provider", "provider_credentials", "secret", "provider_credentials"),
    # Inbound files (MD1): only the small sealed file key is re-sealed, never the object.
    _keyed_by("object_key", "media", "file_key", "media.file_key"),
    _keyed_by("id", "media", "details", "media.details"),
    _keyed_by("id", "media", "extracted", "media.extracted"),
    # Files operators upload (issue 16 item 3): the file key and the details, never the object.
    _keyed_by("object_key", "outbound_files", "file_key", "media.file_key"),
    _keyed_by("object_key", "outbound_files", "details", "outbound_files.details"),
    SealedColumn(
        table="case_intakes",
        column="answers",
        context_table="case_intakes.answers",
        key_columns=("provider", "provider_message_id"),
        row_key=lambda r: intake_row_key(r["provider"], r["provider_message_id"]),
    ),
    SealedColumn(
        table="case_intakes",
        column="response",
        context_table="case_intakes.response",
        key_columns=("provider", "provider_message_id"),
        row_key=lambda r: intake_row_key(r["provider"], r["provider_message_id"]),
    ),
    SealedColumn(
        table="link_codes",
        column="phone",
        context_table="link_codes",
        key_columns=("account_id",),
        row_key=lambda r: str(r["account_id"]),
        base64_text=True,
    ),
)
_ID = {"pii_vaults": "conversation_id"}
_TENANTS_SQL = "SELECT id FROM tenants WHERE status <> 'erased' ORDER BY id"


def key_id_of(sealed: bytes, tenant: str | None = None) -> str:
    """The key an envelope names, from its header alone: `plaintext` for version 0, the master
    key id for version 1, and `tenant/d<n>` for version 2 (a data key id is the tenant's own,
    and `/` is never part of a master key id)."""
    if not sealed or sealed[0] == 0:
        return "plaintext"
    length = sealed[1] if len(sealed) > 1 else 0
    key_id = sealed[2 : 2 + length].decode("ascii", errors="replace")
    return f"{tenant}/{key_id}" if sealed[0] == DATA_KEY_VERSION else key_id


class Resealer:
    """Re-seals one tenant's sealed columns (`for_tenant` gives another tenant's)."""

    def __init__(self, database: Database, sealer: ResealingSealer, tenant: str) -> None:
        self._database = database
        self._sealer = sealer
        self._tenant = tenant

    @property
    def tenant(self) -> str:
        return self._tenant

    def for_tenant(self, tenant: str) -> Resealer:
        return Resealer(self._database, self._sealer, tenant)

    async def tenants(self) -> list[str]:
        """The tenants whose content a rotation re-seals: every tenant not erased, and this
        resealer's own (a single-firm install may have no `tenants` row)."""
        async with self._database.pool.connection() as conn:
            cursor = await conn.execute(_TENANTS_SQL)
            listed = [row["id"] for row in await cursor.fetchall()]
        return list(dict.fromkeys([self._tenant, *listed]))

    async def _batches(self, spec: SealedColumn, batch: int) -> Any:
        id_column = _ID.get(spec.table, "id")
        columns = ", ".join(dict.fromkeys((id_column, spec.column, *spec.key_columns)))
        last: Any = None
        while True:
            async with self._database.tenant_connection(self._tenant) as conn:
                cursor = await conn.execute(
                    f"SELECT {columns} FROM {spec.table} "
                    f"WHERE tenant = %(tenant)s AND {spec.column} IS NOT NULL "
                    f"AND (%(last)s::bigint IS NULL OR {id_column} > %(last)s) "
                    f"ORDER BY {id_column} LIMIT %(batch)s",
                    {"tenant": self._tenant, "last": last, "batch": batch},
                )
                rows = await cursor.fetchall()
            if not rows:
                return
            yield id_column, rows
            last = rows[-1][id_column]

    @staticmethod
    def _bytes(spec: SealedColumn, value: Any) -> bytes:
        return base64.b64decode(value) if spec.base64_text else bytes(value)

    async def status(self, batch: int = 1000) -> dict[str, int]:
        """How many sealed values each key id (or plaintext) holds."""
        counts: Counter[str] = Counter()
        for spec in COLUMNS:
            async for _, rows in self._batches(spec, batch):
                counts.update(
                    key_id_of(self._bytes(spec, r[spec.column]), self._tenant) for r in rows
                )
        return dict(counts)

    async def reseal(self, batch: int = 500) -> dict[str, int]:
        """Re-seal every value not sealed with the current key; returns counts per column."""
        done: dict[str, int] = {}
        for spec in COLUMNS:
            count = 0
            async for id_column, rows in self._batches(spec, batch):
                async with self._database.tenant_connection(self._tenant) as conn:
                    for row in rows:
                        old = self._bytes(spec, row[spec.column])
                        if not self._sealer.needs_reseal(old, tenant=self._tenant):
                            continue
                        context = SealContext(
                            tenant=self._tenant, table=spec.context_table, key=spec.row_key(row)
                        )
                        new: Any = self._sealer.reseal(old, context)
                        stored_old: Any = row[spec.column]
                        if spec.base64_text:
                            new = base64.b64encode(new).decode()
                        result = await conn.execute(
                            f"UPDATE {spec.table} SET {spec.column} = %(new)s "
                            f"WHERE {id_column} = %(id)s AND {spec.column} = %(old)s",
                            {"new": new, "id": row[id_column], "old": stored_old},
                        )
                        count += result.rowcount
            done[f"{spec.table}.{spec.column}"] = count
        return done


class KeyAdmin:
    """The operator's view of the keys: rotation in the key file (none when the keys come from
    the environment), re-wrapping the tenants' data keys, re-sealing and status over the
    database. Without `tenant_keys` (content sealed under the master keys directly) there are
    no data keys to re-wrap, rotate or shred."""

    def __init__(
        self,
        resealer: Resealer,
        keyfile: Path | None,
        *,
        source: str,
        tenant_keys: TenantKeys | None = None,
        settle_seconds: float = 2 * REFRESH_EVERY_SECONDS,
    ) -> None:
        self._resealer = resealer
        self._settle_seconds = settle_seconds
        self._keyfile = keyfile
        self._source = source
        self._tenant_keys = tenant_keys
        self._rotated: Keyring | None = None

    @property
    def rotatable(self) -> bool:
        return self._keyfile is not None

    @property
    def location(self) -> str:
        return str(self._keyfile) if self._keyfile is not None else self._source

    def rotate(self) -> tuple[str, int]:
        if self._keyfile is None:
            raise RuntimeError("keys do not come from a key file")
        ring = add_key_to_file(self._keyfile)
        self._rotated = ring
        return ring.current.key_id, len(ring.keys)

    async def rewrap(self) -> int:
        """Wrap every tenant's data keys under the current master key; how many were."""
        if self._tenant_keys is None:
            return 0
        done = await self._tenant_keys.rewrap(self._rotated)
        return sum(done.values())

    async def status(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for tenant in await self._resealer.tenants():
            counts.update(await self._resealer.for_tenant(tenant).status())
        return dict(counts)

    async def reseal(self) -> dict[str, int]:
        """Re-wrap the data keys under the current master, then re-seal every tenant's content
        not under its current key (versions 0 and 1 included)."""
        await self.rewrap()
        counts: Counter[str] = Counter()
        for tenant in await self._resealer.tenants():
            try:
                counts.update(await self._reseal_tenant(tenant))
            except ShreddedTenant:
                continue  # its keys are destroyed: there is nothing left to re-seal
        return dict(counts)

    async def _reseal_tenant(self, tenant: str) -> dict[str, int]:
        if self._tenant_keys is not None:
            await self._tenant_keys.ensure(tenant)
        return await self._resealer.for_tenant(tenant).reseal()

    async def rotate_data_key(self, tenant: str) -> str:
        """A new current data key for `tenant`; returns its id (re-seal the tenant next). It
        returns once running processes have had time to refresh and load the new key, so
        what the re-seal writes under it is readable everywhere."""
        if self._tenant_keys is None:
            raise RuntimeError("this gateway seals under the master keys: no data keys")
        key_id = await self._tenant_keys.rotate(tenant)
        await asyncio.sleep(self._settle_seconds)
        return key_id

    async def reseal_tenant(self, tenant: str) -> dict[str, int]:
        return await self._reseal_tenant(tenant)

    async def shred(self, tenant: str) -> int:
        """Re-seal the tenant's content still under a master key onto its data key, then
        destroy its data keys: everything it stored becomes unreadable. Returns how many data
        keys were destroyed."""
        if self._tenant_keys is None:
            raise RuntimeError("this gateway seals under the master keys: no data keys")
        await self._reseal_tenant(tenant)
        return await self._tenant_keys.shred(tenant)

    async def data_keys(self) -> list[dict[str, Any]]:
        return [] if self._tenant_keys is None else await self._tenant_keys.describe()
