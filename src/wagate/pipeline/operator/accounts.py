"""Accounts and the numbers linked to them (ID3): create, approve or revoke, link directly (an
operator vouches) or by a 6-digit code sent to the number, verify, unlink, import from CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from wagate.domain.identity import LINK_CODE_KIND, LINK_CODE_TTL, LinkCheck
from wagate.domain.operators import Permission
from wagate.domain.phone import InvalidPhoneNumber, normalise_phone
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import Conflict, NotFound, Rejected
from wagate.pipeline.operator.ports import Account, AccountStore
from wagate.pipeline.operator.recorder import Recorder
from wagate.pipeline.operator.sending import Sending

_TRUE = {"1", "true", "yes", "y", "ya"}
_COLUMNS = ("username", "name", "role", "email", "phone", "approved")

MAX_ACCOUNT_ID = 2**63 - 1  # account ids are bigints


def _phone(value: str) -> str:
    try:
        return normalise_phone(value)
    except InvalidPhoneNumber as exc:
        raise Rejected(f"{exc}") from exc


def _subject(account: Account) -> str:
    return f"account:{account.id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Row:
    username: str
    name: str | None
    role: str
    email: str | None
    phone: str | None
    approved: bool


def parse_csv(text: str, source: str) -> list[_Row]:
    """Rows `username,name,role,email,phone,approved`; Rejected naming the first bad line."""
    rows = []
    for line, raw in enumerate(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))), start=2):
        given = {name: (value or "").strip() for name, value in raw.items() if name}
        cells = dict.fromkeys(_COLUMNS, "") | given
        if not cells["username"]:
            raise Rejected(f"{source}:{line}: username is empty")
        try:
            number = normalise_phone(cells["phone"]) if cells["phone"] else None
        except InvalidPhoneNumber as exc:
            raise Rejected(f"{source}:{line}: {exc}") from exc
        rows.append(
            _Row(
                username=cells["username"],
                name=cells["name"] or None,
                role=cells["role"] or "user",
                email=cells["email"] or None,
                phone=number,
                approved=cells["approved"].lower() in _TRUE,
            )
        )
    return rows


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkCodeSent:
    account: Account
    phone: str
    expires_in_seconds: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Accounts:
    store: AccountStore
    sending: Sending
    recorder: Recorder
    link_code_text: str  # with {code} and {minutes}
    # (name, language) of the AUTHENTICATION template a code goes as outside the window.
    link_code_template: tuple[str, str] | None = None

    @property
    def _clock(self) -> Callable[[], datetime]:
        return self.recorder.clock

    async def list(self, *, by: Actor) -> Sequence[Account]:
        by.require(Permission.READ)
        return await self.store.list()

    async def get(self, ref: str) -> Account:
        text = ref.strip()
        # A blank reference, or an id beyond PostgreSQL's bigint, names no account (and must
        # not reach the database as one).
        if not text or (text.isdigit() and (not text.isascii() or int(text) > MAX_ACCOUNT_ID)):
            raise NotFound(f"no account {text!r}")
        found = await self.store.find(ref)
        if found is None:
            raise NotFound(f"no account {ref.strip()!r}")
        return found

    async def create(
        self,
        *,
        username: str,
        by: Actor,
        name: str | None = None,
        role: str = "user",
        email: str | None = None,
        phone: str | None = None,
        approved: bool = False,
    ) -> Account:
        by.require(Permission.OPERATE)
        if not username.strip():
            raise Rejected("an account needs a username")
        number = _phone(phone) if phone else None
        try:
            created = await self.store.add(
                username=username.strip(),
                name=name,
                role=role,
                email=email,
                phone=number,
                approved=approved,
            )
        except ValueError as exc:
            raise Conflict(str(exc)) from exc
        await self.recorder.record(by, "account.created", _subject(created), approved=approved)
        return created

    async def approve(self, ref: str, *, by: Actor, approved: bool = True) -> Account:
        """Approve, or revoke the approval (`approved` False)."""
        by.require(Permission.OPERATE)
        account = await self.store.approve(str((await self.get(ref)).id), approved)
        action = "account.approved" if approved else "account.revoked"
        await self.recorder.record(by, action, _subject(account))
        return account

    async def link(self, ref: str, phone: str, *, by: Actor) -> Account:
        """Link directly: the operator vouches for the number."""
        by.require(Permission.OPERATE)
        account = await self.get(ref)
        number = _phone(phone)
        try:
            linked = await self.store.link(str(account.id), number)
        except ValueError as exc:
            raise Conflict(str(exc)) from exc
        await self.recorder.record(by, "account.linked", _subject(linked))
        return linked

    async def unlink(self, ref: str, *, by: Actor) -> Account:
        by.require(Permission.OPERATE)
        account = await self.store.unlink(str((await self.get(ref)).id))
        await self.recorder.record(by, "account.unlinked", _subject(account))
        return account

    async def send_link_code(self, ref: str, phone: str, *, by: Actor) -> LinkCodeSent:
        """A 6-digit code goes to the number over WhatsApp (10 minutes, 5 tries); the caller
        learns where it went, never what it is."""
        by.require(Permission.OPERATE)
        await self.get(ref)
        number = _phone(phone)
        # Before a code exists: a refused number never gets one stored either.
        await self.sending.may_write(number, by=by, path=LINK_CODE_KIND)
        account, number, code = await self.store.start_link(ref, number, now=self._clock())
        minutes = int(LINK_CODE_TTL.total_seconds() // 60)
        await self.sending.text(
            number,
            self.link_code_text.format(code=code, minutes=minutes),
            kind=LINK_CODE_KIND,
            by=by,
            code_template=(
                {
                    "name": self.link_code_template[0],
                    "language": self.link_code_template[1],
                    "code": code,
                }
                if self.link_code_template is not None
                else None
            ),
        )
        await self.recorder.record(by, "account.link_code_sent", _subject(account))
        return LinkCodeSent(
            account=account,
            phone=number,
            expires_in_seconds=int(LINK_CODE_TTL.total_seconds()),
        )

    async def verify(self, ref: str, code: str, *, by: Actor) -> tuple[LinkCheck, Account]:
        """Check the code; every try is recorded with its result (OK links the number)."""
        by.require(Permission.OPERATE)
        await self.get(ref)
        try:
            result, account = await self.store.verify_link(ref, code.strip(), now=self._clock())
        except ValueError as exc:  # the number was linked to another account meanwhile
            raise Conflict(str(exc)) from exc
        await self.recorder.record(
            by, "account.link_verified", _subject(account), result=result.value
        )
        return result, account

    async def import_csv(self, text: str, *, by: Actor, source: str = "csv") -> tuple[int, int]:
        """Rows `username,name,role,email,phone,approved`; existing usernames are updated.
        Every row is checked before any is stored. Returns (added, updated)."""
        by.require(Permission.OPERATE)
        rows = parse_csv(text, source)
        added = updated = 0
        for r in rows:
            if await self.store.upsert(
                username=r.username,
                name=r.name,
                role=r.role,
                email=r.email,
                phone=r.phone,
                approved=r.approved,
            ):
                added += 1
            else:
                updated += 1
        await self.recorder.record(by, "accounts.imported", None, added=added, updated=updated)
        return added, updated
