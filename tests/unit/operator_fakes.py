"""In-memory fakes of the operator service's ports (pipeline/operator/ports.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from wagate.domain.audit import AuditEntry, AuditEvent, VerifyReport
from wagate.domain.capabilities import Capabilities
from wagate.domain.consent import OPTED_OUT
from wagate.domain.identity import LinkCheck
from wagate.domain.messages import Provider
from wagate.domain.window import TemplateSet
from wagate.pipeline.operator import OperatorService
from wagate.security.passwords import Argon2Passwords
from wagate.testing import MemoryHandover
from wagate.testing.users import MemoryUsers

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CHEAP_PASSWORDS = Argon2Passwords(time_cost=1, memory_kib=8, parallelism=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class FakeAccount:
    id: int
    username: str
    approved: bool = False
    phone: str | None = None
    linked_phone: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "approved": self.approved}


@dataclass
class FakeAccounts:
    rows: dict[int, FakeAccount] = field(default_factory=dict)
    codes: dict[int, tuple[str, str]] = field(default_factory=dict)  # id → (phone, code)

    async def list(self) -> list[FakeAccount]:
        return list(self.rows.values())

    async def find(self, ref: str) -> FakeAccount | None:
        for account in self.rows.values():
            if str(account.id) == ref.strip() or account.username == ref.strip():
                return account
        return None

    async def _get(self, ref: str) -> FakeAccount:
        found = await self.find(ref)
        assert found is not None, "the service looks accounts up first"
        return found

    async def add(
        self,
        *,
        username: str,
        name: str | None,
        role: str,
        email: str | None,
        phone: str | None,
        approved: bool,
    ) -> FakeAccount:
        if await self.find(username):
            raise ValueError(f"account {username!r} exists already")
        account = FakeAccount(
            id=len(self.rows) + 1, username=username, approved=approved, phone=phone
        )
        self.rows[account.id] = account
        return account

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
        existing = await self.find(username)
        if existing is None:
            await self.add(
                username=username, name=name, role=role, email=email, phone=phone, approved=approved
            )
            return True
        self.rows[existing.id] = replace(existing, approved=approved, phone=phone)
        return False

    async def _put(self, ref: str, **changes: Any) -> FakeAccount:
        account = replace(await self._get(ref), **changes)
        self.rows[account.id] = account
        return account

    async def approve(self, ref: str, approved: bool = True) -> FakeAccount:
        return await self._put(ref, approved=approved)

    async def link(self, ref: str, phone: str) -> FakeAccount:
        if any(a.linked_phone == phone for a in self.rows.values()):
            raise ValueError("that phone number is linked to another account")
        return await self._put(ref, linked_phone=phone)

    async def unlink(self, ref: str) -> FakeAccount:
        return await self._put(ref, linked_phone=None)

    async def start_link(
        self, ref: str, phone: str, *, now: datetime
    ) -> tuple[FakeAccount, str, str]:
        account = await self._get(ref)
        self.codes[account.id] = (phone, "123456")
        return account, phone, "123456"

    async def verify_link(
        self, ref: str, code: str, *, now: datetime
    ) -> tuple[LinkCheck, FakeAccount]:
        account = await self._get(ref)
        pending = self.codes.get(account.id)
        if pending is None:
            return LinkCheck.NO_CODE, account
        if pending[1] != code:
            return LinkCheck.WRONG, account
        del self.codes[account.id]
        return LinkCheck.OK, await self.link(ref, pending[0])


@dataclass
class FakeOutbox:
    queued: dict[str, dict[str, Any]] = field(default_factory=dict)  # by idempotency key
    conversations: dict[str, int] = field(default_factory=dict)  # target → id

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
        upload: Any = None,
    ) -> tuple[int | None, int]:
        conversation = self.conversations.setdefault(target, len(self.conversations) + 1)
        if key in self.queued:
            return None, conversation
        self.queued[key] = {
            "provider": provider,
            "target": target,
            "text": text,
            "kind": kind,
            "template": template,
            "flow": flow,
            "rich": rich,
            "code_template": code_template,
            "upload": upload,
        }
        return len(self.queued), conversation


@dataclass
class FakeDeadLetters:
    failed: set[int] = field(default_factory=set)
    targets: dict[int, str] = field(default_factory=dict)  # failed message → its number

    async def listing(self, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        return [{"id": n} for n in sorted(self.failed)][offset : offset + limit]

    @staticmethod
    def _number(ref: str) -> int:
        if not ref.strip().isdigit():
            raise ValueError(f"{ref!r} is not a dead letter id (123 or in-7)")
        return int(ref)

    async def show(self, ref: str) -> dict[str, Any] | None:
        number = self._number(ref)
        if number not in self.failed:
            return None
        found: dict[str, Any] = {"id": number, "status": "failed", "provider": "meta"}
        if number in self.targets:
            found["to"] = self.targets[number]
        return found

    async def replay(self, ref: str | None, *, at: datetime) -> list[int | str]:
        chosen = set(self.failed) if ref is None else {self._number(ref)} & self.failed
        self.failed -= chosen
        return sorted(chosen)


@dataclass
class FakeCredentials:
    tokens: dict[Provider, list[str]] = field(default_factory=dict)

    async def set(self, provider: Provider, token: str, *, at: datetime) -> int:
        self.tokens.setdefault(provider, []).append(token)
        return len(self.tokens[provider])


@dataclass
class FakeRights:
    held: dict[str, int] = field(default_factory=dict)  # number → conversations

    async def export(self, phone: str) -> dict[str, Any]:
        return {"conversations": [{"id": i} for i in range(self.held.get(phone, 0))]}

    async def erase(self, phone: str) -> dict[str, int]:
        return {"conversations": self.held.pop(phone, 0)}


@dataclass
class FakeKeys:
    rotatable: bool = True
    location: str = "/data/encryption-keys.json"
    keys: list[str] = field(default_factory=lambda: ["k1"])
    data_key_ids: dict[str, list[str]] = field(default_factory=lambda: {"default": ["d1"]})
    shredded: set[str] = field(default_factory=set)

    def rotate(self) -> tuple[str, int]:
        self.keys.insert(0, f"k{len(self.keys) + 1}")
        return self.keys[0], len(self.keys)

    async def status(self) -> dict[str, int]:
        return {self.keys[0]: 3}

    async def reseal(self) -> dict[str, int]:
        return {"inbound_messages.content": 3}

    async def rewrap(self) -> int:
        return len(self.data_key_ids)

    async def rotate_data_key(self, tenant: str) -> str:
        if tenant in self.shredded:
            raise ValueError(f"tenant {tenant!r} was erased")
        if tenant not in self.data_key_ids:
            raise LookupError(f"tenant {tenant!r} is not in the tenants table")
        self.data_key_ids[tenant].insert(0, f"d{len(self.data_key_ids[tenant]) + 1}")
        return self.data_key_ids[tenant][0]

    async def reseal_tenant(self, tenant: str) -> dict[str, int]:
        return {"turns.content": 2}

    async def shred(self, tenant: str) -> int:
        if tenant not in self.data_key_ids:
            raise LookupError(f"tenant {tenant!r} is not in the tenants table")
        self.shredded.add(tenant)
        return len(self.data_key_ids.pop(tenant))

    async def data_keys(self) -> list[dict[str, Any]]:
        return [
            {"tenant": tenant, "keyId": key_id, "wrappedBy": self.keys[0]}
            for tenant, ids in self.data_key_ids.items()
            for key_id in ids
        ]


@dataclass
class FakeAuditLog:
    events: list[AuditEvent] = field(default_factory=list)

    async def record(self, event: AuditEvent, *, at: datetime) -> int:
        self.events.append(event)
        return len(self.events)

    async def record_many(self, events: Iterable[AuditEvent], *, at: datetime) -> list[int]:
        return [await self.record(e, at=at) for e in events]

    def _entries(self) -> list[AuditEntry]:
        return [
            AuditEntry(
                seq=n,
                tenant="t",
                at=NOW,
                action=e.action,
                actor=e.actor,
                subject=e.subject,
                details=e.details,
                details_hash="",
                content_hash="",
                prev_hash="",
                hash="",
            )
            for n, e in enumerate(self.events, start=1)
        ]

    async def page(
        self,
        *,
        after_seq: int = 0,
        since: datetime | None = None,
        until: datetime | None = None,
        upto_seq: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        return [e for e in self._entries() if e.seq > after_seq][:limit]

    async def recent(
        self,
        *,
        before_seq: int | None = None,
        action_prefix: str | None = None,
        actor: str | None = None,
        limit: int = 50,
    ) -> list[AuditEntry]:
        return [
            e
            for e in reversed(self._entries())
            if (before_seq is None or e.seq < before_seq)
            and (action_prefix is None or e.action.startswith(action_prefix))
            and (actor is None or actor in e.actor)
        ][:limit]

    async def iterate(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        batch: int = 1000,
        upto_seq: int | None = None,
    ) -> AsyncIterator[AuditEntry]:
        for entry in self._entries():
            yield entry

    async def verify(
        self, *, anchors: Mapping[int, str] | None = None, batch: int = 1000
    ) -> VerifyReport:
        return VerifyReport(ok=True, entries=len(self.events), head_seq=0, head_hash="")


@dataclass
class World:
    """One service on fresh fakes, and the fakes to look into."""

    audit: FakeAuditLog = field(default_factory=FakeAuditLog)
    accounts: FakeAccounts = field(default_factory=FakeAccounts)
    outbox: FakeOutbox = field(default_factory=FakeOutbox)
    dead_letters: FakeDeadLetters = field(default_factory=FakeDeadLetters)
    credentials: FakeCredentials = field(default_factory=FakeCredentials)
    rights: FakeRights = field(default_factory=FakeRights)
    keys: FakeKeys = field(default_factory=FakeKeys)
    users: MemoryUsers = field(default_factory=MemoryUsers)
    # Real argon2id, cheap parameters: fast, and hashes the default parameters would upgrade.
    passwords: Argon2Passwords = field(default_factory=lambda: CHEAP_PASSWORDS)
    refused: set[str] = field(default_factory=set)  # numbers the recipient check refuses
    desk: MemoryHandover = field(
        default_factory=lambda: MemoryHandover(contacts={1: "6281200000001"})
    )
    channels: dict[Provider, str] = field(
        default_factory=lambda: {Provider.FONNTE: "fonnte", Provider.META: "100"}
    )
    link_code_template: tuple[str, str] | None = None  # LINK_CODE_TEMPLATE, its language

    async def refusal(self, number: str) -> str | None:
        return OPTED_OUT if number in self.refused else None

    def service(self) -> OperatorService:
        return OperatorService.build(
            audit=self.audit,
            clock=lambda: NOW,
            accounts=self.accounts,
            outbox=self.outbox,
            channels=self.channels,
            capabilities={
                Provider.FONNTE: Capabilities(media=True),
                Provider.META: Capabilities(templates=True, window_24h=True),
            },
            templates=TemplateSet.parse(
                [{"name": "jadwal", "language": "id", "parameters": ["tanggal"]}]
            ),
            link_code_text="Kode {code}, berlaku {minutes} menit",
            link_code_template=self.link_code_template,
            dead_letters=self.dead_letters,
            credentials=self.credentials,
            rights=self.rights,
            keys=self.keys,
            users=self.users,
            passwords=self.passwords,
            recipients=self,
            desk=self.desk,
        )
