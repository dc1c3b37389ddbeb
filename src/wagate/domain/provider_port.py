"""The provider port (IN1–IN3, OU1): what every WhatsApp provider adapter offers, both ways.

Inbound, an adapter turns one webhook request into a `Verdict` (a batch to store, a handshake
answer, or a refusal with its reason); outbound, it sends, marks read and probes its token.
The web edge maps refusals to status codes; the pipeline sees only the outbound half. Adapters
raise only `wagate.domain.errors` types: nothing past them sees HTTP or vendor JSON.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from wagate.domain.capabilities import Capabilities
from wagate.domain.flows import FlowMessage
from wagate.domain.messages import Provider, WebhookBatch
from wagate.domain.rich_messages import (
    FileMessage,
    InteractiveMessage,
    MediaMessage,
    ReactionMessage,
)

# ---------------------------------------------------------------- inbound


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundRequest:
    """One webhook request as received, before anything trusts it.

    `body` is the exact bytes (signatures are over them). `headers` has lower-case names, first
    value kept; `query` keeps the last value of a repeated name. `form` holds the decoded
    fields when the body was sent as a form, else None: form decoding is HTTP's, not a
    provider's. `client` is the peer address the server saw (None when unknown).
    """

    method: str
    path_params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    form: Mapping[str, str] | None = None
    client: str | None = None

    @property
    def content_type(self) -> str:
        """The media type alone, lower-case ("" when absent)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class Refusal(StrEnum):
    """Why a webhook request is refused. The web edge owns the status code of each."""

    NOT_FOUND = "not_found"  # wrong path secret, or the provider is not configured: reveal nothing
    UNSIGNED = "unsigned"  # the signature the provider always sends is absent
    FORGED = "forged"  # a signature or handshake token that does not match ours
    SOURCE_NOT_ALLOWED = "source_not_allowed"  # the peer address is outside the allow-list
    MALFORMED = "malformed"  # authentic, but the body cannot be read


@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted:
    """Authentic and parsed: store the batch, then acknowledge."""

    batch: WebhookBatch


@dataclass(frozen=True, slots=True, kw_only=True)
class Challenge:
    """A subscription handshake that is ours: answer with this text, store nothing."""

    answer: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected:
    """Refused. `detail` is what the caller is told; `cause` is the finer reason for the log
    (e.g. "signature_mismatch"), never a secret or a message content."""

    reason: Refusal
    detail: str
    cause: str


Verdict = Accepted | Challenge | Rejected


class WebhookReceiver(Protocol):
    """The inbound half: verify, then parse. Pure (time passed in); never raises."""

    def receive(self, request: InboundRequest, *, now: datetime) -> Verdict: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookRoute:
    """A URL an adapter answers. `path` is a route template: `{name}` segments reach the
    adapter as `InboundRequest.path_params`."""

    path: str
    methods: tuple[str, ...] = ("POST",)


# ---------------------------------------------------------------- outbound


@dataclass(frozen=True, slots=True, kw_only=True)
class SentMessage:
    provider_message_id: str
    recipient: str | None = None


class CredentialCheck(StrEnum):
    """What a credential probe learnt (OU7)."""

    VALID = "valid"  # the provider accepted our token
    REJECTED = "rejected"  # the provider refused the token: expired or revoked
    UNKNOWN = "unknown"  # the probe could not tell (unreachable, unexpected answer)


class MessagingProvider(Protocol):
    """The outbound half, all the pipeline needs."""

    name: Provider
    capabilities: Capabilities

    async def send_text(
        self,
        *,
        to: str,
        body: str,
        reply_to: str | None = None,
        tracker: str | None = None,
        link_preview: bool = False,
    ) -> SentMessage:
        """Send a text; returns the provider's id. Raises Transient/PermanentSendError.

        `reply_to` (an inbound message's provider id) makes the text quote that message.
        `tracker` (our idempotency key) is echoed by providers that support it in their status
        webhooks, which lets a send whose answer was lost be recognised later. `link_preview`
        asks for a preview of the first link in `body`; the pipeline passes it only when true,
        so an adapter written before it (a plugin) keeps working."""

    async def send_template(
        self,
        *,
        to: str,
        name: str,
        language: str,
        parameters: list[str],
        tracker: str | None = None,
        parameter_names: Sequence[str] | None = None,
        code_button: str | None = None,
    ) -> SentMessage:
        """Send an approved template (the only thing allowed outside the 24-hour window).

        `parameters` are the body's values in order; `parameter_names` their names, given for a
        template declared with named parameters only (so an adapter written before them keeps
        sending positional templates). `code_button`, given only for an AUTHENTICATION template
        (a link code), is the one-time code its copy-code button carries."""

    async def mark_read(self, *, message_id: str, typing: bool = False) -> bool:
        """Mark an inbound message read (and show typing). False when the provider can't."""

    async def check_credentials(self) -> CredentialCheck:
        """Ask the provider, without sending anything, whether our token still works."""

    async def aclose(self) -> None: ...


