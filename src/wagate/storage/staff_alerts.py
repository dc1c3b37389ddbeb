"""Staff alerts as stored (the pipeline's `AlertStore`): one row per tenant and key, so an
alert raised twice is mailed once; a claim (a short lease on `next_attempt_at`) keeps two
processes from mailing the same alert at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from wagate.pipeline.ports import StaffAlert, StoredAlert
from wagate.storage.database import Database

_RECORD_SQL = """
INSERT INTO staff_alerts (tenant, key, kind, conversation_id, summary, created_at)
VALUES (%(tenant)s, %(key)s, %(kind)s, %(conversation_id)s, %(summary)s, %(at)s)
ON CONFLICT ON CONSTRAINT staff_alerts_key DO NOTHING
"""
_CLAIM_SQL = """
UPDATE staff_alerts SET next_attempt_at = %(until)s, attempts = attempts + 1
 WHERE tenant = %(tenant)s AND key = %(key)s AND sent_at IS NULL AND NOT undeliverable
   AND (next_attempt_at IS NULL OR next_attempt_at <= %(at)s)
RETURNING key, kind, conversation_id, summary, attempts, delivered_to
"""
# Done: sent when some address took it, else undeliverable (every address refused it or the
# tries ran out).
_OUTCOME_SQL = """
UPDATE staff_alerts
   SET delivered_to = delivered_to || %(delivered)s::text[],
       failures = failures + %(failures)s,
       last_error = COALESCE(%(error)s, last_error),
       next_attempt_at = %(next_at)s,
       sent_at = CASE WHEN %(finished)s AND cardinality(delivered_to || %(delivered)s::text[]) > 0
                      THEN now() END,
       undeliverable = %(finished)s AND cardinality(delivered_to || %(delivered)s::text[]) = 0
 WHERE tenant = %(tenant)s AND key = %(key)s
"""
_UNDELIVERABLE_SQL = """
UPDATE staff_alerts SET undeliverable = true, last_error = %(reason)s
 WHERE tenant = %(tenant)s AND key = %(key)s AND sent_at IS NULL
"""
_DUE_SQL = """
SELECT key FROM staff_alerts
 WHERE tenant = %(tenant)s AND sent_at IS NULL AND NOT undeliverable
   AND created_at >= %(since)s AND (next_attempt_at IS NULL OR next_attempt_at <= %(at)s)
 ORDER BY created_at, id LIMIT %(limit)s
"""


class PostgresAlertStore:
    def __init__(self, database: Database, tenant: str) -> None:
        self._database = database
        self._tenant = tenant

    async def record(self, alert: StaffAlert, *, at: datetime) -> None:
        params = {
            "tenant": self._tenant,
            "key": alert.key,
            "kind": alert.kind,
            "conversation_id": alert.conversation_id,
            "summary": alert.summary,
            "at": at,
        }
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(_RECORD_SQL, params)

    async def claim(self, key: str, *, at: datetime, lease: timedelta) -> StoredAlert | None:
        params = {"tenant": self._tenant, "key": key, "at": at, "until": at + lease}
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (await conn.execute(_CLAIM_SQL, params)).fetchone()
        if row is None:
            return None
        return StoredAlert(
            alert=StaffAlert(
                kind=str(row["kind"]),
                key=str(row["key"]),
                conversation_id=int(row["conversation_id"]),
                summary=str(row["summary"]),
            ),
            attempts=int(row["attempts"]),
            delivered_to=tuple(row["delivered_to"] or ()),
        )

    async def outcome(
        self,
        key: str,
        *,
        delivered: Sequence[str],
        failures: int,
        error: str | None,
        finished: bool,
        next_at: datetime | None,
    ) -> None:
        params = {
            "tenant": self._tenant,
            "key": key,
            "delivered": list(delivered),
            "failures": failures,
            "error": error,
            "finished": finished,
            "next_at": next_at,
        }
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(_OUTCOME_SQL, params)

    async def undeliverable(self, key: str, *, reason: str) -> None:
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(
                _UNDELIVERABLE_SQL, {"tenant": self._tenant, "key": key, "reason": reason}
            )

    async def due(self, *, at: datetime, since: datetime, limit: int) -> list[str]:
        params = {"tenant": self._tenant, "at": at, "since": since, "limit": limit}
        async with self._database.tenant_connection(self._tenant) as conn:
            rows = await (await conn.execute(_DUE_SQL, params)).fetchall()
        return [str(row["key"]) for row in rows]
