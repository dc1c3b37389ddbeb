"""A new sender's identity in one statement (issue 18): `wagate_resolve_contact`.

The identity's slow path (a sender whose contact is new, incomplete or relinked) was five
round trips and ten statements in one transaction: find the contact, create it if missing and
find it again, complete it, point the conversation at it, find the account linked to its
phone, open an account when the policy says so, record the account on the contact. Every
message of a flood of new senders takes that path once. Each step decides the next, so the
client had to wait for each result; inside a function the steps are the same statements in
the same order, and the client sends one.

The function runs as its caller (SECURITY INVOKER, the default): the app role, under the
tenant policies of the transaction's `wagate.tenant`, exactly as the statements did. Each of
its statements takes a fresh snapshot (READ COMMITTED), so the find after a conflicting insert
sees the contact a concurrent run committed, as the second round trip did.

`#variable_conflict use_column`: the result's column names (`id`, `link_notice_at`, …) are
variables too; in the statements every such name means the table's column.

Also: a conversation's latest session is found by its id, not by `last_activity_at`
(`sessions_latest` becomes `sessions_latest_by_id`, on `(conversation_id, id)`). Every answered
message moves its session's `last_activity_at`; with that column indexed, each such update
wrote a new index entry in every index of the table (not a HOT update). Nothing else indexes it
now. The two orders agree: a conversation's sessions are opened one after the other by its own
job (the queue's lock), a new one only once the latest has been idle past the timeout, and
only the latest is ever touched, so the newest session is also the most recently active.

Revision ID: 0022_lean_identity
Revises: 0021_lean_ingest
"""

from alembic import op

revision = "0022_lean_identity"
down_revision = "0021_lean_ingest"
branch_labels = None
depends_on = None

_RESOLVE = """
CREATE FUNCTION wagate_resolve_contact(
    p_tenant text,
    p_conversation_id bigint,
    p_user_id text,
    p_phone text,
    p_open_account boolean,
    p_username text,
    p_pii bytea,
    p_now timestamptz
) RETURNS TABLE (
    id bigint,
    link_notice_at timestamptz,
    rate_notice_at timestamptz,
    consent_state text,
    consent_prompted_at timestamptz,
    account_id bigint,
    account_username text,
    account_approved boolean,
    account_pii bytea
)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public
AS $resolve$
#variable_conflict use_column
DECLARE
    contact record;  -- a row of contacts
    linked_id bigint;
    linked_username text;
    linked_approved boolean;
    linked_pii bytea;
BEGIN
    -- The contact by its BSUID, else by its phone (a BSUID match first).
    SELECT * INTO contact FROM contacts c
     WHERE c.tenant = p_tenant
       AND ((p_user_id IS NOT NULL AND c.user_id = p_user_id)
            OR (p_phone IS NOT NULL AND c.phone = p_phone))
     ORDER BY (c.user_id = p_user_id) DESC NULLS LAST, c.id
     LIMIT 1;
    IF NOT FOUND THEN
        INSERT INTO contacts (tenant, user_id, phone) VALUES (p_tenant, p_user_id, p_phone)
        ON CONFLICT DO NOTHING;
        -- Ours, or the one a concurrent run committed first (a fresh snapshot sees it).
        SELECT * INTO contact FROM contacts c
         WHERE c.tenant = p_tenant
           AND ((p_user_id IS NOT NULL AND c.user_id = p_user_id)
                OR (p_phone IS NOT NULL AND c.phone = p_phone))
         ORDER BY (c.user_id = p_user_id) DESC NULLS LAST, c.id
         LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'contact neither found nor created';
        END IF;
    ELSIF (p_user_id IS NOT NULL AND contact.user_id IS NULL)
          OR (p_phone IS NOT NULL AND contact.phone IS NULL) THEN
        -- Fill in what it lacked, unless another contact already holds that key.
        UPDATE contacts c
           SET user_id = COALESCE(c.user_id, p_user_id), phone = COALESCE(c.phone, p_phone)
         WHERE c.id = contact.id
           AND NOT EXISTS (SELECT 1 FROM contacts o
                            WHERE o.tenant = c.tenant AND o.id <> contact.id
                              AND ((p_user_id IS NOT NULL AND o.user_id = p_user_id)
                                   OR (p_phone IS NOT NULL AND o.phone = p_phone)));
    END IF;

    UPDATE conversations v SET contact_id = contact.id
     WHERE v.id = p_conversation_id AND v.contact_id IS DISTINCT FROM contact.id;

    -- The account linked to the phone; a BSUID-only contact keeps the one it has.
    IF p_phone IS NOT NULL THEN
        SELECT a.id, a.username, a.approved, a.pii
          INTO linked_id, linked_username, linked_approved, linked_pii
          FROM accounts a WHERE a.tenant = p_tenant AND a.linked_phone = p_phone;
    ELSIF contact.account_id IS NOT NULL THEN
        SELECT a.id, a.username, a.approved, a.pii
          INTO linked_id, linked_username, linked_approved, linked_pii
          FROM accounts a WHERE a.id = contact.account_id;
    END IF;
    IF linked_id IS NULL AND p_open_account THEN
        INSERT INTO accounts (tenant, username, role, approved, pii, linked_phone, linked_at)
        VALUES (p_tenant, p_username, 'user', true, p_pii, p_phone, p_now)
        ON CONFLICT ON CONSTRAINT accounts_username DO UPDATE SET updated_at = accounts.updated_at
        RETURNING accounts.id, accounts.username, accounts.approved, accounts.pii
          INTO linked_id, linked_username, linked_approved, linked_pii;
    END IF;
    IF linked_id IS DISTINCT FROM contact.account_id THEN
        UPDATE contacts c SET account_id = linked_id WHERE c.id = contact.id;
    END IF;

    RETURN QUERY SELECT contact.id, contact.link_notice_at, contact.rate_notice_at,
                        contact.consent_state, contact.consent_prompted_at,
                        linked_id, linked_username, linked_approved, linked_pii;
END
$resolve$
"""


def upgrade() -> None:
    op.execute(_RESOLVE)
    op.create_index("sessions_latest_by_id", "sessions", ["conversation_id", "id"])
    op.drop_index("sessions_latest", table_name="sessions")


def downgrade() -> None:
    op.create_index("sessions_latest", "sessions", ["conversation_id", "last_activity_at"])
    op.drop_index("sessions_latest_by_id", table_name="sessions")
    op.execute(
        "DROP FUNCTION wagate_resolve_contact"
        "(text, bigint, text, text, boolean, text, bytea, timestamptz)"
    )
