"""Contacts and accounts (ID2–ID4): who is writing, and which account they are linked to.

Contacts are keyed by Meta's business-scoped user id where the provider gives one, with the
phone number as an alias; an account is linked to a phone number (after a code check, or by an
operator). The link is looked up afresh on every run, so unlinking takes effect at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from wagate.domain.consent import ConsentState
from wagate.domain.identity import AccountView, open_username
from wagate.pipeline.ports import Burst, Identity
from wagate.security.sealing import SealContext, Sealer
from wagate.storage import blind
from wagate.storage.blind import Indexer
from wagate.storage.database import Database

# The slow path: find or create the contact, complete it, point the conversation at it, find
# the account linked to its phone or open one, record it on the contact (migration 0022).
_RESOLVE_SQL = """
SELECT id, link_notice_at, rate_notice_at, consent_state, consent_prompted_at, account_id,
       account_username, account_approved, account_pii
  FROM wagate_resolve_contact(%(tenant)s, %(conversation_id)s, %(user_id)s, %(phone)s,
                              %(open_account)s, %(username)s, %(pii)s, %(now)s)
"""
# KNOWN_SQL's columns, in order (run_opening.py reads them with the conversation's row).
KNOWN_COLUMNS = (
    "id",
    "user_id",
    "phone",
    "account_id",
    "link_notice_at",
    "rate_notice_at",
    "consent_state",
    "consent_prompted_at",
    "linked_id",
    "linked_username",
    "linked_approved",
    "linked_pii",
)
# The common case in one round trip: the conversation's contact is known and complete, and the
# account linked to its phone (if any) is the one already recorded on it.
KNOWN_SQL = """
SELECT c.id, c.user_id, c.phone, c.account_id, c.link_notice_at, c.rate_notice_at,
       c.consent_state, c.consent_prompted_at,
       a.id AS linked_id, a.username AS linked_username, a.approved AS linked_approved,
       a.pii AS linked_pii
  FROM conversations v
  JOIN contacts c ON c.id = v.contact_id
  LEFT JOIN accounts a ON a.tenant = c.tenant AND a.linked_phone = c.phone
 WHERE v.id = %(conversation_id)s
"""

_MARK_NOTICE_SQL = {
    "link": "UPDATE contacts SET link_notice_at = %(at)s WHERE id = %(id)s",
    "rate": "UPDATE contacts SET rate_notice_at = %(at)s WHERE id = %(id)s",
    "consent_prompt": "UPDATE contacts SET consent_prompted_at = %(at)s WHERE id = %(id)s",
}
_RECORD_CONSENT_SQL = """
WITH evidence AS (
  INSERT INTO consents (tenant, contact_id, state, provider_message_id, evidence, occurred_at)
  VALUES (%(tenant)s, %(contact_id)s, %(state)s, %(message_id)s, %(evidence)s, %(at)s)
  ON CONFLICT ON CONSTRAINT consents_once DO NOTHING
  RETURNING id
)
UPDATE contacts SET consent_state = %(state)s, consent_changed_at = %(at)s
 WHERE id = %(contact_id)s AND EXISTS (SELECT 1 FROM evidence)