@runtime_checkable
class FlowSender(Protocol):
    """A provider that sends WhatsApp Flow messages (it declares `capabilities.flows`). Apart
    from `MessagingProvider`, so adapters without Flows (Fonnte, plugins) need nothing new;
    delivery asks `isinstance(provider, FlowSender)` before using it."""

    async def send_flow(
        self, *, to: str, flow: FlowMessage, tracker: str | None = None
    ) -> SentMessage:
        """Send the interactive message whose button opens the Flow."""


@runtime_checkable
class MediaSender(Protocol):
    """A provider that sends documents and images by link (it declares `capabilities.media`);
    apart from `MessagingProvider` for the same reason as `FlowSender`."""

    async def send_media(
        self, *, to: str, media: MediaMessage, tracker: str | None = None
    ) -> SentMessage:
        """Send the file the provider fetches from `media.link`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FileContent:
    """An uploaded file's bytes as a provider receives them: `chunks()` opens a fresh stream
    each time it is called (a retried upload reads the file again), never the whole file in
    memory. `mime_type` is what the bytes are (sniffed), `size` their exact length."""

    filename: str
    mime_type: str
    size: int
    chunks: Callable[[], AsyncIterator[bytes]]


@runtime_checkable
class MediaUploader(Protocol):
    """A provider that takes a file first and a message naming it after (Meta's
    `POST /{phone-number-id}/media`, then the message with `{"id": …}`); it declares
    `capabilities.media_uploads`. Two calls, so delivery keeps the provider's id between them
    and a retry after a crash does not upload again."""

    async def upload_media(self, *, content: FileContent) -> str:
        """Upload the file; the provider's id for it."""

    async def send_uploaded(
        self, *, to: str, message: FileMessage, media_id: str, tracker: str | None = None
    ) -> SentMessage:
        """Send the document or image uploaded as `media_id`."""


@runtime_checkable
class FileSender(Protocol):
    """A provider that takes the file with the message, in one request (Fonnte's `file`
    field); it declares `capabilities.media_uploads`."""

    async def send_file(
        self,
        *,
        to: str,
        message: FileMessage,
        content: FileContent,
        tracker: str | None = None,
    ) -> SentMessage:
        """Send the document or image with its bytes."""


@runtime_checkable
class InteractiveSender(Protocol):
    """A provider that sends reply buttons and lists (it declares `capabilities.interactive`)."""

    async def send_interactive(
        self, *, to: str, message: InteractiveMessage, tracker: str | None = None
    ) -> SentMessage:
        """Send the buttons or the list."""


@runtime_checkable
class ReactionSender(Protocol):
    """A provider that puts an emoji on a message the person sent (`capabilities.reactions`)."""

    async def send_reaction(
        self, *, to: str, reaction: ReactionMessage, tracker: str | None = None
    ) -> SentMessage:
        """React to `reaction.message_id` with `reaction.emoji`."""


class ProviderAdapter(MessagingProvider, WebhookReceiver, Protocol):
    """One provider, both directions. An adapter is built per channel with the token in force;
    `receive` does not depend on either (the payload names the channel)."""


# ---------------------------------------------------------------- a configured provider

# (channel id, token) → adapter; called again when the token is replaced at run time.
Connect = Callable[[str, str], ProviderAdapter]


# A tenant channel's webhook secret → the receiver that verifies webhooks sent with it.
Listen = Callable[[str], WebhookReceiver]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderSetup:
    """A configured provider: what wiring needs to route its webhooks and build its adapters.

    How a webhook finds its tenant (IN8) is the provider's to say:
    * `shared_webhook`: one webhook (one app secret) for every channel; each part names its
      channel, and the part goes to the tenant owning that channel (Meta's phone number id).
    * `secret_param` + `listen`: each channel has its own secret in the webhook URL (Fonnte);
      the secret picks the channel, and so the tenant, before anything is parsed.
    * neither: every webhook belongs to the default tenant's channel (plugins, by default).
    """

    name: Provider
    capabilities: Capabilities
    routes: tuple[WebhookRoute, ...]
    # The default tenant's channel from the environment (operator sends go there), or None
    # when only the platform part is configured (Meta's app: tenants bring their numbers).
    channel_id: str | None
    token: str  # the configured token (`wagate tenants set-token` may replace it)
    connect: Connect
    # The platform's receiver (its app secret); None: the default channel's adapter receives.
    receiver: WebhookReceiver | None = None
    shared_webhook: bool = False
    secret_param: str | None = None
    listen: Listen | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PluginContext:
    """What a provider plugin is given to configure itself: the process environment (its own
    variables are its business) and the gateway's provider call timeout."""

    environ: Mapping[str, str]
    timeout_seconds: float


# A plugin (`WAGATE_PROVIDER_PLUGINS=package.module:callable`): its setup, or None when the
# environment does not configure it.
ProviderPlugin = Callable[[PluginContext], ProviderSetup | None]
