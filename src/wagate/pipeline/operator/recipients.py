"""The recipient check of every operator path that writes to a number (sends, templates, link
codes, dead-letter replays): a refused number is a Conflict (409 / exit 1), and the refusal is
audited — which path, which provider and channel, never the number."""

from __future__ import annotations

from dataclasses import dataclass, field

from wagate.domain.consent import OPTED_OUT
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import Conflict
from wagate.pipeline.operator.ports import RecipientCheck
from wagate.pipeline.operator.recorder import Recorder

_MESSAGES = {
    OPTED_OUT: (
        "the contact opted out: nothing may be sent to this number "
        "until they write the consent keyword again"
    ),
}


class AnyoneMayBeWritten:
    """The recipient check while no rule refuses anyone."""

    async def refusal(self, number: str) -> str | None:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipients:
    recorder: Recorder
    check: RecipientCheck = field(default_factory=AnyoneMayBeWritten)

    async def ensure(
        self,
        number: str,
        *,
        by: Actor,
        path: str,
        provider: str | None = None,
        channel: str | None = None,
        subject: str | None = None,
    ) -> None:
        """Return when `number` may be written to; else record `operator.refused_<reason>` and
        raise Conflict with a message the operator can act on."""
        reason = await self.check.refusal(number)
        if reason is None:
            return
        await self.recorder.record(
            by,
            f"operator.refused_{reason}",
            subject,
            path=path,
            provider=provider,
            channel=channel,
        )
        raise Conflict(_MESSAGES.get(reason, f"this number may not be written to ({reason})"))
