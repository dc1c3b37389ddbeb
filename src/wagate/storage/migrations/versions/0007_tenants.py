"""Tenants (MT1, MT2, IN8): many firms on one gateway.

* `tenants` — one row per firm: its status (active, disabled, erased), its own settings (a JSON
  object of overrides: system prompt, disclosure, consent, templates, rate limit, retention …)
  and a version that running processes compare to pick up changes.
* `tenant_channels` — the provider channels a tenant owns: a Meta phone number id (with its
  WABA id) or a Fonnte device. Secrets (access token, webhook secret) are sealed; `route_key`
  is a keyed digest of a path secret (Fonnte), so a webhook finds its tenant by one lookup
  without the secret being stored in the clear. A channel belongs to one tenant only.
* `api_tokens` — operator API tokens, stored as digests; a token belongs to one tenant, or to
  none (a platform admin).
* `tenant_keys` — each tenant's data keys, wrapped (encrypted) by a master key: rotating the
  master re-wraps these rows only; erasing a tenant destroys them (crypto-shredding).

These are the platform's catalogue, read before a request's tenant is known, so they carry no
row-level security of their own; the tenants' data tables do.

Revision ID: 0007_tenants
Revises: 0006_reliability
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007_tenants"
down_revision = "0006_reliability"
branch_labels = None
depends_on = None

_NOW = sa.text("now()")


def _when(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        sa.Column("settings", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        _when("erased_at"),
        sa.CheckConstraint("status IN ('active', 'disabled', 'erased')", name="tenants_status"),
        sa.CheckConstraint("id ~ '^[a-z0-9][a-z0-9_-]{0,39}$'", name="tenants_id_shape"),
    )
    op.create_table(
        "tenant_channels",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("channel_id", sa.Text, nullable=False),
        sa.Column("account_id", sa.Text),  # Meta: the WhatsApp Business Account id
        sa.Column("secrets", sa.LargeBinary, nullable=False),  # sealed JSON: token, secret
        sa.Column("route_key", sa.Text),
        _when("created_at", nullable=False),
        sa.UniqueConstraint("provider", "channel_id", name="tenant_channels_owner"),
        sa.UniqueConstraint("provider", "route_key", name="tenant_channels_route"),
    )
    op.create_index("tenant_channels_tenant", "tenant_channels", ["tenant"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, sa.ForeignKey("tenants.id")),  # NULL: platform admin
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=False, unique=True),
        _when("created_at", nullable=False),
        _when("revoked_at"),
    )
    op.create_table(
        "tenant_keys",
        sa.Column("tenant", sa.Text, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("key_id", sa.Text, nullable=False),
        sa.Column("wrapped", sa.LargeBinary),  # NULL once destroyed
        sa.Column("wrapped_by", sa.Text),  # the master key id that wraps it
        _when("created_at", nullable=False),
        _when("destroyed_at"),
        sa.PrimaryKeyConstraint("tenant", "key_id"),
    )


def downgrade() -> None:
    op.drop_table("tenant_keys")
    op.drop_table("api_tokens")
    op.drop_index("tenant_channels_tenant", table_name="tenant_channels")
    op.drop_table("tenant_channels")
    op.drop_table("tenants")
