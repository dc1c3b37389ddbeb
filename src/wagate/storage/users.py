"""One tenant's operator users (issue 14) and their personal API tokens.

Users are a tenant table under row-level security (migration 0012), so every statement runs
in a tenant transaction. Personal tokens live in the catalogue's `api_tokens` (resolved before
a tenant is known, like a tenant's token) with the user's id; that table has no policy, so the
statements here filter on the tenant themselves.
"""

from __future__ import annotations

import builtins
import secrets
from datetime import datetime
from typing import Any

from psycopg.errors import UniqueViolation

from wagate.domain.operator_users import OperatorUser
from wagate.domain.operators import Role
from wagate.storage.database import Database
from wagate.storage.tenants import TOKEN_PREFIX, token_digest

_COLUMNS = """id, tenant, name, role, disabled_at, created_at, password_changed_at,
       last_sign_in_at, failed_sign_ins, last_failed_sign_in_at"""
_LIST_SQL = f"SELECT {_COLUMNS} FROM operator_users WHERE tenant = %(tenant)s ORDER BY id"
_FIND_SQL = f"""
SELECT {_COLUMNS} FROM operator_users WHERE tenant = %(tenant)s AND lower(name) = lower(%(name)s)
"""
_GET_SQL = f"SELECT {_COLUMNS} FROM operator_users WHERE tenant = %(tenant)s AND id = %(id)s"
_LAWYER_SQL = """
SELECT EXISTS (SELECT 1 FROM operator_users
               WHERE tenant = %(tenant)s AND role = 'lawyer' AND disabled_at IS NULL) AS found
"""
_HASH_SQL = "SELECT password_hash FROM operator_users WHERE tenant = %(tenant)s AND id = %(id)s"
_ADD_SQL = f"""
INSERT INTO operator_users (tenant, name, role, password_hash, password_changed_at, created_at,
                            updated_at)
VALUES (%(tenant)s, %(name)s, %(role)s, %(hash)s, %(at)s, %(at)s, %(at)s)
RETURNING {_COLUMNS}
"""
_SET_PASSWORD_SQL = """
UPDATE operator_users SET password_hash = %(hash)s, password_changed_at = %(at)s,
       updated_at = %(at)s, failed_sign_ins = 0, last_failed_sign_in_at = NULL
 WHERE tenant = %(tenant)s AND id = %(id)s
"""  # noqa: S105 - SQL, not a secret
_SET_ROLE_SQL = f"""
UPDATE operator_users SET role = %(role)s, updated_at = %(at)s
 WHERE tenant = %(tenant)s AND id = %(id)s RETURNING {_COLUMNS}
"""
_SET_DISABLED_SQL = f"""
UPDATE operator_users
   SET disabled_at = CASE WHEN %(disabled)s THEN coalesce(disabled_at, %(at)s) END,
       updated_at = %(at)s
 WHERE tenant = %(tenant)s AND id = %(id)s RETURNING {_COLUMNS}
"""
# One statement decides and counts, so sign-ins racing each other cannot all pass the check.
_CLAIM_SQL = """
UPDATE operator_users
   SET failed_sign_ins = failed_sign_ins + 1, last_failed_sign_in_at = %(at)s
 WHERE tenant = %(tenant)s AND id = %(id)s
   AND NOT (failed_sign_ins >= %(max)s AND last_failed_sign_in_at > %(since)s)
RETURNING failed_sign_ins
"""
_SIGNED_IN_SQL = f"""
UPDATE operator_users
   SET failed_sign_ins = 0, last_failed_sign_in_at = NULL, last_sign_in_at = %(at)s,
       password_hash = coalesce(%(hash)s, password_hash)
 WHERE tenant = %(tenant)s AND id = %(id)s RETURNING {_COLUMNS}
"""
_ISSUE_SQL = """
INSERT INTO api_tokens (tenant, user_id, name, digest, created_at)
VALUES (%(tenant)s, %(user)s, %(label)s, %(digest)s, %(at)s)
RETURNING id
"""
_TOKENS_SQL = """
SELECT id, name, created_at, revoked_at FROM api_tokens
 WHERE tenant = %(tenant)s AND user_id = %(user)s ORDER BY id
"""
_REVOKE_SQL = """
UPDATE api_tokens SET revoked_at = %(at)s
 WHERE id = %(id)s AND tenant = %(tenant)s AND user_id IS NOT NULL AND revoked_at IS NULL
RETURNING user_id
"""


