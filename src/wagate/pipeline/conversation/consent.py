"""Step 2, consent (CP4): keywords change the state, with their evidence; before
consent nothing goes further, after an opt-out nothing is said but the confirmation.

The step always runs: with CONSENT_REQUIRED off (`required` False) it only honours the opt-out
keyword (and the consent keyword as the way back), because opting out is a right, not a
setting. The confirmation is the one outbound kind delivery lets through to an opted-out number
(`OPTOUT_CONFIRMATION_KIND`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import structlog

from wagate.domain.audit import AuditEvent, AuditTrail
from wagate.domain.consent import OPTOUT_CONFIRMATION_KIND, Keywords, Notice, evaluate
from wagate.domain.conversation import Notices
from wagate.pipeline.ports import Burst, Identity, IdentityStore, OutboundDraft, PendingMessage

log = structlog.get_logger(__name__)

NoticeDraft = Callable[[Burst, str, str], OutboundDraft]


@dataclass(kw_only=True)
class ConsentGate:
    identities: IdentityStore
    notices: Notices
    keywords: Keywords
    audit: AuditTrail | None = None
    required: bool = True  # CONSENT_REQUIRED; off: opt-out only

    async def apply(
        self, burst: Burst, identity: Identity, now: datetime, draft: NoticeDraft
    ) -> tuple[list[PendingMessage], list[OutboundDraft]]:
        """The messages that may go on to the AI, and the notices this burst calls for."""
        result = evaluate(
            [m.text for m in burst.messages],
            replies=[m.reply_id for m in burst.messages],
            current=identity.consent_state,
            prompted_at=identity.consent_prompted_at,
            now=now,
            keywords=self.keywords,
            required=self.required,
        )
        for state, index in result.changes:
            message = burst.messages[index]
            await self.identities.record_consent(
                identity.contact_id,
                state=state,
                provider_message_id=message.provider_message_id,
                text=message.text or "",
                at=message.sent_at,
            )
            log.info("consent.changed", conversation_id=burst.conversation_id, state=state.value)
            if self.audit is not None:
                await self.audit.record(
                    AuditEvent(
                        action=f"consent.{state.value}",
                        actor=f"contact:{identity.contact_id}",
                        subject=f"conversation:{burst.conversation_id}",
                        details={"message": message.id},
                    ),
                    at=now,
                )
        if Notice.REQUEST in result.notices:
            await self.identities.mark_notice(identity.contact_id, kind="consent_prompt", at=now)
        drafts = [self._draft(burst, notice, draft) for notice in result.notices]
        return [burst.messages[i] for i in result.answerable], drafts

    def _draft(self, burst: Burst, notice: Notice, draft: NoticeDraft) -> OutboundDraft:
        made = draft(burst, notice.value, self._text(notice))
        if notice is Notice.OPTED_OUT:
            return replace(made, kind=OPTOUT_CONFIRMATION_KIND)
        if notice is Notice.REQUEST:
            # Two taps instead of typing a word, where the channel has buttons (delivery
            # sends the text alone where it has not).
            return replace(made, interactive=self.keywords.buttons(made.text))
        return made

    def _text(self, notice: Notice) -> str:
        consent, optout = self.keywords.consent, self.keywords.optout
        if notice is Notice.REQUEST:
            request = self.notices.consent_request.format(consent=consent, optout=optout)
            return "\n\n".join(filter(None, [self.notices.disclosure, request]))
        if notice is Notice.RECORDED:
            return self.notices.consent_recorded
        return self.notices.optout_confirmed.format(consent=consent)
