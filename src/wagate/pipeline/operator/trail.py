"""The audit trail itself (CP3): pages, verification, and export — taking data out is an
operator action like any other, so an export is recorded too."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from wagate.domain.audit import AuditEntry, VerifyReport
from wagate.domain.operators import Permission
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.ports import AuditLog
from wagate.pipeline.operator.recorder import Recorder


@dataclass(frozen=True, slots=True, kw_only=True)
class Trail:
    log: AuditLog
    recorder: Recorder

    async def page(
        self,
        *,
        by: Actor,
        after_seq: int = 0,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        by.require(Permission.READ)
        return await self.log.page(after_seq=after_seq, since=since, until=until, limit=limit)

    async def browse(
        self,
        *,
        by: Actor,
        before_seq: int | None = None,
        action_prefix: str | None = None,
        actor: str | None = None,
        limit: int = 50,
    ) -> list[AuditEntry]:
        """For reading the trail (the console): newest first, filtered by the action's
        beginning (`review.`) and the actor's name; older entries come `before_seq`."""
        by.require(Permission.READ)
        return await self.log.recent(
            before_seq=before_seq,
            action_prefix=(action_prefix or "").strip() or None,
            actor=(actor or "").strip() or None,
            limit=limit,
        )

    async def verify(self, anchors: Mapping[int, str] | None = None, *, by: Actor) -> VerifyReport:
        by.require(Permission.READ)
        return await self.log.verify(anchors=anchors)

    async def export(
        self,
        write: Callable[[AuditEntry], None],
        *,
        by: Actor,
        fmt: str,
        since: datetime | None = None,
        until: datetime | None = None,
        to_file: bool = False,
    ) -> int:
        """Hand every entry (seq order, `since` ≤ at < `until`) to `write`; the count."""
        by.require(Permission.READ)
        count = 0
        async for entry in self.log.iterate(since, until):
            write(entry)
            count += 1
        await self.recorder.record(
            by,
            "audit.exported",
            None,
            format=fmt,
            entries=count,
            since=since,
            until=until,
            file=to_file,
        )
        return count
