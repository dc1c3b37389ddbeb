"""The operator console's sign-in sessions (issue 15, OB4/OB8).

* `console_sessions` — one row per signed-in browser: the SHA-256 digest of the cookie's random
  token (never the token), the tenant and user it signed in as, when, when it was last used and
  when it ended (sign-out, or found expired by the sweep). A catalogue table like `api_tokens`:
  the cookie is read before the tenant is known, so it has no row-level security and every
  statement filters itself. The foreign key on (tenant, user_id) ties a session to a user of its
  own tenant, and a user's sessions go when the user row does.

Revision ID: 0015_console_sessions
Revises: 0014_handover
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_console_sessions"
down_revision = "0014_handover"
branch_labels = None
depends_on = None


def _when(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("digest", sa.Text, nullable=False, unique=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        _when("created_at", nullable=False),
        _when("last_seen_at", nullable=False),
        _when("ended_at"),
        sa.ForeignKeyConstraint(
            ["tenant", "user_id"],
            ["operator_users.tenant", "operator_users.id"],
            name="console_sessions_user",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "console_sessions_open",
        "console_sessions",
        ["last_seen_at"],
        postgresql_where=sa.text("ended_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("console_sessions_open", table_name="console_sessions")
    op.drop_table("console_sessions")
