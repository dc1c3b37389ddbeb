"""A scripted MessagingProvider and a ProviderDirectory holding it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wagate.domain.capabilities import Capabilities
from wagate.domain.flows import FlowMessage
from wagate.domain.messages import Provider
from wagate.domain.provider_port import CredentialCheck, SentMessage
from wagate.domain.rich_messages import InteractiveMessage


def _meta_like() -> Capabilities:
    # Meta's: a 24-hour window, statuses that settle a lost send answer, link previews, Flows.
    return Capabilities(
        window_24h=True, status_webhooks=True, templates=True, link_previews=True, flows=True
    )


@dataclass
class ScriptedProvider:
    """Answers each send with the next scripted outcome (an exception, or None = accepted)."""

    script: list[Exception | None] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    flows: list[FlowMessage] = field(default_factory=list)  # Flow messages sent (FL1)
    interactive: list[InteractiveMessage] = field(default_factory=list)  # buttons and lists sent
    read: list[str] = field(default_factory=list)  # messages marked read
    typing: list[bool] = field(default_factory=list)  # whether each read showed typing
    replies_to: list[str | None] = field(default_factory=list)  # each text's quoted message
    previewed: list[str] = field(default_factory=list)  # texts sent asking for a link preview
    credentials: CredentialCheck = CredentialCheck.UNKNOWN
    name: Provider = Provider.META
    capabilities: Capabilities = field(default_factory=_meta_like)
    allow_templates: bool = False  # a template send is a test's mistake unless it allows them

    async def send_text(
        self,
        *,
        to: str,
        body: str,
        reply_to: str | None = None,
        tracker: str | None = None,
        link_preview: bool = False,
    ) -> SentMessage:
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.sent.append(body)
        self.replies_to.append(reply_to)
        if link_preview:
            self.previewed.append(body)
        return SentMessage(provider_message_id=f"wamid.{len(self.sent)}")

    async def send_template(self, **fields: Any) -> SentMessage:
        if not self.allow_templates:
            raise AssertionError("no templates here")
        self.templates.append(fields)
        return SentMessage(provider_message_id=f"wamid.t{len(self.templates)}")

    async def send_flow(
        self, *, to: str, flow: FlowMessage, tracker: str | None = None
    ) -> SentMessage:
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.flows.append(flow)
        return SentMessage(provider_message_id=f"wamid.f{len(self.flows)}")

    async def send_interactive(
        self, *, to: str, message: InteractiveMessage, tracker: str | None = None
    ) -> SentMessage:
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.interactive.append(message)
        return SentMessage(provider_message_id=f"wamid.i{len(self.interactive)}")

    async def mark_read(self, *, message_id: str, typing: bool = False) -> bool:
        self.read.append(message_id)
        self.typing.append(typing)
        return True

    async def check_credentials(self) -> CredentialCheck:
        return self.credentials

    async def aclose(self) -> None:
        return None


@dataclass
class Directory:
    """Every (provider, channel) resolves to the one scripted provider (or to none)."""

    provider: ScriptedProvider | None
    refreshed: int = 0

    def get(self, provider: Provider, channel_id: str) -> ScriptedProvider | None:
        return self.provider

    async def refresh(self, *, force: bool = False) -> bool:
        self.refreshed += 1
        return False
