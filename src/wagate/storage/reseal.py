"""Key rotation (CP2): re-seal every sealed column with the current key, in batches, without
stopping the gateway. Each value is re-sealed under the same associated data (tenant, table,
row key) it was sealed with, and written back only if nobody changed it meanwhile."""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from wagate.security.keys import add_key_to_file
from wagate.security.sealing import SealContext
from wagate.storage.database import Database
from wagate.storage.intake import conversation_seal_key


class ResealingSealer(Protocol):
    def needs_reseal(self, sealed: bytes) -> bool: ...

    def reseal(self, sealed: bytes, context: SealContext) -> bytes: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SealedColumn:
    table: str
    column: str
    context_table: str  # the table name bound into the associated data
    key_columns: tuple[str, ...]
    row_key: Callable[[dict[str, Any]], str]
    base64_text: bool = False  # stored as base64 text rather than bytea


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
    SealedColumn(
        table="outbound_messages",
        column="content",
        context_table="outbound_messages.content",
        key_columns=("idempotency_key",),
        row_key=lambda r: str(r["idempotency_key"]),
    ),
    SealedColumn(
        table="turns",
        column="content",
        context_table="turns",
        key_columns=("session_id", "run_key", "role"),
        row_key=lambda r: f"{r['session_id']}:{r['run_key']}:{r['role']}",
    ),
    SealedColumn(
        table="provider_events",
        column="payload",
        context_table="provider_events",
        key_columns=("dedup_key",),
        row_key=lambda r: str(r["dedup_key"]),
    ),
    SealedColumn(
        table="accounts",
        column="pii",
        context_table="accounts",
        key_columns=("username",),
        row_key=lambda r: str(r["username"]),
    ),
    SealedColumn(
        table="consents",
        column="evidence",
        context_table="consents",
        key_columns=("contact_id", "provider_message_id"),
        row_key=lambda r: f"{r['contact_id']}:{r['provider_message_id']}",
    ),
    SealedColumn(
        table="pii_vaults",
        column="vault",
        context_table="pii_vaults",
        key_columns=("conversation_id",),
        row_key=lambda r: str(r["conversation_id"]),
    ),
    SealedColumn(
        table="provider_credentials",
        column="secret",
        context_table="provider_credentials",
        key_columns=("provider",),
        row_key=lambda r: str(r["provider"]),
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


def key_id_of(sealed: bytes) -> str:
    """The key an envelope names (`plaintext` for version 0), from its header alone."""
    if not sealed or sealed[0] == 0:
        return "plaintext"
    length = sealed[1] if len(sealed) > 1 else 0
    return sealed[2 : 2 + length].decode("ascii", errors="replace")


class Resealer:
    def __init__(self, database: Database, sealer: ResealingSealer, tenant: str) -> None:
        self._database = database
        self._sealer = sealer
        self._tenant = tenant

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
                counts.update(key_id_of(self._bytes(spec, r[spec.column])) for r in rows)
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
                        if not self._sealer.needs_reseal(old):
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
    the environment), re-sealing and status over the database."""

    def __init__(self, resealer: Resealer, keyfile: Path | None, *, source: str) -> None:
        self._resealer = resealer
        self._keyfile = keyfile
        self._source = source

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
        return ring.current.key_id, len(ring.keys)

    async def status(self) -> dict[str, int]:
        return await self._resealer.status()

    async def reseal(self) -> dict[str, int]:
        return await self._resealer.reseal()
