"""Drafts for a lawyer's review (AI7): list, show, approve (as is or edited), reject with a
reason, take over. Only approved text goes out: restored from the conversation's placeholders,
in WhatsApp formatting, with the disclaimer; the decision and its outbound rows are written in
one transaction with the conversation's delivery queued, so a worker killed between approval
and sending delivers exactly once (the rows' idempotency keys come from the draft id)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from wagate.domain.formatting import split_message, to_whatsapp
from wagate.domain.operators import Permission
from wagate.domain.privacy.masking import unmask
from wagate.domain.privacy.vault import PlaceholderVault
from wagate.domain.review import DEFAULT_REJECT_TEXT, DraftStatus, change_of
from wagate.domain.text import storable_text
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import Conflict, NotFound, Rejected
from wagate.pipeline.operator.recorder import Recorder
from wagate.pipeline.ports import Handover, OutboundDraft, VaultStore

STATUSES = tuple(s.value for s in DraftStatus)
MAX_TEXT = 4000  # a lawyer's edited answer (split into WhatsApp parts when long)
MAX_REASON = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class Decided:
    """A lawyer's decision as storage writes it, in one transaction with `messages`."""

    draft_id: int
    status: DraftStatus
    by: str  # the audit name of who decided
    at: datetime
    final_text: str | None = None  # as approved, placeholders kept
    edited: bool | None = None
    reject_reason: str | None = None
    messages: Sequence[OutboundDraft] = ()
    # The approved answer as the person reads it: it joins the session's history, so the AI
    # knows what the lawyer said when the next question comes.
    history_text: str | None = None


class ReviewStore(Protocol):
    """The tenant's drafts (storage: review_drafts, sealed). `show` gives the fields of
    `listing` plus `question`, `draft`, `sources`, `finalText`, `rejectReason`."""

    async def listing(
        self, *, status: str | None, limit: int, offset: int
    ) -> list[dict[str, Any]]: ...

    async def show(self, draft_id: int) -> dict[str, Any] | None: ...

    async def decide(self, decided: Decided) -> bool:
        """Write the decision (only over a pending draft), its messages (each key once) and
        queue the conversation's delivery, all or nothing; False when no longer pending."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reviews:
    store: ReviewStore
    vaults: VaultStore
    recorder: Recorder
    disclaimer: str = ""
    reject_text: str = DEFAULT_REJECT_TEXT
    handover: Handover | None = None
    # The takeover helper's operator action, when wired: take(conversation_id, by=Actor).
    take_conversation: Callable[..., Any] | None = None

    async def listing(
        self, *, by: Actor, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        by.require(Permission.READ)
        if status is not None and status not in STATUSES:
            raise Rejected(f"status must be one of {', '.join(STATUSES)}")
        return await self.store.listing(status=status, limit=limit, offset=offset)

    async def show(self, draft_id: int, *, by: Actor) -> dict[str, Any]:
        by.require(Permission.READ)
        found = await self.store.show(draft_id)
        if found is None:
            raise NotFound(f"no draft {draft_id}")
        return found

    async def approve(self, draft_id: int, *, by: Actor, text: str | None = None) -> dict[str, Any]:
        """Approve the draft, or the lawyer's edit of it (`text`, which may keep the
        placeholders it was shown); its parts are queued for delivery at once."""
        by.require(Permission.APPROVE)
        if text is not None:
            text = _checked(text, what="text", limit=MAX_TEXT)
        draft = await self._pending(draft_id)
        final = text if text is not None else str(draft["draft"])
        change = change_of(str(draft["draft"]), final)
        restored = unmask(final, await self._vault(int(draft["conversation"])))
        framed = "\n\n".join(t for t in (to_whatsapp(restored), self.disclaimer) if t)
        messages = [
            OutboundDraft(
                idempotency_key=f"review:{draft_id}:reply:{index}",
                text=part,
                kind="reply",
                part_index=index,
            )
            for index, part in enumerate(split_message(framed))
        ]
        await self._decide(
            Decided(
                draft_id=draft_id,
                status=DraftStatus.APPROVED,
                by=by.audit_name,
                at=self.recorder.clock(),
                final_text=final,
                edited=change.edited,
                messages=messages,
                history_text=restored,
            )
        )
        await self.recorder.record(
            by,
            "review.approved",
            f"review:{draft_id}",
            conversation=draft["conversation"],
            parts=len(messages),
            waited_seconds=_waited(draft, self.recorder.clock()),
            **change.as_details(),
        )
        return await self.show(draft_id, by=by)

    async def reject(self, draft_id: int, *, by: Actor, reason: str) -> dict[str, Any]:
        """Reject with a reason (kept sealed); the person gets REVIEW_REJECT_TEXT."""
        by.require(Permission.APPROVE)
        reason = _checked(reason, what="reason", limit=MAX_REASON)
        draft = await self._pending(draft_id)
        await self._decide(
            Decided(
                draft_id=draft_id,
                status=DraftStatus.REJECTED,
                by=by.audit_name,
                at=self.recorder.clock(),
                reject_reason=reason,
                messages=[
                    OutboundDraft(
                        idempotency_key=f"review:{draft_id}:rejected",
                        text=self.reject_text,
                        kind="notice",
                    )
                ],
            )
        )
        await self.recorder.record(
            by,
            "review.rejected",
            f"review:{draft_id}",
            conversation=draft["conversation"],
            reason_length=len(reason),
        )
        return await self.show(draft_id, by=by)

    async def take(self, draft_id: int, *, by: Actor) -> dict[str, Any]:
        """A human answers instead: the draft is closed as taken over and the conversation
        is held by a human (the AI stays silent in it until released)."""
        by.require(Permission.TAKE_OVER)
        draft = await self._pending(draft_id)
        conversation = int(draft["conversation"])
        await self._decide(
            Decided(
                draft_id=draft_id,
                status=DraftStatus.TAKEN_OVER,
                by=by.audit_name,
                at=self.recorder.clock(),
            )
        )
        if self.take_conversation is not None:
            await self.take_conversation(conversation, by=by)
        elif self.handover is not None:
            await self.handover.hand_to_human(
                conversation, reason=f"review:{draft_id}", now=self.recorder.clock()
            )
        await self.recorder.record(
            by, "review.taken_over", f"review:{draft_id}", conversation=conversation
        )
        return await self.show(draft_id, by=by)

    async def _pending(self, draft_id: int) -> dict[str, Any]:
        found = await self.store.show(draft_id)
        if found is None:
            raise NotFound(f"no draft {draft_id}")
        if found["status"] != DraftStatus.PENDING.value:
            raise Conflict(f"draft {draft_id} is {found['status']}, not pending")
        return found

    async def _decide(self, decided: Decided) -> None:
        if not await self.store.decide(decided):
            raise Conflict(f"draft {decided.draft_id} was decided by someone else meanwhile")

    async def _vault(self, conversation_id: int) -> PlaceholderVault:
        stored = await self.vaults.load(conversation_id)
        return PlaceholderVault.from_dict(stored) if stored else PlaceholderVault()


def _checked(value: str, *, what: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise Rejected(f"the {what} must not be empty")
    if len(text) > limit:
        raise Rejected(f"the {what} is longer than {limit} characters")
    if not storable_text(text):
        raise Rejected(f"the {what} contains a character that cannot be stored")
    return text


def _waited(draft: dict[str, Any], now: datetime) -> float | None:
    created = draft.get("createdAt")
    return round((now - created).total_seconds(), 1) if isinstance(created, datetime) else None
