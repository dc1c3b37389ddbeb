"""Account administration (ID3): add, list, approve, link, unlink, upsert; link codes."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from psycopg.errors import UniqueViolation

from wagate.domain.identity import (
    LINK_CODE_TTL,
    LinkCheck,
    check_link_code,
    hash_link_code,
    new_link_code,
)
from wagate.domain.phone import normalise_phone
from wagate.security.sealing import SealContext, Sealer
from wagate.storage import blind
from wagate.storage.blind import Indexer
from wagate.storage.database import Database

_COLUMNS = "id, username, role, approved, pii, linked_phone, linked_at, created_at"


class AccountError(ValueError):
    """An account operation that cannot be done; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountRecord:
    id: int
    username: str
    role: str
    approved: bool
    name: str | None
    email: str | None
    phone: str | None
    linked_phone: str | None
    linked_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "role": self.role,
            "approved": self.approved,
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "linkedPhone": self.linked_phone,
            "linkedAt": self.linked_at.isoformat() if self.linked_at else None,
        }


class AccountAdmin:
    """Usernames and linked numbers are stored as blind-index digests; everything personal
    about an account (username included: open accounts are named after the number) is sealed
    in `pii`."""

    def __init__(
        self, database: Database, sealer: Sealer, indexer: Indexer, tenant: str, *, pepper: str
    ) -> None:
        self._database = database
        self._sealer = sealer
        self._indexer = indexer
        self._tenant = tenant
        self._pepper = pepper

    def _username_digest(self, username: str) -> str:
        return self._indexer.digest(username, purpose=blind.USERNAME)

    def _seal(self, username_digest: str, pii: dict[str, Any]) -> bytes:
        return self._sealer.seal(
            orjson.dumps(pii),
            SealContext(tenant=self._tenant, table="accounts", key=username_digest),
        )

    def _pii(self, row: Any) -> dict[str, Any]:
        opened: dict[str, Any] = orjson.loads(
            self._sealer.open(
                bytes(row["pii"]),
                SealContext(tenant=self._tenant, table="accounts", key=str(row["username"])),
            )
        )
        return opened

    def _record(self, row: Any) -> AccountRecord:
        pii = self._pii(row)
        return AccountRecord(
            id=int(row["id"]),
            username=str(pii.get("username") or row["username"]),
            role=str(row["role"]),
            approved=bool(row["approved"]),
            name=pii.get("name"),
            email=pii.get("email"),
            phone=pii.get("phone"),
            linked_phone=pii.get("linked_phone") if row["linked_phone"] else None,
            linked_at=row["linked_at"],
        )

    async def add(
        self,
        *,
        username: str,
        name: str | None = None,
        role: str = "user",
        email: str | None = None,
        phone: str | None = None,
        approved: bool = False,
    ) -> AccountRecord:
        username = username.strip()
        if not username:
            raise AccountError("an account needs a username")
        digest = self._username_digest(username)
        pii = {
            "username": username,
            "name": name,
            "email": email,
            "phone": normalise_phone(phone) if phone else None,
            "linked_phone": None,
        }
        async with self._database.tenant_connection(self._tenant) as conn:
            try:
                cursor = await conn.execute(
                    f"INSERT INTO accounts (tenant, username, role, approved, pii) "
                    f"VALUES (%(tenant)s, %(username)s, %(role)s, %(approved)s, %(pii)s) "
                    f"RETURNING {_COLUMNS}",
                    {
                        "tenant": self._tenant,
                        "username": digest,
                        "role": role,
                        "approved": approved,
                        "pii": self._seal(digest, pii),
                    },
                )
            except UniqueViolation as exc:
                raise AccountError(f"account {username!r} exists already") from exc
            return self._record(await cursor.fetchone())

    async def list(self) -> list[AccountRecord]:
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(
                f"SELECT {_COLUMNS} FROM accounts WHERE tenant = %(tenant)s ORDER BY id",
                {"tenant": self._tenant},
            )
            return [self._record(row) for row in await cursor.fetchall()]

    async def _row(self, ref: str | int) -> Any:
        """By id (all digits), or by username."""
        text = str(ref).strip()
        if text.isdigit():
            where, value = "id = %(ref)s::bigint", text
        else:
            where, value = "username = %(ref)s", self._username_digest(text)
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(
                f"SELECT {_COLUMNS} FROM accounts WHERE tenant = %(tenant)s AND {where}",
                {"tenant": self._tenant, "ref": value},
            )
            row = await cursor.fetchone()
        if row is None:
            raise AccountError(f"no account {text!r}")
        return row

    async def get(self, ref: str | int) -> AccountRecord:
        return self._record(await self._row(ref))

    async def email_for_conversation(
        self, conversation_id: int, phone: str | None = None
    ) -> str | None:
        """OU4: where the e-mail fallback goes — the linked account's address; failing that, an
        account whose phone on file is the contact's number (added by an operator, never
        linked over WhatsApp)."""
        linked = await self._linked_email(conversation_id)
        if linked or not phone:
            return linked
        try:
            wanted = normalise_phone(phone)
        except ValueError:
            return None
        # Phones on file are sealed, so they cannot be looked up by value; this path runs only
        # for a message WhatsApp failed to deliver.
        for account in await self.list():
            if account.email and account.phone == wanted:
                return account.email
        return None

    async def _linked_email(self, conversation_id: int) -> str | None:
        columns = ", ".join(f"a.{c.strip()}" for c in _COLUMNS.split(","))
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(
                f"SELECT {columns} FROM conversations c"
                " JOIN contacts ct ON ct.id = c.contact_id"
                " JOIN accounts a ON a.id = ct.account_id"
                " WHERE c.id = %(id)s AND a.tenant = %(tenant)s",
                {"id": conversation_id, "tenant": self._tenant},
            )
            row = await cursor.fetchone()
        return self._record(row).email if row is not None else None

    async def _update(self, account_id: int, assignments: str, **params: Any) -> AccountRecord:
        async with self._database.tenant_connection(self._tenant) as conn:
            try:
                cursor = await conn.execute(
                    f"UPDATE accounts SET {assignments}, updated_at = now() "
                    f"WHERE id = %(id)s AND tenant = %(tenant)s RETURNING {_COLUMNS}",
                    {"id": account_id, "tenant": self._tenant, **params},
                )
            except UniqueViolation as exc:
                raise AccountError("that phone number is linked to another account") from exc
            return self._record(await cursor.fetchone())

    async def _update_pii(
        self, row: Any, assignments: str, changes: dict[str, Any], **params: Any
    ) -> AccountRecord:
        pii = self._pii(row) | changes
        return await self._update(
            int(row["id"]),
            f"{assignments}, pii = %(pii)s",
            pii=self._seal(str(row["username"]), pii),
            **params,
        )

    async def approve(self, ref: str | int, approved: bool = True) -> AccountRecord:
        row = await self._row(ref)
        return await self._update(int(row["id"]), "approved = %(approved)s", approved=approved)

    async def link(self, ref: str | int, phone: str) -> AccountRecord:
        """Link directly: an operator vouches for the number (the API sends a code instead)."""
        row = await self._row(ref)
        number = normalise_phone(phone)
        return await self._update_pii(
            row,
            "linked_phone = %(phone)s, linked_at = now()",
            {"linked_phone": number},
            phone=self._indexer.digest(number, purpose=blind.PHONE),
        )

    async def unlink(self, ref: str | int) -> AccountRecord:
        row = await self._row(ref)
        return await self._update_pii(
            row, "linked_phone = NULL, linked_at = NULL", {"linked_phone": None}
        )

    async def find(self, ref: str | int) -> AccountRecord | None:
        try:
            return await self.get(ref)
        except AccountError:
            return None

    async def upsert(
        self,
        *,
        username: str,
        name: str | None,
        role: str,
        email: str | None,
        phone: str | None,
        approved: bool,
    ) -> bool:
        """Add the account, or update the one with this username (its name, role, e-mail,
        phone and approval); True when added."""
        fields: dict[str, Any] = {"name": name, "email": email, "phone": phone}
        try:
            existing = await self._row(username)
        except AccountError:
            await self.add(username=username, role=role, approved=approved, **fields)
            return True
        if phone:
            fields["phone"] = normalise_phone(phone)
        await self._update_pii(
            existing,
            "role = %(role)s, approved = %(approved)s",
            fields,
            role=role,
            approved=approved,
        )
        return False

    def _seal_link_phone(self, account_id: int, phone: str) -> str:
        sealed = self._sealer.seal(
            phone.encode(),
            SealContext(tenant=self._tenant, table="link_codes", key=str(account_id)),
        )
        return base64.b64encode(sealed).decode()

    def _open_link_phone(self, account_id: int, stored: str) -> str:
        return self._sealer.open(
            base64.b64decode(stored),
            SealContext(tenant=self._tenant, table="link_codes", key=str(account_id)),
        ).decode()

    async def start_link(
        self, ref: str | int, phone: str, *, now: datetime
    ) -> tuple[AccountRecord, str, str]:
        """Create a link code for `phone`; returns (account, normalised phone, code to send)."""
        account = await self.get(ref)
        number = normalise_phone(phone)
        code = new_link_code(secrets.randbelow(10**9))
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(
                "INSERT INTO link_codes (tenant, account_id, phone, code_hash, expires_at) "
                "VALUES (%(tenant)s, %(account_id)s, %(phone)s, %(hash)s, %(expires)s)",
                {
                    "tenant": self._tenant,
                    "account_id": account.id,
                    "phone": self._seal_link_phone(account.id, number),
                    "hash": hash_link_code(code, account_id=account.id, pepper=self._pepper),
                    "expires": now + LINK_CODE_TTL,
                },
            )
        return account, number, code

    async def verify_link(
        self, ref: str | int, code: str, *, now: datetime
    ) -> tuple[LinkCheck, AccountRecord]:
        """Check the latest code; on success the number is linked and the code consumed."""
        account = await self.get(ref)
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(
                "SELECT id, phone, code_hash, attempts, expires_at FROM link_codes "
                "WHERE account_id = %(id)s AND consumed_at IS NULL "
                "ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
                {"id": account.id},
            )
            row = await cursor.fetchone()
            offered = hash_link_code(code, account_id=account.id, pepper=self._pepper)
            result = check_link_code(
                stored_hash=row["code_hash"] if row else None,
                attempts=int(row["attempts"]) if row else 0,
                expires_at=row["expires_at"] if row else None,
                offered_hash=offered,
                now=now,
            )
            if row is not None and result is LinkCheck.WRONG:
                await conn.execute(
                    "UPDATE link_codes SET attempts = attempts + 1 WHERE id = %(id)s",
                    {"id": row["id"]},
                )
            if row is not None and result is LinkCheck.OK:
                await conn.execute(
                    "UPDATE link_codes SET consumed_at = %(now)s WHERE id = %(id)s",
                    {"id": row["id"], "now": now},
                )
        if result is LinkCheck.OK:
            assert row is not None
            account = await self.link(account.id, self._open_link_phone(account.id, row["phone"]))
        return result, account
