"""Take-over (AI7): a human takes a conversation from the AI, replies in it, and gives it back.

While a human holds a conversation the AI answers nothing in it (`Converse` asks the
`Handover` port); the hold lapses when the human has been idle for TAKEOVER_IDLE_MINUTES.
A human's reply is an outbound row of the conversation like any other, so it goes through the
same delivery: idempotency key, channel gate, pacing, the 24-hour window's routing, the
opt-out check before sending. It is the human's own text: no AI disclosure, no disclaimer.
Every action needs the TAKE_OVER permission (lawyer, staff, admin) and is audited with the
acting user; the listing needs READ. Revealing what a conversation's placeholders stand for
([NAMA_1] → the name) is for admins only (ADMINISTER), and its audit record names the
conversation and how many values were shown, never the values."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from wagate.domain.formatting import split_message
from wagate.domain.handover import Hold
from wagate.domain.operators import Permission
from wagate.domain.privacy.vault import PlaceholderVault
from wagate.domain.text import storable_text
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import Conflict, NotFound, Rejected
from wagate.pipeline.operator.ports import ConversationContact, ConversationDesk, RecipientCheck
from wagate.pipeline.operator.recipients import AnyoneMayBeWritten, Recipients
from wagate.pipeline.operator.recorder import Recorder
from wagate.pipeline.ports import VaultStore

HUMAN_REPLY_KIND = "human"  # the outbound rows of a human's reply
MAX_REPLY_CHARS = 20_000  # five WhatsApp messages; a longer text is a mistake, not a reply
MAX_KEY_CHARS = 200
MAX_ID = 2**63 - 1  # a PostgreSQL bigint


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyReceipt:
    conversation_id: int
    idempotency_keys: tuple[str, ...]
    queued: int  # parts newly queued; 0 when the key was used before
    taken: bool  # the reply took the conversation (it was not held)

    def as_json(self) -> dict[str, Any]:
        return {
            "conversationId": self.conversation_id,
            "queued": self.queued,
            "idempotencyKeys": list(self.idempotency_keys),
            "taken": self.taken,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Conversations:
    desk: ConversationDesk | None  # None: this service has no take-over (a bare test set-up)
    recorder: Recorder
    check: RecipientCheck = field(default_factory=AnyoneMayBeWritten)
    vaults: VaultStore | None = None  # None: nothing to reveal in this set-up

    @property
    def _desk(self) -> ConversationDesk:
        if self.desk is None:
            raise Rejected("take-over is not available in this set-up")
        return self.desk

    async def take(self, conversation_id: int, *, by: Actor) -> dict[str, Any]:
        """Pause the AI for this conversation: `by` holds it (from the gateway or another
        human, if they held it)."""
        by.require(Permission.TAKE_OVER)
        await self._contact(conversation_id)
        hold, before = await self._desk.take(
            conversation_id, held_by=by.audit_name, reason="taken", now=self.recorder.clock()
        )
        await self.recorder.record(
            by, "conversation.taken", _subject(conversation_id), previously_held_by=before
        )
        return hold.as_json(self._desk.idle)

    async def release(self, conversation_id: int, *, by: Actor) -> dict[str, Any]:
        """Give the conversation back to the AI; Conflict when nobody holds it."""
        by.require(Permission.TAKE_OVER)
        await self._contact(conversation_id)
        hold = await self._desk.release(
            conversation_id, by=by.audit_name, now=self.recorder.clock()
        )
        if hold is None:
            raise Conflict("the conversation is not held by a human: the AI answers it already")
        # Whose hold ended, when it was not the releaser's own (the gateway's, a colleague's).
        other = hold.held_by if hold.held_by != by.audit_name else None
        await self.recorder.record(
            by, "conversation.released", _subject(conversation_id), held_by_other=other
        )
        return hold.as_json(self._desk.idle)

    async def reply(
        self, conversation_id: int, text: str, *, by: Actor, key: str | None = None
    ) -> ReplyReceipt:
        """Queue the human's text to the conversation's contact (split under WhatsApp's
        limit); takes the conversation if it was not held, and restarts its idle time. `key`
        makes a retry queue nothing new."""
        by.require(Permission.TAKE_OVER)
        body = _checked_text(text)
        if key is not None and not (0 < len(key) <= MAX_KEY_CHARS and storable_text(key)):
            raise Rejected(f"the idempotency key must be 1 to {MAX_KEY_CHARS} characters")
        contact = await self._contact(conversation_id)
        await Recipients(recorder=self.recorder, check=self.check).ensure(
            contact.recipient,
            by=by,
            path=HUMAN_REPLY_KIND,
            provider=contact.provider.value,
            channel=contact.channel_id,
            subject=_subject(conversation_id),
        )
        now = self.recorder.clock()
        taken = await self._desk.current(conversation_id, now=now) is None
        if taken:
            await self._desk.take(conversation_id, held_by=by.audit_name, reason="replied", now=now)
        # Namespaced by conversation and door: a caller's key never meets another's.
        base = f"human:{conversation_id}:{by.via}:{key or uuid.uuid4()}"
        parts = split_message(body)
        keys = tuple(base if len(parts) == 1 else f"{base}:{i}" for i in range(len(parts)))
        queued = await self._desk.queue_reply(
            conversation_id,
            list(zip(keys, parts, strict=True)),
            kind=HUMAN_REPLY_KIND,
            run_at=now,
        )
        await self._desk.touch(conversation_id, now=now)
        await self.recorder.record(
            by,
            "conversation.replied",
            _subject(conversation_id),
            parts=len(parts),
            queued=queued,
            taken=taken,
        )
        return ReplyReceipt(
            conversation_id=conversation_id, idempotency_keys=keys, queued=queued, taken=taken
        )

    async def reveal(self, conversation_id: int, *, by: Actor) -> list[dict[str, str]]:
        """What each placeholder of the conversation stands for, in the order they were
        first used: `{"placeholder": "[NAMA_1]", "kind": "NAMA", "value": "Budi"}`."""
        by.require(Permission.ADMINISTER)
        if self.vaults is None:
            raise Rejected("revealing placeholders is not available in this set-up")
        await self._contact(conversation_id)
        stored = await self.vaults.load(conversation_id)
        vault = PlaceholderVault.from_dict(stored) if stored else PlaceholderVault()
        entries = [
            {"placeholder": e.placeholder, "kind": e.kind.value, "value": e.value}
            for e in vault.entries()
        ]
        # Ids and a count only: the audit trail must not become a second copy of the PII.
        await self.recorder.record(
            by, "conversation.revealed", _subject(conversation_id), placeholders=len(entries)
        )
        return entries

    async def list(self, *, by: Actor) -> list[dict[str, Any]]:
        """The conversations humans (or the gateway, after a red message) hold now."""
        by.require(Permission.READ)
        holds: list[Hold] = await self._desk.held(now=self.recorder.clock())
        return [hold.as_json(self._desk.idle) for hold in holds]

    async def _contact(self, conversation_id: int) -> ConversationContact:
        if not 0 < conversation_id <= MAX_ID:
            raise NotFound(f"no conversation {conversation_id}")
        contact = await self._desk.contact(conversation_id)
        if contact is None:
            raise NotFound(f"no conversation {conversation_id}")
        return contact


def _subject(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


def _checked_text(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise Rejected("the reply is empty")
    if not storable_text(text):
        raise Rejected("the reply contains a character that cannot be stored (NUL)")
    if len(text) > MAX_REPLY_CHARS:
        raise Rejected(f"the reply is longer than {MAX_REPLY_CHARS} characters")
    return text.strip()
