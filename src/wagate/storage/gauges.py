"""Figures for the metrics endpoint, read from the database at scrape time.

Every process (web, workers) writes its outcomes to PostgreSQL, so the database is the one place
that knows them all; reading there keeps `/metrics` right however many processes run, without
a multiprocess metrics directory.
"""

from __future__ import annotations

from datetime import timedelta

from wagate.domain.handover import GATEWAY
from wagate.domain.outbound import IN_FLIGHT, OutboundStatus
from wagate.pipeline.status import Gauges
from wagate.storage.database import Database
from wagate.storage.statuses import FAILED, literal_set

__all__ = ["Gauges", "read_gauges"]

_UNSETTLED = literal_set(IN_FLIGHT | {OutboundStatus.FAILED})
_SQL = f"""
SELECT 'outbound' AS family, status AS label, count(*) AS value FROM outbound_messages
 WHERE tenant = %(tenant)s AND status IN {_UNSETTLED} GROUP BY status
UNION ALL
SELECT 'email', email_status, count(*) FROM outbound_messages
 WHERE tenant = %(tenant)s AND status = {FAILED} AND email_status IS NOT NULL
 GROUP BY email_status
UNION ALL
SELECT 'resent_unknown', '', COALESCE(sum(unknown_outcomes), 0) FROM outbound_messages
 WHERE tenant = %(tenant)s AND unknown_outcomes > 0
UNION ALL
SELECT 'inbound_dead', '', count(*) FROM inbound_dead_letters
 WHERE tenant = %(tenant)s AND replayed_at IS NULL
UNION ALL
SELECT 'inbound_unprocessed', '', count(*) FROM inbound_messages
 WHERE tenant = %(tenant)s AND processed_at IS NULL
UNION ALL
SELECT 'jobs', status::text, count(*) FROM procrastinate_jobs
 WHERE status IN ('todo', 'doing') GROUP BY status
UNION ALL
-- Each job names its tenant in its arguments (storage/queue.py)
SELECT 'queue', CASE WHEN scheduled_at IS NULL OR scheduled_at <= now() THEN 'ready'
                     ELSE 'scheduled' END, count(*)
  FROM procrastinate_jobs WHERE status = 'todo' AND args->>'tenant' = %(tenant)s GROUP BY 2
UNION ALL
-- domain.handover.Hold.active, in SQL: open, and the gateway's or not idle past the timeout
SELECT 'held', '', count(*) FROM conversation_holds
 WHERE tenant = %(tenant)s AND released_at IS NULL
   AND (held_by = '{GATEWAY}'
        OR GREATEST(taken_at, COALESCE(last_human_at, taken_at)) > now() - %(idle)s)
UNION ALL
SELECT 'alerts', 'sent', COALESCE(sum(cardinality(delivered_to)), 0) FROM staff_alerts
 WHERE tenant = %(tenant)s
UNION ALL
SELECT 'alerts', 'failed', COALESCE(sum(failures), 0) FROM staff_alerts WHERE tenant = %(tenant)s
UNION ALL
SELECT 'alerts', 'undeliverable', count(*) FROM staff_alerts
 WHERE tenant = %(tenant)s AND undeliverable
"""


async def read_gauges(
    database: Database, tenant: str, *, takeover_idle: timedelta = timedelta(minutes=60)
) -> Gauges:
    gauges = Gauges()
    # The job counts are platform-wide (procrastinate's table has no tenant); the rest is
    # the tenant's, under its row-level security.
    async with database.tenant_connection(tenant) as conn:
        cursor = await conn.execute(_SQL, {"tenant": tenant, "idle": takeover_idle})
        for row in await cursor.fetchall():
            family, label, value = row["family"], row["label"], int(row["value"])
            if family == "outbound":
                gauges.outbound[label] = value
            elif family == "email":
                gauges.email[label] = value
            elif family == "jobs":
                gauges.jobs[label] = value
            elif family == "queue":
                gauges.queue[label] = value
            elif family == "resent_unknown":
                gauges.resent_after_unknown = value
            elif family == "inbound_dead":
                gauges.inbound_dead_letters = value
            elif family == "inbound_unprocessed":
                gauges.inbound_unprocessed = value
            elif family == "held":
                gauges.conversations_held = value
            elif family == "alerts":
                gauges.staff_alerts[label] = value
    return gauges
