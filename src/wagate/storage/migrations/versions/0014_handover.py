"""Take-over by a human and on-duty alerts (issue 14, AI7).

* `conversation_holds` — a human (or the gateway itself, on a red message) holding a
  conversation: the AI does not answer it while the hold is open. `held_by` is the acting
  user's audit name (`user:7:console`, `operator:api`) or `gateway`; `last_human_at` is the
  human's latest reply. At most one open hold (no `released_at`) per conversation, enforced by
  a partial unique index; a hold a human let go idle is closed lazily with
  `released_by = 'idle'` the next time the conversation is taken (until then the rule in
  `domain/handover.py` already treats it as released).
* `staff_alerts` — what on-duty staff are mailed (`URGENT_NOTIFY_EMAILS`), stored before it is
  sent, unique per tenant by `key`, so raising it twice mails it once. `delivered_to` lists the
  addresses that accepted it (a retry skips them); `sent_at` is set once every address has;
  `failures` counts refused or failed mails (the metrics' counter), `undeliverable` marks an
  alert raised while nothing could send it (no SMTP, no addresses). No personal data: the
  conversation's id, the kind and a short summary.

Both tables carry `tenant` and the row-level security policy of 0008.

Revision ID: 0014_handover
Revises: 0010_knowledge_search_scope
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0014_handover"
down_revision = "0013_review_drafts"
branch_labels = None
depends_on = None

POLICY = "tenant_isolation"
_MATCH = "tenant = current_setting('wagate.tenant', true)"
TABLES = ("conversation_holds", "staff_alerts")


def _when(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "conversation_holds",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column(
            "conversation_id",
            sa.BigInteger,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("held_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        _when("taken_at", nullable=False),
        _when("last_human_at"),
        _when("released_at"),
        sa.Column("released_by", sa.Text),
    )
    op.execute(
        "CREATE UNIQUE INDEX conversation_holds_open ON conversation_holds"
        " (tenant, conversation_id) WHERE released_at IS NULL"
    )
    op.create_index("conversation_holds_conversation", "conversation_holds", ["conversation_id"])
    op.create_table(
        "staff_alerts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("conversation_id", sa.BigInteger, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        _when("created_at", nullable=False),
        _when("sent_at"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("delivered_to", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("undeliverable", sa.Boolean, nullable=False, server_default=sa.false()),
        _when("next_attempt_at"),
        sa.UniqueConstraint("tenant", "key", name="staff_alerts_key"),
    )
    op.execute(
        "CREATE INDEX staff_alerts_unsent ON staff_alerts (tenant, next_attempt_at)"
        " WHERE sent_at IS NULL AND NOT undeliverable"
    )
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {POLICY} ON {table} USING ({_MATCH}) WITH CHECK ({_MATCH})")


def downgrade() -> None:
    op.drop_table("staff_alerts")
    op.drop_table("conversation_holds")
