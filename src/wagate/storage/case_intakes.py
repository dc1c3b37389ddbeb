"""Case intakes as stored (migration 0018, FL1): one sealed row per Flow completion.

The pipeline's `CaseIntakeStore` (record) and the operator service's `CaseIntakeRecords`
(listing, show, mark reviewed, count). Answers and the reply as received are sealed under the
completion's key (`provider:provider message id`), like the inbound message they came in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from wagate.domain.case_intake import CASE_TYPES
from wagate.pipeline.ports import NewIntake, StoredIntake
from wagate.security.sealing import SealContext, Sealer, UnreadableEnvelope
from wagate.storage.database import Database

ANSWERS = "case_intakes.answers"
RESPONSE = "case_intakes.response"

_RECORD_SQL = """
INSERT INTO case_intakes (tenant, conversation_id, provider, provider_message_id, answers,
                          response, complete, problems, documents, received_at)
VALUES (%(tenant)s, %(conversation_id)s, %(provider)s, %(message_id)s, %(answers)s,
        %(response)s, %(complete)s, %(problems)s, %(documents)s, %(received_at)s)
ON CONFLICT ON CONSTRAINT case_intakes_completion DO NOTHING
RETURNING id
"""
_EXISTING_SQL = """
SELECT id FROM case_intakes
 WHERE tenant = %(tenant)s AND provider = %(provider)s AND provider_message_id = %(message_id)s
"""
_COLUMNS = """
SELECT id, conversation_id, provider, provider_message_id, answers, complete, problems,
       documents, status, received_at, created_at, reviewed_at, reviewed_by
"""
_LIST_SQL = (
    _COLUMNS
    + """
  FROM case_intakes
 WHERE tenant = %(tenant)s AND (%(status)s::text IS NULL OR status = %(status)s)
 ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s
"""
)
_SHOW_SQL = _COLUMNS + ", response FROM case_intakes WHERE tenant = %(tenant)s AND id = %(id)s"
_REVIEWED_SQL = """
UPDATE case_intakes SET status = 'reviewed', reviewed_at = %(at)s, reviewed_by = %(by)s
 WHERE tenant = %(tenant)s AND id = %(id)s AND status = 'new'
RETURNING id
"""
_COUNT_SQL = "SELECT count(*) AS n FROM case_intakes WHERE tenant = %(tenant)s"


def row_key(provider: str, provider_message_id: str) -> str:
    """The associated data's key of an intake's sealed columns (the resealer uses it too)."""
    return f"{provider}:{provider_message_id}"


class PostgresCaseIntakes:
    def __init__(self, database: Database, sealer: Sealer, tenant: str) -> None:
        self._database = database
        self._sealer = sealer
        self._tenant = tenant

    def _seal(self, table: str, key: str, plain: bytes) -> bytes:
        return self._sealer.seal(plain, SealContext(tenant=self._tenant, table=table, key=key))

    def _open(self, table: str, key: str, sealed: Any) -> bytes | None:
        try:
            return self._sealer.open(
                bytes(sealed), SealContext(tenant=self._tenant, table=table, key=key)
            )
        except UnreadableEnvelope:
            return None

    async def record(self, intake: NewIntake) -> StoredIntake:
        parsed = intake.parsed
        key = row_key(intake.provider.value, intake.provider_message_id)
        params = {
            "tenant": self._tenant,
            "conversation_id": intake.conversation_id,
            "provider": intake.provider.value,
            "message_id": intake.provider_message_id,
            "answers": self._seal(ANSWERS, key, orjson.dumps(parsed.as_json())),
            "response": self._seal(RESPONSE, key, parsed.raw.encode("utf-8", "replace")),
            "complete": parsed.complete,
            "problems": list(parsed.problems),
            "documents": len(parsed.documents),
            "received_at": intake.received_at,
        }
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (await conn.execute(_RECORD_SQL, params)).fetchone()
            if row is not None:
                return StoredIntake(id=int(row["id"]), created=True)
            existing = await (await conn.execute(_EXISTING_SQL, params)).fetchone()
        assert existing is not None, "the insert met this completion's row"
        return StoredIntake(id=int(existing["id"]), created=False)

    async def listing(self, *, status: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
        params = {"tenant": self._tenant, "status": status, "limit": limit, "offset": offset}
        async with self._database.tenant_connection(self._tenant) as conn:
            rows = await (await conn.execute(_LIST_SQL, params)).fetchall()
        return [self._shown(row) for row in rows]

    async def show(self, intake_id: int) -> dict[str, Any] | None:
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (
                await conn.execute(_SHOW_SQL, {"tenant": self._tenant, "id": intake_id})
            ).fetchone()
        if row is None:
            return None
        shown = self._shown(row, full=True)
        if not row["complete"]:
            # What came, as it came: the only record of a reply that could not be read.
            raw = self._open(
                RESPONSE, row_key(row["provider"], row["provider_message_id"]), row["response"]
            )
            shown["response"] = raw.decode("utf-8", "replace") if raw is not None else None
        return shown

    async def mark_reviewed(self, intake_id: int, *, by: str, at: datetime) -> bool:
        params = {"tenant": self._tenant, "id": intake_id, "by": by, "at": at}
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (await conn.execute(_REVIEWED_SQL, params)).fetchone()
        return row is not None

    async def count(self) -> int:
        """Every intake the tenant holds (`whatsapp_intake_total` can be read from it)."""
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (await conn.execute(_COUNT_SQL, {"tenant": self._tenant})).fetchone()
        return int(row["n"]) if row is not None else 0

    def _shown(self, row: Any, *, full: bool = False) -> dict[str, Any]:
        """A row as the operator service hands it on: the listing shows who and what kind of
        case; `full` adds every answer, the documents and the flow token."""
        opened = self._open(
            ANSWERS, row_key(row["provider"], row["provider_message_id"]), row["answers"]
        )
        document: dict[str, Any] = orjson.loads(opened) if opened is not None else {}
        answers = document.get("answers") or {}
        case_type = answers.get("case_type")
        shown: dict[str, Any] = {
            "id": int(row["id"]),
            "conversation": int(row["conversation_id"]),
            "provider": row["provider"],
            "status": str(row["status"]),
            "complete": bool(row["complete"]),
            "problems": list(row["problems"] or []),
            "documentCount": int(row["documents"]),
            "receivedAt": row["received_at"],
            "createdAt": row["created_at"],
            "reviewedAt": row["reviewed_at"],
            "reviewedBy": row["reviewed_by"],
            "name": answers.get("full_name") if isinstance(answers.get("full_name"), str) else None,
            "caseType": case_type if isinstance(case_type, str) else None,
            "caseTypeLabel": CASE_TYPES.get(case_type) if isinstance(case_type, str) else None,
            "unreadable": opened is None,
        }
        if full:
            shown["answers"] = answers
            shown["documents"] = document.get("documents") or []
            shown["flowToken"] = document.get("flowToken")
        return shown
