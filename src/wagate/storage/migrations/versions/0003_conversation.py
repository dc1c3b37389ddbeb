"""Identity, sessions and replies: accounts, contacts, link codes, sessions, turns, deliveries.

Revision ID: 0003_conversation
Revises: 0002_intake
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_conversation"
down_revision = "0002_intake"
branch_labels = None
depends_on = None

_NOW = sa.text("now()")


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True)


def _when(name: str, *, nullable: bool = False, default: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=_NOW if default else None,
    )


def upgrade() -> None:
    op.create_table(
        "accounts",
        _id(),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False, server_default="user"),
        sa.Column("approved", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("pii", sa.LargeBinary, nullable=False),  # sealed JSON: name, email, phone
        sa.Column("linked_phone", sa.Text),
        _when("linked_at", nullable=True, default=False),
        _when("created_at"),
        _when("updated_at"),
        sa.UniqueConstraint("tenant", "username", name="accounts_username"),
    )
    op.create_index(
        "accounts_linked_phone",
        "accounts",
        ["tenant", "linked_phone"],
        unique=True,
        postgresql_where=sa.text("linked_phone IS NOT NULL"),
    )

    op.create_table(
        "link_codes",
        _id(),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column(
            "account_id",
            sa.BigInteger,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("phone", sa.Text, nullable=False),
        sa.Column("code_hash", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        _when("expires_at", default=False),
        _when("consumed_at", nullable=True, default=False),
        _when("created_at"),
    )
    op.create_index("link_codes_by_account", "link_codes", ["account_id", "created_at"])

    op.create_table(
        "contacts",
        _id(),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text),  # Meta business-scoped user id, the primary key when known
        sa.Column("phone", sa.Text),  # alias
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id", ondelete="SET NULL")),
        _when("link_notice_at", nullable=True, default=False),
        _when("rate_notice_at", nullable=True, default=False),
        _when("created_at"),
    )
    op.create_index(
        "contacts_user_id",
        "contacts",
        ["tenant", "user_id"],
        unique=True,
        postgresql_where=sa.text("user_id IS NOT NULL"),
    )
    op.create_index(
        "contacts_phone",
        "contacts",
        ["tenant", "phone"],
        unique=True,
        postgresql_where=sa.text("phone IS NOT NULL"),
    )
    op.add_column(
        "conversations",
        sa.Column("contact_id", sa.BigInteger, sa.ForeignKey("contacts.id", ondelete="SET NULL")),
    )
    # A conversation an operator starts has no inbound message yet.
    op.alter_column("conversations", "last_inbound_at", nullable=True)

    op.create_table(
        "sessions",
        _id(),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column(
            "conversation_id",
            sa.BigInteger,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _when("started_at"),
        _when("last_activity_at"),
    )
    op.create_index("sessions_latest", "sessions", ["conversation_id", "last_activity_at"])

    op.create_table(
        "turns",
        _id(),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column(
            "session_id",
            sa.BigInteger,
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),  # sealed text
        sa.Column("run_key", sa.Text, nullable=False),
        _when("created_at"),
        # A retried run must not write its turns twice.
        sa.UniqueConstraint("session_id", "run_key", "role", name="turns_once_per_run"),
    )
    op.create_index("turns_by_session", "turns", ["session_id", "id"])

    op.add_column(
        "outbound_messages", sa.Column("part_index", sa.Integer, nullable=False, server_default="0")
    )
    op.add_column("outbound_messages", sa.Column("reply_to", sa.Text))
    op.add_column(
        "outbound_messages", sa.Column("attempts", sa.Integer, nullable=False, server_default="0")
    )
    op.add_column("outbound_messages", _when("last_attempt_at", nullable=True, default=False))
    op.add_column("outbound_messages", _when("next_attempt_at", nullable=True, default=False))
    op.create_index(
        "outbound_messages_pending",
        "outbound_messages",
        ["conversation_id", "id"],
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )


def downgrade() -> None:
    op.drop_index("outbound_messages_pending", "outbound_messages")
    for column in ("next_attempt_at", "last_attempt_at", "attempts", "reply_to", "part_index"):
        op.drop_column("outbound_messages", column)
    op.drop_table("turns")
    op.drop_table("sessions")
    op.execute("DELETE FROM conversations WHERE last_inbound_at IS NULL")
    op.alter_column("conversations", "last_inbound_at", nullable=False)
    op.drop_column("conversations", "contact_id")
    op.drop_table("contacts")
    op.drop_table("link_codes")
    op.drop_table("accounts")
