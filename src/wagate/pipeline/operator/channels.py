"""Provider channels (OU7): replace a token the provider refused. It is stored sealed, every
process picks it up from the database, and the channel leaves its degraded state."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from wagate.domain.messages import Provider
from wagate.domain.operators import Permission
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import Rejected
from wagate.pipeline.operator.ports import CredentialStore
from wagate.pipeline.operator.recorder import Recorder


@dataclass(frozen=True, slots=True, kw_only=True)
class Channels:
    credentials: CredentialStore
    configured: Collection[Provider]
    recorder: Recorder

    async def set_token(self, provider: Provider, token: str, *, by: Actor) -> int:
        """The new token's version. The token itself never reaches the audit trail."""
        by.require(Permission.ADMINISTER)
        value = token.strip()
        if not value:
            raise Rejected("empty token")
        if provider not in self.configured:
            raise Rejected(f"{provider.value} is not configured on this gateway")
        version = await self.credentials.set(provider, value, at=self.recorder.clock())
        await self.recorder.record(
            by, "credentials.replaced", f"channel:{provider.value}", version=version
        )
        return version
