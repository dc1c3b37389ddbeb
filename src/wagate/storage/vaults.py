"""Each conversation's PII placeholder vault ([NIK_1] → the real value), sealed (CP1, CP2)."""

from __future__ import annotations

import orjson

from wagate.pipeline.ports import RunOpening
from wagate.security.sealing import SealContext, Sealer
from wagate.storage.database import Database

LOAD_SQL = "SELECT vault FROM pii_vaults WHERE conversation_id = %(conversation_id)s"
_SAVE_SQL = """
INSERT INTO pii_vaults (conversation_id, tenant, vault, updated_at)
VALUES (%(id)s, %(tenant)s, %(vault)s, now())
ON CONFLICT (conversation_id) DO UPDATE SET vault = EXCLUDED.vault, updated_at = now()
"""


class PostgresVaultStore:
    def __init__(self, database: Database, sealer: Sealer, tenant: str) -> None:
        self._database = database
        self._sealer = sealer
        self._tenant = tenant

    def _context(self, conversation_id: int) -> SealContext:
        return SealContext(tenant=self._tenant, table="pii_vaults", key=str(conversation_id))

    async def load(
        self, conversation_id: int, *, opening: RunOpening | None = None
    ) -> dict[str, object] | None:
        rows = opening.get("vault") if opening is not None else None
        if rows is None:
            rows = await self._database.tenant_rows(
                self._tenant, LOAD_SQL, {"conversation_id": conversation_id}
            )
        if not rows:
            return None
        row = rows[0]
        vault: dict[str, object] = orjson.loads(
            self._sealer.open(bytes(row["vault"]), self._context(conversation_id))
        )
        return vault

    async def save(self, conversation_id: int, vault: dict[str, object]) -> None:
        sealed = self._sealer.seal(orjson.dumps(vault), self._context(conversation_id))
        await self._database.tenant_rows(
            self._tenant,
            _SAVE_SQL,
            {"id": conversation_id, "tenant": self._tenant, "vault": sealed},
        )
