"""Row-level security (issue 12): each tenant sees only its own rows.

Every table holding a tenant's data gets a policy that admits a row only when its `tenant`
equals the transaction's `wagate.tenant` setting, for reading and for writing alike. An unset
setting (NULL) or an empty one matches no row, so a query that forgot to set its tenant gets
nothing rather than everybody's data. The gateway connects as a role that neither owns these
tables nor bypasses RLS (`storage/roles.py`); migrations run as the owner, which RLS does not
restrict (the policies are not FORCEd), so maintenance and the migrations themselves still see
every row.

Every such table already has its own `tenant` column (migrations 0002–0006 gave each one), so no
policy has to reach through a parent table. The tenant catalogue of 0007 (`tenants`,
`tenant_channels`, `api_tokens`, `tenant_keys`) and procrastinate's tables stay without RLS:
they are read before a request's tenant is known.

Revision ID: 0008_row_level_security
Revises: 0007_tenants
"""

from alembic import op

revision = "0008_row_level_security"
down_revision = "0007_tenants"
branch_labels = None
depends_on = None

POLICY = "tenant_isolation"

TENANT_TABLES = (
    "conversations",
    "inbound_messages",
    "outbound_messages",
    "delivery_statuses",
    "provider_events",
    "conversation_runs",
    "accounts",
    "link_codes",
    "contacts",
    "sessions",
    "turns",
    "consents",
    "pii_vaults",
    "audit_log",
    "audit_head",
    "provider_health",
    "provider_credentials",
    "inbound_failures",
    "inbound_dead_letters",
)

# `current_setting(…, true)` is NULL when the setting was never made: `tenant = NULL` is not
# true, so the row is hidden (reads) or refused (writes).
_MATCH = "tenant = current_setting('wagate.tenant', true)"


# The worker refreshes the job table's planner statistics under a burst
# (`storage/queue_statistics.py`); only the owner may ANALYZE a table, so the owner lends the
# gateway's role exactly that, and nothing else, through a SECURITY DEFINER function.
_ANALYZE_JOBS = """
CREATE FUNCTION wagate_analyze_job_queue() RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
AS 'ANALYZE procrastinate_jobs'
"""


def upgrade() -> None:
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {POLICY} ON {table} USING ({_MATCH}) WITH CHECK ({_MATCH})")
    op.execute(_ANALYZE_JOBS)
    op.execute("REVOKE EXECUTE ON FUNCTION wagate_analyze_job_queue() FROM PUBLIC")


def downgrade() -> None:
    op.execute("DROP FUNCTION wagate_analyze_job_queue()")
    for table in reversed(TENANT_TABLES):
        op.execute(f"DROP POLICY {POLICY} ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
