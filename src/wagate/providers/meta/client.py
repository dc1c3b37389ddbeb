"""Graph API client: send text, templates and Flow messages, mark read with typing indicator
(OU1, AI5, FL1).

Every request it makes is checked against Meta's OpenAPI description of the Cloud API in
tests/contract/test_meta_openapi.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import orjson

from wagate.domain import errors as e
from wagate.domain.capabilities import Capabilities
from wagate.domain.flows import FLOW_MESSAGE_VERSION, FlowMessage
from wagate.domain.messages import Provider
from wagate.domain.provider_port import (
    CredentialCheck,
    InboundRequest,
    Refusal,
    Rejected,
    SentMessage,
    Verdict,
)
from wagate.domain.rich_messages import InteractiveMessage, MediaMessage, ReactionMessage
from wagate.http_client import http_client
from wagate.providers.meta.errors import retry_after_seconds, translate
from wagate.providers.meta.inbound import MetaWebhook
from wagate.providers.meta.media import MetaMediaDownloads
from wagate.providers.payload import items, mapping, text
from wagate.providers.transport import transport_error

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v22.0"


class MetaClient(MetaMediaDownloads):  # inbound files: providers/meta/media.py
    name = Provider.META
    capabilities = Capabilities(
        window_24h=True,
        status_webhooks=True,
        templates=True,
        media=True,
        interactive=True,
        flows=True,
        link_previews=True,
        reactions=True,
    )

    def __init__(
        self,
        *,
        graph_url: str,
        access_token: str,
        phone_number_id: str,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        webhook: MetaWebhook | None = None,
    ) -> None:
        self._webhook = webhook
        self._phone_number_id = phone_number_id
        self._messages_path = f"{phone_number_id}/messages"
        base_url = graph_url.rstrip("/") + "/"
        authorization = {"Authorization": f"Bearer {access_token}"}
        # Sends and read receipts (several per answered message) go through the lean client;
        # the rare rest (credential checks, media downloads) through httpx.
        self._api = http_client(
            base_url, headers=authorization, timeout=timeout, transport=transport
        )
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=authorization, timeout=timeout, transport=transport
        )

    async def send_text(
        self,
        *,
        to: str,
        body: str,
        reply_to: str | None = None,
        tracker: str | None = None,
        link_preview: bool = False,
    ) -> SentMessage:
        return await self._send(
            to,
            "text",
            {"body": body, "preview_url": link_preview},
            tracker=tracker,
            reply_to=reply_to,
        )

    async def _send(
        self,
        to: str,
        kind: str,
        part: dict[str, Any],
        *,
        tracker: str | None,
        reply_to: str | None = None,
    ) -> SentMessage:
        """One message to one person: the envelope every kind shares, then `part` under its
        kind; the tracker comes back in status webhooks (Meta keeps at most 512 characters)."""
        request: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": kind,
            kind: part,
        }
        if reply_to:
            request["context"] = {"message_id": reply_to}
        if tracker:
            request["biz_opaque_callback_data"] = tracker[:512]
        return self._sent(await self._post_message(request))

    @staticmethod
    def _sent(answer: dict[str, Any]) -> SentMessage:
        sent = items(answer.get("messages"))
        message_id = text(sent[0].get("id")) if sent else None
        if message_id is None:
            # 200 without an id: Meta accepted nothing we can track. Safer to retry than to
            # believe it was sent; the idempotency record prevents a visible duplicate.
            raise e.ProviderUnavailable("Graph API answered 200 without a message id")
        recipients = items(answer.get("contacts"))
        recipient = text(recipients[0].get("wa_id")) if recipients else None
        return SentMessage(provider_message_id=message_id, recipient=recipient)

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
        # `policy` is required by the Cloud API's description (v23.0): "deterministic" is the
        # only value, the template in exactly the language asked for.
        template: dict[str, Any] = {
            "name": name,
            "language": {"policy": "deterministic", "code": language},
        }
        components: list[dict[str, Any]] = []
        if parameters:
            components.append(
                {"type": "body", "parameters": _body_parameters(parameters, parameter_names)}
            )
        if code_button is not None:
            # An AUTHENTICATION template's copy-code (or one-tap) button: Meta wants the code
            # again as the parameter of its first button, a `url` button by its API's shape.
            components.append(
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "0",
                    "parameters": [{"type": "text", "text": code_button}],
                }
            )
        if components:
            template["components"] = components
        return await self._send(to, "template", template, tracker=tracker)

    async def send_flow(
        self, *, to: str, flow: FlowMessage, tracker: str | None = None
    ) -> SentMessage:
        """An interactive `flow` message: its button opens the published Flow on `flow.screen`
        (`navigate`); `flow_token` comes back in the completion (FL1)."""
        interactive: dict[str, Any] = {
            "type": "flow",
            "body": {"text": flow.body},
            "action": {
                "name": "flow",
                "parameters": {
                    "flow_message_version": FLOW_MESSAGE_VERSION,
                    "flow_id": flow.flow_id,
                    "flow_token": flow.flow_token,
                    "flow_cta": flow.cta,
                    "flow_action": "navigate",
                    "flow_action_payload": {"screen": flow.screen},
                    "mode": flow.mode,
                },
            },
        }
        if flow.header:
            interactive["header"] = {"type": "text", "text": flow.header}
        if flow.footer:
            interactive["footer"] = {"text": flow.footer}
        return await self._send(to, "interactive", interactive, tracker=tracker)

    async def send_media(
        self, *, to: str, media: MediaMessage, tracker: str | None = None
    ) -> SentMessage:
        """A document or image Meta fetches from its https link (no upload: the link is ours)."""
        part: dict[str, Any] = {"link": media.link}
        if media.caption:
            part["caption"] = media.caption
        if media.filename and media.type == "document":
            part["filename"] = media.filename
        return await self._send(to, media.type, part, tracker=tracker)

    async def send_interactive(
        self, *, to: str, message: InteractiveMessage, tracker: str | None = None
    ) -> SentMessage:
        """Reply buttons or a one-section list; the chosen id comes back in the reply."""
        action: dict[str, Any]
        if message.type == "button":
            action = {
                "buttons": [
                    {"type": "reply", "reply": {"id": c.id, "title": c.title}}
                    for c in message.choices
                ]
            }
        else:
            rows = [
                {"id": c.id, "title": c.title}
                | ({"description": c.description} if c.description else {})
                for c in message.choices
            ]
            section: dict[str, Any] = {"rows": rows}
            if message.section:
                section["title"] = message.section
            action = {"button": message.label, "sections": [section]}
        interactive: dict[str, Any] = {
            "type": message.type,
            "body": {"text": message.body},
            "action": action,
        }
        if message.footer:
            interactive["footer"] = {"text": message.footer}
        return await self._send(to, "interactive", interactive, tracker=tracker)

    async def send_reaction(
        self, *, to: str, reaction: ReactionMessage, tracker: str | None = None
    ) -> SentMessage:
        """An emoji on a message the person sent (Meta's `reaction` message)."""
        part = {"message_id": reaction.message_id, "emoji": reaction.emoji}
        return await self._send(to, "reaction", part, tracker=tracker)

    async def mark_read(self, *, message_id: str, typing: bool = False) -> bool:
        request: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message_id,
        }
        if typing:
            request["typing_indicator"] = {"type": "text"}
        answer = await self._post_message(request)
        return answer.get("success") is True

    async def check_credentials(self) -> CredentialCheck:
        # Reading our own phone number needs the same token as sending and sends nothing.
        try:
            response = await self._http.get(self._phone_number_id, params={"fields": "id"})
        except httpx.HTTPError:
            return CredentialCheck.UNKNOWN
        if response.is_success:
            return CredentialCheck.VALID
        try:
            body: Any = orjson.loads(response.content) if response.content else {}
        except orjson.JSONDecodeError:
            body = {}
        error = translate(response.status_code, body)
        if isinstance(error, e.AuthenticationFailed):
            return CredentialCheck.REJECTED
        return CredentialCheck.UNKNOWN

    def receive(self, request: InboundRequest, *, now: datetime) -> Verdict:
        """The inbound half: this provider's webhook, verified and parsed."""
        if self._webhook is None:  # a client built only to send (no webhook secrets given)
            return Rejected(reason=Refusal.NOT_FOUND, detail="not found", cause="not_configured")
        return self._webhook.receive(request, now=now)

    async def aclose(self) -> None:
        await self._api.aclose()
        await self._http.aclose()

    async def _post_message(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._api.request(
                "POST",
                self._messages_path,
                content=orjson.dumps(request),
                content_type="application/json",
            )
        except httpx.HTTPError as exc:
            raise transport_error("Graph API", exc) from exc
        try:
            body: Any = orjson.loads(response.content) if response.content else {}
        except orjson.JSONDecodeError:
            body = {}
        if response.is_success and "error" not in mapping(body):
            return dict(mapping(body))
        raise translate(response.status_code, body, retry_after_seconds(response.headers))


def _body_parameters(values: list[str], names: Sequence[str] | None) -> list[dict[str, str]]:
    """A template body's text parameters: in order for a positional template ({{1}}), each with
    its `parameter_name` for one declared with named parameters ({{nama}}) — Meta refuses a
    named template's values without their names."""
    if names is None:
        return [{"type": "text", "text": value} for value in values]
    if len(names) != len(values):
        raise e.InvalidRequest(
            f"{len(values)} template values for {len(names)} parameter names", code="parameters"
        )
    return [
        {"type": "text", "parameter_name": name, "text": value}
        for name, value in zip(names, values, strict=True)
    ]
