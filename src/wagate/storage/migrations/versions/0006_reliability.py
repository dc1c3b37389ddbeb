"""Reliability (OU3–OU9): provider health per channel, replaced credentials, inbound dead letters,
pair throttling, unknown send outcomes, e-mail fallback, and the tracker on delivery statuses.

* `provider_health` — one row per (tenant, provider, channel): the circuit breaker and the
  degraded (token) state, shared by every process on the database.
* `provider_credentials` — a token set with `wagate tenants set-token`, sealed; it overrides
  the configured one, and its version tells running processes to pick it up.
* `inbound_failures` / `inbound_dead_letters` — how often a conversation's burst failed, and the
  bursts given up on (their messages marked processed, so the sweep stops re-queueing them).
* `delivery_statuses.tracker` — Meta echoes our idempotency key (`biz_opaque_callback_data`):
  a status can name a message whose send answer we never saw.

Revision ID: 0006_reliability
Revises: 0005_audit
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0006_reliability"
down_revision = "0005_audit"
branch_labels = None
depends_on = None

_NOW = sa.text("now()")


def _when(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "provider_health",
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("channel_id", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="closed"),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("trips", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reason", sa.Text),
        _when("changed_at"),
        _when("retry_at"),
        _when("probe_started_at"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.PrimaryKeyConstraint("tenant", "provider", "channel_id"),
        sa.CheckConstraint(
            "state IN ('closed', 'open', 'half_open', 'degraded')", name="provider_health_state"
        ),
    )
    op.create_table(
        "provider_credentials",
        # A row id only so key rotation can page through it like every sealed table.
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("secret", sa.LargeBinary, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.PrimaryKeyConstraint("tenant", "provider"),
    )
    op.create_table(
        "inbound_failures",
        sa.Column(
            "conversation_id", sa.BigInteger, sa.ForeignKey("conversations.id"), primary_key=True
        ),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        _when("first_failed_at", nullable=False),
        _when("last_failed_at", nullable=False),
    )
    op.create_table(
        "inbound_dead_letters",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column(
            "conversation_id", sa.BigInteger, sa.ForeignKey("conversations.id"), nullable=False
        ),
        sa.Column("message_ids", ARRAY(sa.BigInteger), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        _when("replayed_at"),
    )
    op.create_index(
        "inbound_dead_letters_open",
        "inbound_dead_letters",
        ["tenant", "id"],
        postgresql_where=sa.text("replayed_at IS NULL"),
    )
    op.add_column(
        "outbound_messages", sa.Column("throttles", sa.Integer, nullable=False, server_default="0")
    )
    op.add_column(
        "outbound_messages",
        sa.Column("unknown_outcomes", sa.Integer, nullable=False, server_default="0"),
    )
    op.add_column("outbound_messages", sa.Column("email_status", sa.Text))
    op.add_column("outbound_messages", _when("emailed_at"))
    op.add_column("outbound_messages", sa.Column("email_error", sa.Text))
    op.add_column(
        "outbound_messages",
        sa.Column("email_attempts", sa.Integer, nullable=False, server_default="0"),
    )
    op.add_column("outbound_messages", _when("email_next_at"))
    # Pacing reads a pair's recent sends on every delivery run; the e-mail fallback and the
    # metrics read failed and resent rows: none of them may scan the whole table.
    op.create_index(
        "outbound_messages_recent", "outbound_messages", ["conversation_id", "last_attempt_at"]
    )
    op.create_index(
        "outbound_messages_failed",
        "outbound_messages",
        ["conversation_id"],
        postgresql_where=sa.text("status = 'failed'"),
    )
    op.create_index(
        "outbound_messages_resent",
        "outbound_messages",
        ["tenant"],
        postgresql_where=sa.text("unknown_outcomes > 0"),
    )
    op.add_column("delivery_statuses", sa.Column("tracker", sa.Text))
    op.create_index(
        "delivery_statuses_tracker",
        "delivery_statuses",
        ["provider", "tracker"],
        postgresql_where=sa.text("tracker IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("delivery_statuses_tracker", table_name="delivery_statuses")
    op.drop_column("delivery_statuses", "tracker")
    for index in (
        "outbound_messages_resent",
        "outbound_messages_failed",
        "outbound_messages_recent",
    ):
        op.drop_index(index, table_name="outbound_messages")
    for column in (
        "email_next_at",
        "email_attempts",
        "email_error",
        "emailed_at",
        "email_status",
        "unknown_outcomes",
        "throttles",
    ):
        op.drop_column("outbound_messages", column)
    op.drop_index("inbound_dead_letters_open", table_name="inbound_dead_letters")
    op.drop_table("inbound_dead_letters")
    op.drop_table("inbound_failures")
    op.drop_table("provider_credentials")
    op.drop_table("provider_health")
