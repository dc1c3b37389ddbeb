"""Files an operator sends by upload (issue 16, item 3).

* `outbound_files` — one row per uploaded file, written in the transaction that queues its
  outbound message (`outbound_id`, unique; the row goes with the message: ON DELETE CASCADE).
  Like an inbound file: the sealed object's name (`object_key`), its file key sealed under the
  tenant's data key (associated data tenant, `media.file_key`, the object's name), the sniffed
  type and size, and `details` sealed JSON (associated data tenant, `outbound_files.details`,
  the row id): the file name shown to the person, the declared MIME type, the SHA-256.
  `provider_media_id` is the provider's id of the uploaded copy (Meta's media id) with the
  channel it was uploaded to and when: a retry after a crash reuses it instead of uploading
  again. Nothing in the clear names a person.
* A trigger moves the object's name into `media_trash` whenever a row is deleted (delivered,
  purged by retention, erased with its conversation): the object is deleted from the store
  afterwards, and a store that is down keeps the name for the next run.

Row-level security as every tenant table (0008).

Revision ID: 0020_outbound_files
Revises: 0019_media
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_outbound_files"
down_revision = "0019_media"
branch_labels = None
depends_on = None

POLICY = "tenant_isolation"
_MATCH = "tenant = current_setting('wagate.tenant', true)"
_NOW = sa.text("now()")

_TRASH_FUNCTION = """
CREATE FUNCTION wagate_outbound_file_trash() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.object_key IS NOT NULL THEN
    INSERT INTO media_trash (tenant, object_key) VALUES (OLD.tenant, OLD.object_key);
  END IF;
  RETURN OLD;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "outbound_files",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column(
            "outbound_id",
            sa.BigInteger,
            sa.ForeignKey("outbound_messages.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("object_key", sa.Text, nullable=False, unique=True),
        sa.Column("file_key", sa.LargeBinary, nullable=False),
        sa.Column("file_type", sa.Text, nullable=False),
        sa.Column("mime_type", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("details", sa.LargeBinary, nullable=False),
        sa.Column("provider_media_id", sa.Text),
        sa.Column("media_channel", sa.Text),
        sa.Column("uploaded_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )
    op.create_index("outbound_files_age", "outbound_files", ["tenant", "created_at"])
    op.execute(_TRASH_FUNCTION)
    op.execute(
        "CREATE TRIGGER outbound_files_trash AFTER DELETE ON outbound_files "
        "FOR EACH ROW EXECUTE FUNCTION wagate_outbound_file_trash()"
    )
    op.execute("ALTER TABLE outbound_files ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {POLICY} ON outbound_files USING ({_MATCH}) WITH CHECK ({_MATCH})")


def downgrade() -> None:
    op.drop_table("outbound_files")
    op.execute("DROP FUNCTION wagate_outbound_file_trash()")
