"""Case intakes from WhatsApp Flows (issue 16, FL1).

* `case_intakes` — one row per Flow completion (`nfm_reply`), unique per tenant by the
  completion's provider message id, so a redelivered webhook or a retried run keeps one.
  `answers` is sealed JSON (AES-256-GCM, associated data: tenant, `case_intakes.answers`,
  `provider:provider message id`): the answers, the documents picked (Meta's media ids and
  file names), the flow token and the problem codes. `response` is the completion's
  `response_json` as received (at most 64 KiB), sealed the same way under
  `case_intakes.response`: a malformed reply is kept as it came. In the clear only what holds
  no personal data: the problem codes (`missing:nik`, `not_json`), how many documents, whether
  it is complete, its status (`new` until a lawyer marks it `reviewed`) and who did so.
* Erased with its conversation (ON DELETE CASCADE); retention purges reviewed ones only (a
  new intake waiting for a lawyer never expires silently).

Carries `tenant` and the row-level security policy of 0008.

Revision ID: 0018_case_intakes
Revises: 0017_metric_counters
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0018_case_intakes"
down_revision = "0017_metric_counters"
branch_labels = None
depends_on = None

POLICY = "tenant_isolation"
_MATCH = "tenant = current_setting('wagate.tenant', true)"


def upgrade() -> None:
    op.create_table(
        "case_intakes",
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
        sa.Column("answers", sa.LargeBinary, nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("problems", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("documents", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", sa.Text, nullable=False, server_default="new"),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
        sa.Column("reviewed_by", sa.Text),
        sa.UniqueConstraint(
            "tenant", "provider", "provider_message_id", name="case_intakes_completion"
        ),
        sa.CheckConstraint("status IN ('new', 'reviewed')", name="case_intakes_status"),
    )
    op.create_index("case_intakes_conversation", "case_intakes", ["conversation_id"])
    op.create_index("case_intakes_listing", "case_intakes", ["tenant", "status", "id"])
    op.execute("ALTER TABLE case_intakes ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {POLICY} ON case_intakes USING ({_MATCH}) WITH CHECK ({_MATCH})")


def downgrade() -> None:
    op.drop_table("case_intakes")
