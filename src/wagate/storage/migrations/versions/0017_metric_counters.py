"""The sums behind `/metrics`' recorded families (issue 17).

* `metric_counters` — per tenant, a Prometheus sample name (`whatsapp_message_total`,
  `whatsapp_response_time_seconds_bucket` …) and its labels (JSON, the tenant apart; a
  histogram bucket's bound as `le`), and the value every process has added to it. Counts
  only: no message text, no number, no id.
* `outbound_messages.inbound_received_at` — on the first message a run writes, when the
  message it answers (the burst's last) was received: delivery measures the response time
  from it when the provider accepts the message. NULL on every other row.

`metric_counters` carries `tenant` and the row-level security policy of 0008.

Revision ID: 0017_metric_counters
Revises: 0016_run_insights
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0017_metric_counters"
down_revision = "0016_run_insights"
branch_labels = None
depends_on = None

POLICY = "tenant_isolation"
_MATCH = "tenant = current_setting('wagate.tenant', true)"


def upgrade() -> None:
    op.create_table(
        "metric_counters",
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("labels", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("value", sa.Float(precision=53), nullable=False, server_default="0"),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.PrimaryKeyConstraint("tenant", "name", "labels", name="metric_counters_pkey"),
    )
    # The first answer of a run carries the receipt of the message it answers: delivery
    # measures the response time when the provider accepts it (NULL on every other row).
    op.add_column(
        "outbound_messages",
        sa.Column("inbound_received_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.execute("ALTER TABLE metric_counters ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {POLICY} ON metric_counters USING ({_MATCH}) WITH CHECK ({_MATCH})")


def downgrade() -> None:
    op.drop_column("outbound_messages", "inbound_received_at")
    op.drop_table("metric_counters")
