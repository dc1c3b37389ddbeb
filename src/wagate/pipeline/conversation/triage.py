"""Step 3, triage and policy (SE3, SE4): which messages go to the AI, and the notices the rest
call for — rate limited (at most once a minute), over-long, non-text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from wagate.domain.conversation import Notices
from wagate.domain.media import MB, MediaLimits
from wagate.domain.policy import RATE_WINDOW, BurstMessage, Triage, triage
from wagate.pipeline.conversation.record import notice
from wagate.pipeline.ports import (
    Burst,
    ConversationStore,
    Identity,
    IdentityStore,
    OutboundDraft,
    PendingMessage,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Triaged:
    sorted: Triage
    notices: list[OutboundDraft]

    @property
    def question(self) -> str | None:
        """What the AI is asked (the burst's answerable texts, joined), or None."""
        return self.sorted.user_turn if self.sorted.answerable else None

    @property
    def own_words(self) -> str | None:
        """What the person wrote or said themselves (a voice note's transcript), without the
        files' texts (what the knowledge base is searched with: a whole document is no search
        query)."""
        return "\n".join((*self.sorted.for_ai, *self.sorted.spoken)) or None


@dataclass(kw_only=True)
class TriageStep:
    store: ConversationStore
    identities: IdentityStore
    notices: Notices
    max_chars: int
    rate_limit: int
    media_limits: MediaLimits = field(default_factory=MediaLimits)
    vision: bool = False  # a vision model sees the photos (AI_VISION_MODEL)

    async def __call__(
        self, burst: Burst, identity: Identity, messages: Sequence[PendingMessage], now: datetime
    ) -> Triaged:
        """The rate limit counts this sender's arrivals of the minute before the burst too, so
        it holds across bursts and restarts; a rate notice sent is recorded."""
        first = burst.messages[0].received_at
        earlier = burst.arrivals_before(first)
        if earlier is None:
            earlier = await self.store.earlier_arrivals(burst.conversation_id, before=first)
        sorted_burst = triage(
            [
                BurstMessage(
                    id=m.id,
                    kind=m.kind,
                    text=m.text,
                    received_at=m.received_at,
                    media_type=m.media_type,
                    media=m.media,
                    attachment=m.attachment,
                )
                for m in messages
            ],
            max_chars=self.max_chars,
            rate_limit=self.rate_limit,
            earlier_arrivals=earlier,
            vision=self.vision,
        )
        drafts = []
        if sorted_burst.rate_limited and (
            identity.rate_notice_at is None or now - identity.rate_notice_at >= RATE_WINDOW
        ):
            drafts.append(notice(burst, "rate_limited", self.notices.rate_limited))
            await self.identities.mark_notice(identity.contact_id, kind="rate", at=now)
        if "too_long" in sorted_burst.notices:
            text = self.notices.too_long.format(max_chars=self.max_chars)
            drafts.append(notice(burst, "too_long", text))
        for name in sorted_burst.notices:
            if name == "non_text":
                drafts.append(notice(burst, "non_text", self.notices.non_text))
            elif name.startswith(("media_", "audio_")):
                drafts.append(notice(burst, name, self._file_notice(name, messages)))
        return Triaged(sorted=sorted_burst, notices=drafts)

    def _file_notice(self, name: str, messages: Sequence[PendingMessage]) -> str:
        text: str = getattr(self.notices, name)
        if name == "media_too_large":
            kinds = [m.media_type for m in messages if m.media == "too_large" and m.media_type]
            limit = max((self.media_limits.for_kind(k) for k in kinds), default=0)
            text = text.replace("{limit_mb}", f"{limit / MB:g}")
        return text
