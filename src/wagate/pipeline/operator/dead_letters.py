"""Dead letters (OU3): list, show, replay one or all. Only a failed message or a dead-lettered
burst can be replayed, so a replay never duplicates something delivered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wagate.domain.operators import Permission
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import Conflict, InvalidReference, NotFound
from wagate.pipeline.operator.ports import DeadLetterStore
from wagate.pipeline.operator.recipients import Recipients
from wagate.pipeline.operator.recorder import Recorder


def _subject(ref: str) -> str:
    text = ref.strip().lower()
    return text if text.startswith("in-") else f"outbound:{text}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadLetters:
    store: DeadLetterStore
    recorder: Recorder
    recipients: Recipients | None = field(default=None)

    async def _may_replay(self, ref: str, by: Actor) -> None:
        """A failed message to a number that opted out since stays failed (Conflict, audited);
        delivery would refuse it anyway, this says so to the operator at once."""
        if self.recipients is None or ref.strip().lower().startswith("in-"):
            return
        try:
            found = await self.store.show(ref)
        except ValueError as exc:
            raise InvalidReference(str(exc)) from exc
        if found is None or not found.get("to") or found.get("status") != "failed":
            return
        await self.recipients.ensure(
            str(found["to"]),
            by=by,
            path="replay",
            provider=found.get("provider"),
            channel=found.get("channelId"),
            subject=_subject(ref),
        )

    async def listing(
        self, *, by: Actor, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        by.require(Permission.READ)
        return await self.store.listing(limit=limit, offset=offset)

    async def show(self, ref: str, *, by: Actor) -> dict[str, Any]:
        by.require(Permission.READ)
        try:
            found = await self.store.show(ref)
        except ValueError as exc:
            raise InvalidReference(str(exc)) from exc
        if found is None:
            raise NotFound(f"no dead letter {ref}")
        return found

    async def replay(self, ref: str, *, by: Actor) -> list[int | str]:
        """One dead letter back on the queue; Conflict when it is not (or no longer) one, or
        when its number may no longer be written to; NotFound when there is no such message
        (for this tenant)."""
        by.require(Permission.OPERATE)
        await self.show(ref, by=by)
        await self._may_replay(ref, by)
        try:
            replayed = await self.store.replay(ref, at=self.recorder.clock())
        except ValueError as exc:
            raise InvalidReference(str(exc)) from exc
        if not replayed:
            raise Conflict(
                f"message {ref} is not a dead letter "
                "(only failed messages and bursts can be replayed)"
            )
        await self.recorder.record(
            by, "dead_letter.replayed", _subject(ref), messages=len(replayed)
        )
        return replayed

    async def replay_all(self, *, by: Actor) -> list[int | str]:
        by.require(Permission.OPERATE)
        replayed = await self.store.replay(None, at=self.recorder.clock())
        await self.recorder.record(by, "dead_letter.replayed", None, messages=len(replayed))
        return replayed
