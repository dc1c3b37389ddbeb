"""Step 1, who is writing (ID2): the contact, its account if any, and whether the identity
policy lets it converse. A contact that may not hears "link your number first", at most daily."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from wagate.domain.conversation import Notices
from wagate.domain.identity import IdentityPolicy, link_notice_due, may_converse
from wagate.pipeline.conversation.record import notice
from wagate.pipeline.ports import Burst, Identity, IdentityStore, OutboundDraft


@dataclass(frozen=True, slots=True, kw_only=True)
class Writer:
    identity: Identity
    may_converse: bool
    notices: list[OutboundDraft] = field(default_factory=list)  # the link notice, when due


@dataclass(kw_only=True)
class WhoIsWriting:
    identities: IdentityStore
    policy: IdentityPolicy
    notices: Notices

    async def __call__(self, burst: Burst, now: datetime) -> Writer:
        """Resolves (in `open` policy: creating) the contact's account; records a link notice
        it drafts, so the next one waits a day."""
        identity = await self.identities.resolve(
            burst, create_account=self.policy is IdentityPolicy.OPEN
        )
        if may_converse(self.policy, identity.account):
            return Writer(identity=identity, may_converse=True)
        drafts = []
        if link_notice_due(identity.link_notice_at, now):
            drafts.append(notice(burst, "link_first", self.notices.link_first))
            await self.identities.mark_notice(identity.contact_id, kind="link", at=now)
        return Writer(identity=identity, may_converse=False, notices=drafts)
