"""Inbound files (issue 16, MD1).

* `media` — one row per file a person sent (image, document, audio, video, sticker), written
  in the intake statement that stores the message (status `pending`), settled by the
  `wagate.media_fetch` job: `stored` (the object's name, its size, its sniffed type, and the
  file key sealed under the tenant's data key: associated data tenant, `media.file_key`, the
  object's name), `refused` or `failed` with the `problem` the person is told about. `details`
  is sealed JSON (associated data tenant, `media.details`, the row id): the sender's file name,
  the declared MIME type, the SHA-256 of the plaintext. `extracted` is a document's text, sealed
  the same way (`media.extracted`), when it could be read. The object itself never holds a key.
* `media_trash` — names of objects whose rows were erased or purged, until the object store
  confirms their deletion (a store that is down must not keep a file forever; the row going
  first already made the object unreadable: its key went with it).

Both carry `tenant` and the row-level security policy of 0008.

Revision ID: 0019_media
Revises: 0018_case_intakes
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_media"
down_revision = "0018_case_intakes"
branch_labels = None
depends_on = None

POLICY = "tenant_isolation"
_MATCH = "tenant = current_setting('wagate.tenant', true)"
_NOW = sa.text("now()")
TABLES = ("media", "media_trash")


def _when(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _created() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW)


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column(
            "conversation_id",
            sa.BigInteger,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "inbound_message_id",
            sa.BigInteger,
            sa.ForeignKey("inbound_messages.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("media_type", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("problem", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("object_key", sa.Text, unique=True),
        sa.Column("file_key", sa.LargeBinary),
        sa.Column("file_type", sa.Text),
        sa.Column("mime_type", sa.Text),
        sa.Column("size_bytes", sa.BigInteger),
        sa.Column("details", sa.LargeBinary),
        sa.Column("extracted", sa.LargeBinary),
        _created(),
        _when("settled_at"),
        sa.UniqueConstraint("inbound_message_id", name="media_once_per_message"),
        sa.CheckConstraint(
            "status IN ('pending', 'stored', 'refused', 'failed')", name="media_status"
        ),
    )
    op.create_index("media_by_conversation", "media", ["conversation_id", "id"])
    op.create_index("media_age", "media", ["tenant", "created_at"])
    op.execute("CREATE INDEX media_pending ON media (tenant, created_at) WHERE status = 'pending'")
    op.create_table(
        "media_trash",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("object_key", sa.Text, nullable=False),
        _created(),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("media_trash_by_tenant", "media_trash", ["tenant", "id"])
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {POLICY} ON {table} USING ({_MATCH}) WITH CHECK ({_MATCH})")


def downgrade() -> None:
    op.drop_table("media_trash")
    op.drop_table("media")
