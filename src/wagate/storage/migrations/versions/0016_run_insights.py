"""What each run decided and showed the AI, for the console (issue 15, OB4).

* `conversation_runs.run_key` — the burst's run key (the same key the turns and drafts of the
  run carry), so a run's insight can be bound to it when sealed.
* `conversation_runs.insight` — sealed JSON (AES-256-GCM, associated data: tenant,
  `conversation_runs.insight`, `conversation id:run key`): the zone and rules, the question as
  the AI received it (PII masked), the masked answer, the knowledge-base sources. NULL for
  runs that asked no AI and decided nothing worth showing (empty bursts, link codes) and for
  runs before this migration.

Both go with the run row (retention, erasure of a conversation).

Revision ID: 0016_run_insights
Revises: 0015_console_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_run_insights"
down_revision = "0015_console_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("conversation_runs", sa.Column("run_key", sa.Text, nullable=True))
    op.add_column("conversation_runs", sa.Column("insight", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    op.drop_column("conversation_runs", "insight")
    op.drop_column("conversation_runs", "run_key")
