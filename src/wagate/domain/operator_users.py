"""Operator users (AI7, OB8): the people who sign in to the console or hold a personal API
token, each with one role (`domain.operators`). What a valid name and password are, and when
failed sign-ins lock a user out for a while, are rules: pure, shared by every door."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from wagate.domain.operators import GRANTS, Role

MAX_NAME_CHARS = 64
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024  # argon2 takes any length; this bounds the work a request can ask
# `:` separates the parts of an audit actor ("user:budi:api") and `/` would end the name in
# an API path; `token-7` is how a tenant's machine token is named in the audit trail.
_FORBIDDEN = (":", "/")
_MACHINE_NAME = re.compile(r"token-\d+", re.IGNORECASE)


def check_user_name(name: str) -> str:
    """The name as stored (surrounding spaces dropped); ValueError saying what is wrong."""
    name = name.strip()
    if not name:
        raise ValueError("a user needs a name")
    if len(name) > MAX_NAME_CHARS:
        raise ValueError(f"a user's name has at most {MAX_NAME_CHARS} characters")
    # Control, format (zero-width …), surrogate and unassigned characters make names that
    # look alike or cannot be stored.
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise ValueError("a user's name cannot hold control or invisible characters")
    if any(c in name for c in _FORBIDDEN):
        raise ValueError("a user's name cannot hold ':' or '/'")
    if name in (".", ".."):
        # A path segment every browser and client resolves away: `/console/users/../role`
        # is `/console/role`, so such a user could never be changed or disabled.
        raise ValueError("a user's name cannot be '.' or '..'")
    if _MACHINE_NAME.fullmatch(name):
        raise ValueError("names like 'token-7' are reserved for machine tokens")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"a password has at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValueError(f"a password has at most {MAX_PASSWORD_CHARS} characters")
    if any(unicodedata.category(c) == "Cs" for c in password):
        raise ValueError("a password cannot hold a lone surrogate")
    return password


def parse_role(value: str | Role) -> Role:
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {str(value)!r} (one of: {names})") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignInPolicy:
    """After `max_failures` failed sign-ins in a row a user is locked out for `lockout` from
    the last of them; each try after that which fails locks them out again. A success resets
    the count. The password is not even checked while locked out."""

    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)

    def locked_until(self, failures: int, last_failure: datetime | None) -> datetime | None:
        if failures < self.max_failures or last_failure is None:
            return None
        return last_failure + self.lockout

    def locked(self, failures: int, last_failure: datetime | None, now: datetime) -> bool:
        until = self.locked_until(failures, last_failure)
        return until is not None and now < until


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorUser:
    id: int
    tenant: str
    name: str
    role: Role
    disabled: bool
    created_at: datetime
    password_changed_at: datetime
    last_sign_in_at: datetime | None = None
    failed_sign_ins: int = 0
    last_failed_sign_in_at: datetime | None = None

    @property
    def permissions(self) -> list[str]:
        return sorted(p.value for p in GRANTS[self.role])

    def as_json(self) -> dict[str, Any]:
        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "tenant": self.tenant,
            "name": self.name,
            "role": self.role.value,
            "disabled": self.disabled,
            "createdAt": when(self.created_at),
            "passwordChangedAt": when(self.password_changed_at),
            "lastSignInAt": when(self.last_sign_in_at),
            "failedSignIns": self.failed_sign_ins,
        }
