"""Audit trail (CP3): a hash-chained, append-only log per tenant and the head that orders it.

`audit_head` holds each tenant's last (seq, hash); an append locks that row, so appends from
any number of processes form one chain. Triggers refuse UPDATE, DELETE and TRUNCATE of
`audit_log` unless the session sets `wagate.audit_maintenance = 'on'`, and even then an UPDATE
may only change `details` and `redacted_at` (retention's redaction). The triggers stop
accidents and bugs; a database owner can still drop them, which `wagate audit verify` detects.

Revision ID: 0005_audit
Revises: 0004_privacy
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005_audit"
down_revision = "0004_privacy"
branch_labels = None
depends_on = None

_MAINTENANCE = "coalesce(current_setting('wagate.audit_maintenance', true), '') = 'on'"

_LOG_GUARD = f"""
CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT {_MAINTENANCE} THEN
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
            USING HINT = 'retention redacts under wagate.audit_maintenance = on';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF (NEW.tenant, NEW.seq, NEW.at, NEW.action, NEW.actor, NEW.subject,
                NEW.details_hash, NEW.content_hash, NEW.prev_hash, NEW.hash)
            IS DISTINCT FROM (OLD.tenant, OLD.seq, OLD.at, OLD.action, OLD.actor, OLD.subject,
                OLD.details_hash, OLD.content_hash, OLD.prev_hash, OLD.hash) THEN
            RAISE EXCEPTION 'audit_log maintenance may change only details and redacted_at';
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END $$
"""

_HEAD_GUARD = f"""
CREATE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.tenant = OLD.tenant AND NEW.seq > OLD.seq THEN
            RETURN NEW;
        END IF;
    END IF;
    IF NOT {_MAINTENANCE} THEN
        RAISE EXCEPTION 'audit_head only moves forward: % refused', TG_OP;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("tenant", sa.Text, nullable=False),
        # Assigned under the audit_head lock, not by a sequence: a sequence leaves gaps on
        # rollback, and a gap is how a deletion shows.
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("subject", sa.Text),
        sa.Column("details", JSONB, nullable=False),
        sa.Column("details_hash", sa.Text, nullable=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("redacted_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("tenant", "seq", name="audit_log_pkey"),
    )
    op.create_index("audit_log_by_time", "audit_log", ["tenant", "at"])
    op.create_table(
        "audit_head",
        sa.Column("tenant", sa.Text, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
    )
    op.execute(_LOG_GUARD)
    op.execute(_HEAD_GUARD)
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_guard()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard()"
    )
    op.execute(
        "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head "
        "FOR EACH ROW EXECUTE FUNCTION audit_head_guard()"
    )
    op.execute(
        "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_head_guard()"
    )


def downgrade() -> None:
    op.drop_table("audit_head")  # drops its triggers
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION audit_head_guard()")
    op.execute("DROP FUNCTION audit_log_guard()")
