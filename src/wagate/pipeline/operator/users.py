"""Operator users (issue 14, item 1): the people of a firm, each with a role, a password and
personal API tokens, so every action names a person.

Managing users needs `Permission.ADMINISTER`; every change is audited naming who did it (the
actor) and the user it concerns by id (`user:7`; names stay out of the details, like every
name in the trail), never a password or a token. `sign_in` is the console's door: it checks
the password (argon2id; an unknown name costs the same time as a known one), counts failures
and locks a user out for a while after too many (`SignInPolicy`), and refuses a disabled
user.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from wagate.domain.operator_users import (
    MAX_NAME_CHARS,
    MAX_PASSWORD_CHARS,
    OperatorUser,
    SignInPolicy,
    check_password,
    check_user_name,
    parse_role,
)
from wagate.domain.operators import Permission, Role
from wagate.domain.text import storable_text
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import Conflict, NotFound, Rejected
from wagate.pipeline.operator.ports import PasswordHasher, UserStore
from wagate.pipeline.operator.recorder import Recorder

MAX_TOKEN_LABEL = 100


class Refusal(StrEnum):
    WRONG = "wrong"  # no such name, or the wrong password: the same answer for both
    THROTTLED = "throttled"  # too many failures in a row: wait
    DISABLED = "disabled"  # the password was right, but the user is disabled


@dataclass(frozen=True, slots=True, kw_only=True)
class SignIn:
    """A sign-in's outcome: `user` when it succeeded, else `refusal` (and, when throttled,
    when the next try may be made)."""

    user: OperatorUser | None = None
    refusal: Refusal | None = None
    retry_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


def _subject(user: OperatorUser) -> str:
    return f"user:{user.id}"


def _rejected(check: Any, value: Any) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise Rejected(str(exc)) from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class Users:
    store: UserStore
    passwords: PasswordHasher
    recorder: Recorder
    policy: SignInPolicy = field(default_factory=SignInPolicy)

    # ------------------------------------------------------------------ reading

    async def list(self, *, by: Actor) -> builtins.list[OperatorUser]:
        by.require(Permission.ADMINISTER)
        return builtins.list(await self.store.list())

    async def show(self, name: str, *, by: Actor) -> OperatorUser:
        by.require(Permission.ADMINISTER)
        return await self._named(name)

    async def tokens(self, name: str, *, by: Actor) -> builtins.list[dict[str, Any]]:
        by.require(Permission.ADMINISTER)
        return await self.store.tokens((await self._named(name)).id)

    async def actor_for(self, name: str, *, via: str) -> Actor | None:
        """The actor a signed-in user acts as now (their current role), or None when they no
        longer exist or are disabled: the console asks again on every request."""
        user = await self.store.find(name)
        if user is None or user.disabled:
            return None
        return Actor(via=via, user=user.name, role=user.role)

    async def actor_for_id(
        self, user_id: int, *, via: str, signed_in_at: datetime | None = None
    ) -> Actor | None:
        """Like `actor_for`, for a console session (which keeps the user's id: a renamed or
        re-created name does not inherit someone's session). A session opened before the
        user's password was last set (`signed_in_at`) gets None too: an admin resetting the
        password of a user whose session may be stolen ends that session."""
        user = await self.store.get(user_id)
        if user is None or user.disabled:
            return None
        if signed_in_at is not None and user.password_changed_at > signed_in_at:
            return None
        return Actor(via=via, user=user.name, role=user.role)

    async def signed_out(self, user_id: int, *, by: Actor, why: str = "sign_out") -> None:
        """Record the end of a console session (`why`: "sign_out")."""
        await self.recorder.record(by, "user.signed_out", f"user:{user_id}", why=why)

    # ------------------------------------------------------------------ changing

    async def add(self, name: str, *, role: Role | str, password: str, by: Actor) -> OperatorUser:
        by.require(Permission.ADMINISTER)
        name = _rejected(check_user_name, name)
        chosen = _rejected(parse_role, role)
        _rejected(check_password, password)
        digest = await self.passwords.hash(password)
        try:
            user = await self.store.add(
                name=name, role=chosen, password_hash=digest, at=self.recorder.clock()
            )
        except ValueError as exc:
            raise Conflict(str(exc)) from exc
        await self.recorder.record(by, "user.added", _subject(user), role=user.role.value)
        return user

    async def passwd(self, name: str, *, password: str, by: Actor) -> OperatorUser:
        """A new password; failed sign-ins are forgotten (an admin set it)."""
        by.require(Permission.ADMINISTER)
        user = await self._named(name)
        _rejected(check_password, password)
        digest = await self.passwords.hash(password)
        await self.store.set_password(user.id, digest, at=self.recorder.clock())
        await self.recorder.record(by, "user.password_changed", _subject(user))
        return await self._named(user.name)

    async def set_role(self, name: str, role: Role | str, *, by: Actor) -> OperatorUser:
        by.require(Permission.ADMINISTER)
        user = await self._named(name)
        chosen = _rejected(parse_role, role)
        self._not_oneself(user, by, "change your own role")
        if chosen is user.role:
            return user
        changed = await self.store.set_role(user.id, chosen, at=self.recorder.clock())
        await self.recorder.record(
            by,
            "user.role_changed",
            _subject(user),
            role=chosen.value,
            was=user.role.value,
        )
        return changed

    async def disable(self, name: str, *, by: Actor) -> OperatorUser:
        """The user can no longer sign in and their tokens are refused (401) until enabled."""
        by.require(Permission.ADMINISTER)
        user = await self._named(name)
        self._not_oneself(user, by, "disable yourself")
        return await self._disabled(user, True, by)

    async def enable(self, name: str, *, by: Actor) -> OperatorUser:
        by.require(Permission.ADMINISTER)
        return await self._disabled(await self._named(name), False, by)

    async def issue_token(
        self, name: str, *, label: str | None = None, by: Actor
    ) -> dict[str, Any]:
        """A personal API token that acts as the user (with their role at each request). The
        token is in this answer only; its digest is kept."""
        by.require(Permission.ADMINISTER)
        user = await self._named(name)
        if user.disabled:
            raise Conflict(f"user {user.name!r} is disabled")
        text = " ".join((label or "").split()) or "token"
        if len(text) > MAX_TOKEN_LABEL or not text.isprintable() or not storable_text(text):
            raise Rejected(f"a token's label has at most {MAX_TOKEN_LABEL} printable characters")
        token_id, token = await self.store.issue_token(user.id, text, at=self.recorder.clock())
        await self.recorder.record(
            by, "user.token_issued", f"api_token:{token_id}", user=user.id, label=text
        )
        return {"id": token_id, "user": user.name, "label": text, "token": token}

    async def revoke_token(self, token_id: int, *, by: Actor) -> None:
        by.require(Permission.ADMINISTER)
        if not 1 <= token_id < 2**63:
            raise NotFound(f"no live personal token {token_id}")
        owner = await self.store.revoke_token(token_id, at=self.recorder.clock())
        if owner is None:
            raise NotFound(f"no live personal token {token_id}")
        await self.recorder.record(by, "user.token_revoked", f"api_token:{token_id}", user=owner)

    # ------------------------------------------------------------------ signing in

    async def sign_in(self, name: str, password: str, *, via: str) -> SignIn:
        """Check a name and password at the door `via` ("console"). Every outcome but a
        throttled one is audited when the name exists (an unknown name writes nothing: a
        stranger could otherwise fill the trail)."""
        now = self.recorder.clock()
        text = name.strip()
        usable = text and len(text) <= MAX_NAME_CHARS and storable_text(text)
        user = await self.store.find(text) if usable else None
        if user is None or len(password) > MAX_PASSWORD_CHARS:
            # The same time as a real check.
            await self.passwords.verify(None, password[:MAX_PASSWORD_CHARS])
            return SignIn(refusal=Refusal.WRONG)
        if not await self.store.claim_attempt(
            user.id,
            at=now,
            max_failures=self.policy.max_failures,
            locked_since=now - self.policy.lockout,
        ):
            return SignIn(
                refusal=Refusal.THROTTLED,
                retry_at=self.policy.locked_until(
                    user.failed_sign_ins, user.last_failed_sign_in_at
                ),
            )
        stored = await self.store.password_hash(user.id)
        door = Actor(via=via, user=user.name, role=user.role)
        if not await self.passwords.verify(stored, password):
            await self.recorder.record(Actor(via=via), "user.sign_in_failed", _subject(user))
            return SignIn(refusal=Refusal.WRONG)
        if user.disabled:
            await self.recorder.record(door, "user.sign_in_refused", _subject(user), why="disabled")
            return SignIn(refusal=Refusal.DISABLED)
        upgraded = None
        if stored is not None and self.passwords.needs_rehash(stored):
            upgraded = await self.passwords.hash(password)
        signed = await self.store.signed_in(user.id, at=now, password_hash=upgraded)
        await self.recorder.record(door, "user.signed_in", _subject(user), rehashed=bool(upgraded))
        return SignIn(user=signed)

    # ------------------------------------------------------------------ helpers

    async def _named(self, name: str) -> OperatorUser:
        text = name.strip()
        usable = text and len(text) <= MAX_NAME_CHARS and storable_text(text)
        found = await self.store.find(text) if usable else None
        if found is None:
            raise NotFound(f"no user {text[:64]!r}")
        return found

    @staticmethod
    def _not_oneself(user: OperatorUser, by: Actor, what: str) -> None:
        if by.user is not None and by.user.lower() == user.name.lower():
            raise Rejected(f"you cannot {what}; ask another administrator")

    async def _disabled(self, user: OperatorUser, disabled: bool, by: Actor) -> OperatorUser:
        if user.disabled is disabled:
            return user
        changed = await self.store.set_disabled(user.id, disabled, at=self.recorder.clock())
        action = "user.disabled" if disabled else "user.enabled"
        await self.recorder.record(by, action, _subject(user))
        return changed
