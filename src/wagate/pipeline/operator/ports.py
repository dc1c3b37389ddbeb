"""What the operator service needs from the world, as Protocols the adapters (storage, the key
file) satisfy. Nothing here knows SQL, HTTP or settings."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from wagate.domain.audit import AuditEntry, AuditTrail, VerifyReport
from wagate.domain.handover import Hold
from wagate.domain.identity import LinkCheck
from wagate.domain.messages import Provider
from wagate.domain.operator_users import OperatorUser
from wagate.domain.operators import Role
from wagate.pipeline.ports import NewUpload, RecipientCheck

__all__ = [
    "Account",
    "AccountStore",
    "AuditLog",
    "ContactRightsStore",
    "ConversationContact",
    "ConversationDesk",
    "CredentialStore",
    "DeadLetterStore",
    "Delivery",
    "DeliveryEvent",
    "DeliveryLog",
    "IncomingFile",
    "KeyStore",
    "Outbox",
    "PasswordHasher",
    "RecipientCheck",
    "UserStore",
]


class Account(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def approved(self) -> bool: ...

    def as_json(self) -> dict[str, Any]: ...


class AccountStore(Protocol):
    """`ref` is an account id (all digits) or a username. Methods other than `find` and `add`
    may assume the account exists (the service looks it up first)."""

    async def list(self) -> Sequence[Account]: ...

    async def find(self, ref: str) -> Account | None: ...

    async def add(
        self,
        *,
        username: str,
        name: str | None,
        role: str,
        email: str | None,
        phone: str | None,
        approved: bool,
    ) -> Account:
        """Raises ValueError when the username is taken."""
        ...

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
        """Add the account, or update the one with this username; True when added."""
        ...

    async def approve(self, ref: str, approved: bool = True) -> Account: ...

    async def link(self, ref: str, phone: str) -> Account:
        """Raises ValueError when the number is linked to another account."""
        ...

    async def unlink(self, ref: str) -> Account: ...

    async def start_link(self, ref: str, phone: str, *, now: datetime) -> tuple[Account, str, str]:
        """A new link code for `phone`: (account, normalised phone, the code to send)."""
        ...

    async def verify_link(
        self, ref: str, code: str, *, now: datetime
    ) -> tuple[LinkCheck, Account]: ...


class Outbox(Protocol):
    async def enqueue(
        self,
        *,
        provider: Provider,
        channel_id: str,
        target: str,
        text: str,
        key: str,
        kind: str,
        run_at: datetime,
        template: Mapping[str, object] | None = None,
        flow: Mapping[str, object] | None = None,
        rich: Mapping[str, object] | None = None,
        code_template: Mapping[str, object] | None = None,
        upload: NewUpload | None = None,
    ) -> tuple[int | None, int]:
        """(outbound id, or None when the key was used before; conversation id). `flow`: a
        WhatsApp Flow message's parameters (`FlowMessage.as_json()`); `rich`: a document,
        image or interactive message (`RichMessage.as_json()`); `code_template`: a link code's
        AUTHENTICATION template {"name", "language", "code"}, for outside the window;
        `upload`: the stored file an uploaded document or image sends, recorded with the row
        (not when the key was used before)."""
        ...


class IncomingFile(Protocol):
    """A file an operator hands over (an API upload spooled to disk, a path on the command
    line): its name and declared type as given, its size, and its bytes from the start each
    time `chunks()` is called — never the whole file in memory."""

    @property
    def filename(self) -> str | None: ...

    @property
    def content_type(self) -> str | None: ...

    @property
    def size(self) -> int: ...

    def chunks(self) -> AsyncIterator[bytes]: ...


@runtime_checkable
class WindowLookup(Protocol):
    """When the contact last wrote on this provider (the 24-hour window), for a message that
    may not go outside it; None when they never did."""

    async def last_inbound(self, provider: Provider, target: str) -> datetime | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryEvent:
    """One status the provider reported for a message: when it happened (the provider's
    time) and when its webhook reached us."""

    status: str
    occurred_at: datetime
    received_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """Where one outbound message is (its row), and the statuses reported for it so far."""

    key: str
    provider: Provider
    status: str  # an OutboundStatus value
    created_at: datetime
    status_at: datetime | None
    attempts: int
    provider_message_id: str | None
    error_code: str | None
    error_detail: str | None
    events: tuple[DeliveryEvent, ...] = ()


class DeliveryLog(Protocol):
    async def delivery(self, key: str) -> Delivery | None:
        """The outbound message with this idempotency key (None: no such message)."""
        ...


class DeadLetterStore(Protocol):
    """References: `123` (a failed outbound message) or `in-7` (an inbound burst); a malformed
    one raises ValueError."""

    async def listing(
        self, *, limit: int = 100, offset: int = 0
    ) -> builtins.list[dict[str, Any]]: ...

    async def show(self, ref: str) -> dict[str, Any] | None: ...

    async def replay(self, ref: str | None, *, at: datetime) -> list[int | str]:
        """Back to the queue: one dead letter, or all (`ref` None); the references replayed."""
        ...


class CredentialStore(Protocol):
    async def set(self, provider: Provider, token: str, *, at: datetime) -> int:
        """Store the token sealed, end the provider's degraded state; the token's version."""
        ...


class ContactRightsStore(Protocol):
    async def export(self, phone: str) -> dict[str, Any]: ...

    async def erase(self, phone: str) -> dict[str, int]: ...


class KeyStore(Protocol):
    @property
    def rotatable(self) -> bool:
        """False when keys come from the environment (only a restart changes them)."""
        ...

    @property
    def location(self) -> str:
        """Where the keys are (to back up after a rotation)."""
        ...

    def rotate(self) -> tuple[str, int]:
        """Add a new current key: (its id, how many keys there are now). Raises ValueError
        when another rotation is under way."""
        ...

    async def status(self) -> dict[str, int]: ...

    async def reseal(self) -> dict[str, int]: ...

    async def rewrap(self) -> int:
        """Wrap the tenants' data keys under the current master key; how many were."""
        ...

    async def rotate_data_key(self, tenant: str) -> str:
        """A new current data key for `tenant`: its id. LookupError: no such tenant;
        RuntimeError: this gateway has no data keys; ValueError: the tenant was shredded."""
        ...

    async def reseal_tenant(self, tenant: str) -> dict[str, int]: ...

    async def shred(self, tenant: str) -> int:
        """Destroy the tenant's data keys (crypto-shredding); how many. Errors as above."""
        ...

    async def data_keys(self) -> builtins.list[dict[str, Any]]:
        """Every data key row: tenant, key id, wrapping master, created, destroyed."""
        ...


