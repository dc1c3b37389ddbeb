"""Operator users (issue 14, item 1): people with a role and a password, per tenant.

* `operator_users` — one row per person of a tenant: a name unique within the tenant whatever
  its case, a role (admin, lawyer, staff, viewer), an argon2id password hash, when it was
  disabled, and the sign-in bookkeeping the throttling reads (failures in a row, the last
  one). A tenant table like the others: row-level security as in 0008.
* `api_tokens.user_id` — a personal token is an ordinary API token that also names its user:
  it resolves through the same catalogue lookup as a tenant's token (before any tenant is
  known), is revoked the same way, and is erased with its tenant. The foreign key is on
  (tenant, user_id), so a token can only name a user of its own tenant; a user's tokens go
  when the user row does.

Revision ID: 0012_operator_users
Revises: 0010_knowledge_search_scope
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_operator_users"
down_revision = "0011_knowledge_vocabulary"
branch_labels = None
depends_on = None

POLICY = "tenant_isolation"
_MATCH = "tenant = current_setting('wagate.tenant', true)"
ROLES = ("admin", "lawyer", "staff", "viewer")


def _when(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "operator_users",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        # No foreign key to `tenants`, like every tenant table: an erased tenant's rows stay.
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        _when("password_changed_at", nullable=False),
        _when("disabled_at"),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        _when("last_sign_in_at"),
        sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default="0"),
        _when("last_failed_sign_in_at"),
        sa.CheckConstraint(
            "role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name="operator_users_role"
        ),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 64", name="operator_users_name_length"),
        sa.UniqueConstraint("tenant", "id", name="operator_users_tenant_id"),
    )
    op.execute("CREATE UNIQUE INDEX operator_users_name ON operator_users (tenant, lower(name))")
    op.execute("ALTER TABLE operator_users ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {POLICY} ON operator_users USING ({_MATCH}) WITH CHECK ({_MATCH})")
    op.add_column("api_tokens", sa.Column("user_id", sa.BigInteger, nullable=True))
    op.create_foreign_key(
        "api_tokens_user",
        "api_tokens",
        "operator_users",
        ["tenant", "user_id"],
        ["tenant", "id"],
        ondelete="CASCADE",
    )
    op.create_check_constraint(
        "api_tokens_user_has_tenant", "api_tokens", "user_id IS NULL OR tenant IS NOT NULL"
    )
    op.create_index(
        "api_tokens_user",
        "api_tokens",
        ["user_id"],
        postgresql_where=sa.text("user_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("api_tokens_user", table_name="api_tokens")
    op.drop_constraint("api_tokens_user_has_tenant", "api_tokens", type_="check")
    op.drop_constraint("api_tokens_user", "api_tokens", type_="foreignkey")
    # Personal tokens cannot outlive their users: without the column they would act as their
    # tenant's admin.
    op.execute("DELETE FROM api_tokens WHERE user_id IS NOT NULL")
    op.drop_column("api_tokens", "user_id")
    op.execute(f"DROP POLICY {POLICY} ON operator_users")
    op.drop_table("operator_users")