def _user(row: dict[str, Any]) -> OperatorUser:
    return OperatorUser(
        id=int(row["id"]),
        tenant=row["tenant"],
        name=row["name"],
        role=Role(row["role"]),
        disabled=row["disabled_at"] is not None,
        created_at=row["created_at"],
        password_changed_at=row["password_changed_at"],
        last_sign_in_at=row["last_sign_in_at"],
        failed_sign_ins=int(row["failed_sign_ins"]),
        last_failed_sign_in_at=row["last_failed_sign_in_at"],
    )


class PostgresUsers:
    def __init__(self, database: Database, tenant: str) -> None:
        self._database = database
        self._tenant = tenant

    async def _one(self, sql: str, **params: Any) -> dict[str, Any] | None:
        async with self._database.tenant_connection(self._tenant) as conn:
            row: dict[str, Any] | None = await (
                await conn.execute(sql, {"tenant": self._tenant, **params})
            ).fetchone()
        return row

    async def _user(self, sql: str, **params: Any) -> OperatorUser:
        row = await self._one(sql, **params)
        if row is None:
            raise LookupError("no such user")
        return _user(row)

    async def list(self) -> list[OperatorUser]:
        async with self._database.tenant_connection(self._tenant) as conn:
            rows = await (await conn.execute(_LIST_SQL, {"tenant": self._tenant})).fetchall()
        return [_user(r) for r in rows]

    async def lawyer_exists(self) -> bool:
        """An enabled lawyer: unset REVIEW_MODE then means yellow answers wait for one."""
        row = await self._one(_LAWYER_SQL)
        return bool(row and row["found"])

    async def find(self, name: str) -> OperatorUser | None:
        row = await self._one(_FIND_SQL, name=name)
        return _user(row) if row is not None else None

    async def get(self, user_id: int) -> OperatorUser | None:
        row = await self._one(_GET_SQL, id=user_id)
        return _user(row) if row is not None else None

    async def password_hash(self, user_id: int) -> str | None:
        row = await self._one(_HASH_SQL, id=user_id)
        return str(row["password_hash"]) if row is not None else None

    async def add(self, *, name: str, role: Role, password_hash: str, at: datetime) -> OperatorUser:
        try:
            return await self._user(_ADD_SQL, name=name, role=role.value, hash=password_hash, at=at)
        except UniqueViolation as exc:
            raise ValueError(f"a user named {name!r} exists already") from exc

    async def set_password(self, user_id: int, password_hash: str, *, at: datetime) -> None:
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(
                _SET_PASSWORD_SQL,
                {"tenant": self._tenant, "id": user_id, "hash": password_hash, "at": at},
            )

    async def set_role(self, user_id: int, role: Role, *, at: datetime) -> OperatorUser:
        return await self._user(_SET_ROLE_SQL, id=user_id, role=role.value, at=at)

    async def set_disabled(self, user_id: int, disabled: bool, *, at: datetime) -> OperatorUser:
        return await self._user(_SET_DISABLED_SQL, id=user_id, disabled=disabled, at=at)

    async def claim_attempt(
        self, user_id: int, *, at: datetime, max_failures: int, locked_since: datetime
    ) -> bool:
        row = await self._one(_CLAIM_SQL, id=user_id, at=at, max=max_failures, since=locked_since)
        return row is not None

    async def signed_in(
        self, user_id: int, *, at: datetime, password_hash: str | None = None
    ) -> OperatorUser:
        return await self._user(_SIGNED_IN_SQL, id=user_id, at=at, hash=password_hash)

    async def issue_token(self, user_id: int, label: str, *, at: datetime) -> tuple[int, str]:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = await self._one(
            _ISSUE_SQL, user=user_id, label=label, digest=token_digest(token), at=at
        )
        assert row is not None
        return int(row["id"]), token

    async def tokens(self, user_id: int) -> builtins.list[dict[str, Any]]:
        async with self._database.tenant_connection(self._tenant) as conn:
            rows = await (
                await conn.execute(_TOKENS_SQL, {"tenant": self._tenant, "user": user_id})
            ).fetchall()
        return [
            {
                "id": r["id"],
                "label": r["name"],
                "createdAt": r["created_at"].isoformat(),
                "revoked": r["revoked_at"] is not None,
            }
            for r in rows
        ]

    async def revoke_token(self, token_id: int, *, at: datetime) -> int | None:
        row = await self._one(_REVOKE_SQL, id=token_id, at=at)
        return int(row["user_id"]) if row is not None else None
