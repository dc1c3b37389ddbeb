"""Table definitions (SQLAlchemy Core) used by queries. Migrations are the schema's history and
are written out separately, so an old migration never changes when this file does."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

conversations = Table(
    "conversations",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("channel_id", Text, nullable=False),
    Column("contact_key", Text, nullable=False),
    Column("contact_phone", Text),
    Column("contact_user_id", Text),
    Column("profile", LargeBinary),  # sealed JSON: display name, username
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_inbound_at", DateTime(timezone=True)),
)

inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("conversation_id", BigInteger, ForeignKey("conversations.id"), nullable=False),
    Column("provider", Text, nullable=False),
    Column("provider_message_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("content", LargeBinary, nullable=False),  # sealed JSON of the parsed message
    Column("raw", LargeBinary, nullable=False),  # sealed JSON of the message as received
    Column("processed_at", DateTime(timezone=True)),
    Column("run_id", BigInteger),
)

outbound_messages = Table(
    "outbound_messages",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("conversation_id", BigInteger, ForeignKey("conversations.id")),
    Column("provider", Text, nullable=False),
    Column("channel_id", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("provider_message_id", Text),
    Column("kind", Text, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("status", Text, nullable=False),
    Column("status_at", DateTime(timezone=True)),
    Column("error_code", Text),
    Column("error_detail", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

delivery_statuses = Table(
    "delivery_statuses",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("provider_message_id", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("errors", JSONB, nullable=False),
)

provider_events = Table(
    "provider_events",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("channel_id", Text),
    Column("field_name", Text, nullable=False),
    Column("dedup_key", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

conversation_runs = Table(
    "conversation_runs",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("conversation_id", BigInteger, ForeignKey("conversations.id"), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("message_count", Integer, nullable=False),
    Column("last_message_id", Text),
    Column("marked_read", Boolean, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("error", Text),
    Column("run_key", Text),
    Column("insight", LargeBinary),  # sealed RunInsight (migration 0016)
)
