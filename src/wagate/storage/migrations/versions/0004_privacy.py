"""Privacy: consent and its evidence, placeholder vaults for PII masking, AI disclosure.

Revision ID: 0004_privacy
Revises: 0003_conversation
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_privacy"
down_revision = "0003_conversation"
branch_labels = None
depends_on = None

_NOW = sa.text("now()")


def upgrade() -> None:
    # granted | withdrawn | NULL (never asked); the history with evidence is in `consents`.
    op.add_column("contacts", sa.Column("consent_state", sa.Text))
    op.add_column("contacts", sa.Column("consent_changed_at", sa.DateTime(timezone=True)))
    op.add_column("contacts", sa.Column("consent_prompted_at", sa.DateTime(timezone=True)))
    op.create_table(
        "consents",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column(
            "contact_id",
            sa.BigInteger,
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("provider_message_id", sa.Text, nullable=False),
        sa.Column("evidence", sa.LargeBinary, nullable=False),  # sealed: the text as written
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.UniqueConstraint("provider_message_id", "state", name="consents_once"),
    )
    op.create_index("consents_by_contact", "consents", ["contact_id", "id"])

    # Per conversation, the placeholders PII was replaced with ([NIK_1] → the value), sealed.
    op.create_table(
        "pii_vaults",
        sa.Column(
            "conversation_id",
            sa.BigInteger,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("vault", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )

    op.add_column("sessions", sa.Column("disclosed_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("sessions", "disclosed_at")
    op.drop_table("pii_vaults")
    op.drop_table("consents")
    for column in ("consent_prompted_at", "consent_changed_at", "consent_state"):
        op.drop_column("contacts", column)