class AuditLog(AuditTrail, Protocol):
    async def page(
        self,
        *,
        after_seq: int = 0,
        since: datetime | None = None,
        until: datetime | None = None,
        upto_seq: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]: ...

    async def recent(
        self,
        *,
        before_seq: int | None = None,
        action_prefix: str | None = None,
        actor: str | None = None,
        limit: int = 50,
    ) -> list[AuditEntry]:
        """Newest first, before `before_seq`; only actions starting with `action_prefix` and
        actors containing `actor`, when given (browsing, not verifying)."""
        ...

    def iterate(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        batch: int = 1000,
        upto_seq: int | None = None,
    ) -> AsyncIterator[AuditEntry]: ...

    async def verify(
        self, *, anchors: Mapping[int, str] | None = None, batch: int = 1000
    ) -> VerifyReport: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationContact:
    """Where a conversation's messages go: its provider and channel, and the contact's number
    (or group or chat id). The number stays in memory: never audited, never logged."""

    conversation_id: int
    provider: Provider
    channel_id: str
    recipient: str


class ConversationDesk(Protocol):
    """The conversations humans take from the AI (AI7), as the operator service sees them.
    Only an *active* hold counts (see `domain.handover.Hold.active`): one a human let go idle
    past `idle` is released, whatever its row still says."""

    @property
    def idle(self) -> timedelta:
        """TAKEOVER_IDLE_MINUTES."""
        ...

    async def contact(self, conversation_id: int) -> ConversationContact | None:
        """None when the tenant has no such conversation."""
        ...

    async def current(self, conversation_id: int, *, now: datetime) -> Hold | None:
        """The active hold, if any."""
        ...

    async def take(
        self, conversation_id: int, *, held_by: str, reason: str, now: datetime
    ) -> tuple[Hold, str | None]:
        """Hold it for `held_by` (taking it over from whoever holds it now): the hold, and
        who held it before (None: nobody)."""
        ...

    async def release(self, conversation_id: int, *, by: str, now: datetime) -> Hold | None:
        """End the active hold; None when there was none."""
        ...

    async def touch(self, conversation_id: int, *, now: datetime) -> None:
        """The human acted (replied): the idle time starts again."""
        ...

    async def held(self, *, now: datetime) -> list[Hold]:
        """Every active hold, oldest first."""
        ...

    async def queue_reply(
        self, conversation_id: int, parts: Sequence[tuple[str, str]], *, kind: str, run_at: datetime
    ) -> int:
        """Queue (idempotency key, text) parts into this conversation, with its job, in one
        transaction; how many were new (a key used before queues nothing)."""


class PasswordHasher(Protocol):
    """Slow, salted password hashes (argon2id in `security/passwords.py`)."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, stored: str | None, password: str) -> bool:
        """`stored` None (an unknown user): the same work against a dummy hash, and False."""
        ...

    def needs_rehash(self, stored: str) -> bool: ...


class UserStore(Protocol):
    """One tenant's operator users and their personal API tokens. Names are found whatever
    their case. Methods taking a user id may assume the user exists (the service finds it
    first)."""

    async def list(self) -> Sequence[OperatorUser]: ...

    async def find(self, name: str) -> OperatorUser | None: ...

    async def get(self, user_id: int) -> OperatorUser | None: ...

    async def password_hash(self, user_id: int) -> str | None: ...

    async def add(self, *, name: str, role: Role, password_hash: str, at: datetime) -> OperatorUser:
        """Raises ValueError when the name is taken (in any case)."""
        ...

    async def set_password(self, user_id: int, password_hash: str, *, at: datetime) -> None: ...

    async def set_role(self, user_id: int, role: Role, *, at: datetime) -> OperatorUser: ...

    async def set_disabled(self, user_id: int, disabled: bool, *, at: datetime) -> OperatorUser: ...

    async def claim_attempt(
        self, user_id: int, *, at: datetime, max_failures: int, locked_since: datetime
    ) -> bool:
        """Count a sign-in attempt as failed before its password is checked (so attempts
        running at once cannot all slip under the limit): False, and nothing counted, when
        the user has `max_failures` failures in a row, the last after `locked_since`."""
        ...

    async def signed_in(
        self, user_id: int, *, at: datetime, password_hash: str | None = None
    ) -> OperatorUser:
        """The attempt succeeded: failures back to 0, the time kept; a new hash replaces the
        old one when given (parameters upgraded)."""
        ...

    async def issue_token(self, user_id: int, label: str, *, at: datetime) -> tuple[int, str]:
        """(token id, the token): only its digest is kept."""
        ...

    async def tokens(self, user_id: int) -> builtins.list[dict[str, Any]]: ...

    async def revoke_token(self, token_id: int, *, at: datetime) -> int | None:
        """The id of the user whose live token this was; None when no user of this tenant
        holds a live token with this id."""
        ...
