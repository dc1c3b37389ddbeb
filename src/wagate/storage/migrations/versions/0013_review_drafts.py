"""Drafts waiting for a lawyer (issue 14, AI7): the AI's answer to a yellow question (or to
every question, REVIEW_MODE=all) is kept here until a lawyer approves, edits, rejects or
takes the conversation over; only approved text goes out.

* `question`, `draft`, `final_text`, `reject_reason` are sealed with the tenant's data key like
  every message (context: the table's column and the run key). The question and the draft keep
  the conversation's placeholders ([NAMA_1]); approval restores them from its vault.
* `run_key` is unique: a retried run finds its draft there and stores no second one.
* `deadline` = created + REVIEW_SLA_MINUTES; `escalated_due_at` / `escalated_window_at` mark
  the one alert of each kind (review due, 24-hour window closing). A draft never expires on its
  own: it stays `pending` until someone decides.
* Row-level security as in 0008.

Revision ID: 0013_review_drafts
Revises: 0010_knowledge_search_scope
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0013_review_drafts"
down_revision = "0012_operator_users"
branch_labels = None
depends_on = None

POLICY = "tenant_isolation"
_MATCH = "tenant = current_setting('wagate.tenant', true)"


def _when(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "review_drafts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column(
            "conversation_id",
            sa.BigInteger,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("run_key", sa.Text, nullable=False),
        # The held run's session: the approved answer joins its history (as the AI's turn).
        sa.Column("session_id", sa.BigInteger, sa.ForeignKey("sessions.id", ondelete="SET NULL")),
        sa.Column("zone", sa.Text, nullable=False),
        sa.Column("rules", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("question", sa.LargeBinary, nullable=False),  # sealed, masked
        sa.Column("draft", sa.LargeBinary, nullable=False),  # sealed, masked
        sa.Column("sources", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        _when("created_at", nullable=False),
        _when("deadline", nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("decided_by", sa.Text),
        _when("decided_at"),
        sa.Column("final_text", sa.LargeBinary),  # sealed, as the lawyer approved it
        sa.Column("edited", sa.Boolean),
        sa.Column("reject_reason", sa.LargeBinary),  # sealed
        _when("escalated_due_at"),
        _when("escalated_window_at"),
        sa.UniqueConstraint("run_key", name="review_drafts_run_key"),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'taken_over', 'sent')",
            name="review_drafts_status",
        ),
        sa.CheckConstraint("zone IN ('green', 'yellow', 'red')", name="review_drafts_zone"),
    )
    op.create_index("review_drafts_by_status", "review_drafts", ["tenant", "status", "id"])
    op.create_index("review_drafts_conversation", "review_drafts", ["conversation_id"])
    op.execute("ALTER TABLE review_drafts ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {POLICY} ON review_drafts USING ({_MATCH}) WITH CHECK ({_MATCH})")


def downgrade() -> None:
    op.execute(f"DROP POLICY {POLICY} ON review_drafts")
    op.drop_table("review_drafts")
