"""Intake: conversations, inbound and outbound messages, delivery statuses, other events, runs.

Revision ID: 0002_intake
Revises: 0001_procrastinate
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002_intake"
down_revision = "0001_procrastinate"
branch_labels = None
depends_on = None

_NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("channel_id", sa.Text, nullable=False),
        sa.Column("contact_key", sa.Text, nullable=False),
        sa.Column("contact_phone", sa.Text),
        sa.Column("contact_user_id", sa.Text),
        sa.Column("profile", sa.LargeBinary),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "tenant", "provider", "channel_id", "contact_key", name="conversations_contact_key"
        ),
    )
    op.create_index("conversations_recent", "conversations", ["tenant", "last_inbound_at"])

    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column(
            "conversation_id",
            sa.BigInteger,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("provider_message_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("clock_timestamp()"),
        ),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True)),
        sa.Column("run_id", sa.BigInteger),
        sa.UniqueConstraint("provider", "provider_message_id", name="inbound_messages_provider_id"),
    )
    op.create_index(
        "inbound_messages_by_conversation", "inbound_messages", ["conversation_id", "sent_at", "id"]
    )
    op.create_index(
        "inbound_messages_unprocessed",
        "inbound_messages",
        ["conversation_id", "received_at"],
        postgresql_where=sa.text("processed_at IS NULL"),
    )

    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column(
            "conversation_id", sa.BigInteger, sa.ForeignKey("conversations.id", ondelete="CASCADE")
        ),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("channel_id", sa.Text, nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
        sa.Column("provider_message_id", sa.Text),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True)),
        sa.Column("error_code", sa.Text),
        sa.Column("error_detail", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.UniqueConstraint(
            "provider", "provider_message_id", name="outbound_messages_provider_id"
        ),
    )

    op.create_table(
        "delivery_statuses",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("provider_message_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("errors", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.UniqueConstraint(
            "provider", "provider_message_id", "status", name="delivery_statuses_once"
        ),
    )

    op.create_table(
        "provider_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("channel_id", sa.Text),
        sa.Column("field_name", sa.Text, nullable=False),
        sa.Column("dedup_key", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.UniqueConstraint("provider", "dedup_key", name="provider_events_once"),
    )

    op.create_table(
        "conversation_runs",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column(
            "conversation_id",
            sa.BigInteger,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_count", sa.Integer, nullable=False),
        sa.Column("last_message_id", sa.Text),
        sa.Column("marked_read", sa.Boolean, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("conversation_runs_by_conversation", "conversation_runs", ["conversation_id"])


def downgrade() -> None:
    for table in (
        "conversation_runs",
        "provider_events",
        "delivery_statuses",
        "outbound_messages",
        "inbound_messages",
        "conversations",
    ):
        op.drop_table(table)
