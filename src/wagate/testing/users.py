"""Operator users in memory (the `UserStore` port), for fast tests of the operator service.
It keeps the same rules as storage/users.py: names unique whatever their case, the sign-in
claim decided and counted in one step, tokens only for this tenant's users."""

from __future__ import annotations

import builtins
import dataclasses
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wagate.domain.operator_users import OperatorUser
from wagate.domain.operators import Role


@dataclass
class MemoryUsers:
    tenant: str = "default"
    users: dict[int, OperatorUser] = field(default_factory=dict)
    hashes: dict[int, str] = field(default_factory=dict)
    # token id → (user id, label, token, created, revoked)
    issued: dict[int, tuple[int, str, str, datetime, datetime | None]] = field(default_factory=dict)

    async def list(self) -> list[OperatorUser]:
        return [self.users[i] for i in sorted(self.users)]

    async def find(self, name: str) -> OperatorUser | None:
        for user in self.users.values():
            if user.name.lower() == name.lower():
                return user
        return None

    async def get(self, user_id: int) -> OperatorUser | None:
        return self.users.get(user_id)

    async def password_hash(self, user_id: int) -> str | None:
        return self.hashes.get(user_id)

    async def add(self, *, name: str, role: Role, password_hash: str, at: datetime) -> OperatorUser:
        if await self.find(name) is not None:
            raise ValueError(f"a user named {name!r} exists already")
        user = OperatorUser(
            id=len(self.users) + 1,
            tenant=self.tenant,
            name=name,
            role=role,
            disabled=False,
            created_at=at,
            password_changed_at=at,
        )
        self.users[user.id] = user
        self.hashes[user.id] = password_hash
        return user

    def _put(self, user_id: int, **changes: Any) -> OperatorUser:
        self.users[user_id] = dataclasses.replace(self.users[user_id], **changes)
        return self.users[user_id]

    async def set_password(self, user_id: int, password_hash: str, *, at: datetime) -> None:
        self.hashes[user_id] = password_hash
        self._put(user_id, password_changed_at=at, failed_sign_ins=0, last_failed_sign_in_at=None)

    async def set_role(self, user_id: int, role: Role, *, at: datetime) -> OperatorUser:
        return self._put(user_id, role=role)

    async def set_disabled(self, user_id: int, disabled: bool, *, at: datetime) -> OperatorUser:
        return self._put(user_id, disabled=disabled)

    async def claim_attempt(
        self, user_id: int, *, at: datetime, max_failures: int, locked_since: datetime
    ) -> bool:
        user = self.users[user_id]
        last = user.last_failed_sign_in_at
        if user.failed_sign_ins >= max_failures and last is not None and last > locked_since:
            return False
        self._put(user_id, failed_sign_ins=user.failed_sign_ins + 1, last_failed_sign_in_at=at)
        return True

    async def signed_in(
        self, user_id: int, *, at: datetime, password_hash: str | None = None
    ) -> OperatorUser:
        if password_hash is not None:
            self.hashes[user_id] = password_hash
        return self._put(
            user_id, failed_sign_ins=0, last_failed_sign_in_at=None, last_sign_in_at=at
        )

    async def issue_token(self, user_id: int, label: str, *, at: datetime) -> tuple[int, str]:
        token_id = len(self.issued) + 1
        token = "wgt_" + secrets.token_urlsafe(16)
        self.issued[token_id] = (user_id, label, token, at, None)
        return token_id, token

    async def tokens(self, user_id: int) -> builtins.list[dict[str, Any]]:
        return [
            {
                "id": token_id,
                "label": label,
                "createdAt": created.isoformat(),
                "revoked": revoked is not None,
            }
            for token_id, (owner, label, _, created, revoked) in sorted(self.issued.items())
            if owner == user_id
        ]

    async def revoke_token(self, token_id: int, *, at: datetime) -> int | None:
        found = self.issued.get(token_id)
        if found is None or found[4] is not None:
            return None
        self.issued[token_id] = (*found[:4], at)
        return found[0]