"""


def _account(row: dict[str, Any] | None) -> AccountView | None:
    if row is None:
        return None
    return AccountView(
        id=int(row["id"]), username=str(row["username"]), approved=bool(row["approved"])
    )


class PostgresIdentityStore:
    def __init__(self, database: Database, sealer: Sealer, indexer: Indexer, tenant: str) -> None:
        self._database = database
        self._sealer = sealer
        self._indexer = indexer
        self._tenant = tenant

    async def resolve(self, burst: Burst, *, create_account: bool) -> Identity:
        known = await self._known(burst, create_account=create_account)
        if known is not None:
            return known
        phone = blind.digest_or_none(self._indexer, burst.contact_phone, blind.PHONE)
        username, pii = self._open_account_values(burst) if create_account else (None, None)
        # One statement (migration 0022's function): the steps that were five round trips.
        rows = await self._database.tenant_rows(
            self._tenant,
            _RESOLVE_SQL,
            {
                "tenant": self._tenant,
                "conversation_id": burst.conversation_id,
                "user_id": blind.digest_or_none(self._indexer, _user_key(burst), blind.USER_ID),
                "phone": phone,
                "open_account": create_account,
                "username": username,
                "pii": pii,
                "now": datetime.now().astimezone(),
            },
        )
        contact = rows[0]
        account_row = (
            {
                "id": contact["account_id"],
                "username": contact["account_username"],
                "approved": contact["account_approved"],
                "pii": contact["account_pii"],
            }
            if contact["account_id"] is not None
            else None
        )
        account = _account(account_row)
        return Identity(
            contact_id=int(contact["id"]),
            account=account,
            link_notice_at=contact["link_notice_at"],
            rate_notice_at=contact["rate_notice_at"],
            consent_state=_consent(contact["consent_state"]),
            consent_prompted_at=contact["consent_prompted_at"],
            account_name=self._account_name(account_row),
        )

    async def _known(self, burst: Burst, *, create_account: bool) -> Identity | None:
        """The fast path, or None when anything needs creating, completing or relinking."""
        if not burst.contact_phone:
            return None  # BSUID-only contacts: their account is found through the contact
        rows = burst.opened("identity")  # read with the burst, when it was
        if rows is None:
            rows = await self._database.tenant_rows(
                self._tenant, KNOWN_SQL, {"conversation_id": burst.conversation_id}
            )
        row = rows[0] if rows else None
        if row is None or row["phone"] != self._indexer.digest(
            burst.contact_phone, purpose=blind.PHONE
        ):
            return None
        user_key = _user_key(burst)
        if user_key and row["user_id"] != self._indexer.digest(user_key, purpose=blind.USER_ID):
            return None
        if row["linked_id"] != row["account_id"]:
            return None  # linked or unlinked since: the slow path records it
        if row["linked_id"] is None and create_account:
            return None
        account = None
        if row["linked_id"] is not None:
            account = AccountView(
                id=int(row["linked_id"]),
                username=str(row["linked_username"]),
                approved=bool(row["linked_approved"]),
            )
        return Identity(
            contact_id=int(row["id"]),
            account=account,
            link_notice_at=row["link_notice_at"],
            rate_notice_at=row["rate_notice_at"],
            consent_state=_consent(row["consent_state"]),
            consent_prompted_at=row["consent_prompted_at"],
            account_name=self._account_name(
                {"username": row["linked_username"], "pii": row["linked_pii"]}
                if row["linked_id"] is not None
                else None
            ),
        )

    def _account_name(self, row: dict[str, Any] | None) -> str | None:
        if row is None or row.get("pii") is None:
            return None
        pii = orjson.loads(
            self._sealer.open(
                bytes(row["pii"]),
                SealContext(tenant=self._tenant, table="accounts", key=str(row["username"])),
            )
        )
        name = pii.get("name")
        return str(name) if name else None

    def _open_account_values(self, burst: Burst) -> tuple[str, bytes]:
        """The username digest and sealed profile of the open account the sender would get
        (used only when the phone has no linked account yet)."""
        username = open_username(burst.contact_phone or burst.contact_key)
        username_digest = self._indexer.digest(username, purpose=blind.USERNAME)
        pii = self._sealer.seal(
            orjson.dumps(
                {
                    "username": username,
                    "name": None,
                    "email": None,
                    "phone": burst.contact_phone,
                    "linked_phone": burst.contact_phone,
                }
            ),
            SealContext(tenant=self._tenant, table="accounts", key=username_digest),
        )
        return username_digest, pii

    async def mark_notice(self, contact_id: int, *, kind: str, at: datetime) -> None:
        await self._database.tenant_rows(
            self._tenant, _MARK_NOTICE_SQL[kind], {"at": at, "id": contact_id}
        )

    async def record_consent(
        self,
        contact_id: int,
        *,
        state: ConsentState,
        provider_message_id: str,
        text: str,
        at: datetime,
    ) -> None:
        evidence = self._sealer.seal(
            orjson.dumps({"text": text, "message_id": provider_message_id, "at": at.isoformat()}),
            SealContext(
                tenant=self._tenant, table="consents", key=f"{contact_id}:{provider_message_id}"
            ),
        )
        await self._database.tenant_rows(
            self._tenant,
            _RECORD_CONSENT_SQL,
            {
                "tenant": self._tenant,
                "contact_id": contact_id,
                "state": state.value,
                "message_id": provider_message_id,
                "evidence": evidence,
                "at": at,
            },
        )


def _consent(value: Any) -> ConsentState | None:
    return ConsentState(str(value)) if value else None


def _user_key(burst: Burst) -> str | None:
    """What identifies a contact besides its phone: Meta's BSUID, or — for a sender with
    neither a readable phone nor a BSUID — the conversation's contact key, so such a contact
    is still found again rather than created anew every time."""
    if burst.contact_user_id:
        return burst.contact_user_id
    return None if burst.contact_phone else burst.contact_key
