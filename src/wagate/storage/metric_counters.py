"""The sums behind `/metrics`' recorded families (`observability/metrics.py`): every process
adds what it counted since its last flush; the scrape reads the totals.

One row per tenant, sample name and label set. A flush is one statement per tenant (an upsert
adding to the stored values, rows in one fixed order so two processes' flushes never
deadlock), a scrape one read per tenant. Under the tenant's row-level security like every
tenant table (migration 0017).
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from wagate.observability.metrics import Sample, labels_of
from wagate.storage.database import Database, tenant_pipeline

_ADD_SQL = """
INSERT INTO metric_counters (tenant, name, labels, value)
SELECT %(tenant)s, d.name, d.labels::jsonb, d.value
  FROM unnest(%(names)s::text[], %(labels)s::text[], %(values)s::float8[]) AS d(name, labels, value)
ON CONFLICT (tenant, name, labels) DO UPDATE
   SET value = metric_counters.value + EXCLUDED.value, updated_at = now()
"""
_READ_SQL = "SELECT name, labels, value FROM metric_counters WHERE tenant = %(tenant)s"


class PostgresMetricCounters:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def add(self, tenant: str, samples: Sequence[Sample]) -> None:
        if not samples:
            return
        params = {
            "tenant": tenant,
            "names": [s.name for s in samples],
            "labels": [
                orjson.dumps(dict(s.labels), option=orjson.OPT_SORT_KEYS).decode() for s in samples
            ],
            "values": [float(s.value) for s in samples],
        }
        async with self._database.pool.connection() as conn, tenant_pipeline(conn, tenant):
            await conn.execute(_ADD_SQL, params)

    async def read(self, tenant: str) -> list[Sample]:
        async with self._database.tenant_connection(tenant) as conn:
            cursor = await conn.execute(_READ_SQL, {"tenant": tenant})
            rows = await cursor.fetchall()
        return [
            Sample(
                str(row["name"]),
                labels_of({str(k): str(v) for k, v in dict(row["labels"]).items()}),
                float(row["value"]),
            )
            for row in rows
        ]
