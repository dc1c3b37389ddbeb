"""A provider that exists only in the tests ("echo"), plugged in through
`WAGATE_PROVIDER_PLUGINS=tests.plugins.echo_provider:echo` to prove the port: one module, no
change to the pipeline, the web edge or storage.

Its wire format is deliberately not Meta's nor Fonnte's:
  inbound   POST /webhook/echo, header `X-Echo-Secret`, JSON {"id", "from", "text", "at", "channel"}
  outbound  POST {ECHO_API_URL}/messages {"to", "text", "reply_to", "tracker"} → {"id"}
            POST {ECHO_API_URL}/read {"message_id", "typing"};  GET {ECHO_API_URL}/me
            (all with `Authorization: Bearer <token>`)
Like every adapter it imports only the domain (and its own HTTP client).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from wagate.domain import errors as e
from wagate.domain.capabilities import Capabilities
from wagate.domain.messages import InboundMessage, Provider, Sender, Text, WebhookBatch
from wagate.domain.phone import InvalidPhoneNumber, normalise_international
from wagate.domain.provider_port import (
    Accepted,
    CredentialCheck,
    InboundRequest,
    PluginContext,
    ProviderAdapter,
    ProviderSetup,
    Refusal,
    Rejected,
    SentMessage,
    Verdict,
    WebhookRoute,
)

ECHO = Provider("echo")
SECRET_HEADER = "x-echo-secret"
ROUTE = WebhookRoute(path="/webhook/echo")


def parse(payload: Any, *, now: datetime) -> WebhookBatch | None:
    """One message per webhook; None when the body is not an echo message."""
    if not isinstance(payload, Mapping):
        return None
    message_id, sender, text = payload.get("id"), payload.get("from"), payload.get("text")
    if not all(isinstance(v, str) and v for v in (message_id, sender, text)):
        return None
    try:
        phone = normalise_international(str(sender))
    except InvalidPhoneNumber:
        return None
    at = payload.get("at")
    sent_at = datetime.fromtimestamp(at, tz=UTC) if isinstance(at, int | float) else now
    message = InboundMessage(
        provider=ECHO,
        channel_id=str(payload.get("channel") or "echo-1"),
        message_id=str(message_id),
        sender=Sender(contact_key=phone, phone=phone),
        sent_at=sent_at,
        content=Text(body=str(text)),
        raw=dict(payload),
    )
    return WebhookBatch(messages=(message,))


class EchoAdapter:
    name = ECHO
    capabilities = Capabilities()  # no window, no statuses, no templates

    def __init__(self, *, api_url: str, token: str, secret: str, timeout: float) -> None:
        self._secret = secret
        self._http = httpx.AsyncClient(
            base_url=api_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    # ------------------------------------------------------------ inbound

    def receive(self, request: InboundRequest, *, now: datetime) -> Verdict:
        given = request.headers.get(SECRET_HEADER)
        if not given:
            return Rejected(reason=Refusal.UNSIGNED, detail="secret missing", cause="no_secret")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            return Rejected(reason=Refusal.FORGED, detail="wrong secret", cause="secret")
        try:
            batch = parse(json.loads(request.body), now=now)
        except ValueError:
            batch = None
        if batch is None:
            return Rejected(reason=Refusal.MALFORMED, detail="not an echo message", cause="body")
        return Accepted(batch=batch)

    # ------------------------------------------------------------ outbound

    async def send_text(
        self, *, to: str, body: str, reply_to: str | None = None, tracker: str | None = None
    ) -> SentMessage:
        answer = await self._post(
            "messages", {"to": to, "text": body, "reply_to": reply_to, "tracker": tracker}
        )
        message_id = answer.get("id")
        if not isinstance(message_id, str):
            raise e.ProviderUnavailable("echo answered without an id")
        return SentMessage(provider_message_id=message_id, recipient=to)

    async def send_template(
        self,
        *,
        to: str,
        name: str,
        language: str,
        parameters: list[str],
        tracker: str | None = None,
    ) -> SentMessage:
        raise e.InvalidRequest("echo has no templates", code="no_templates")

    async def mark_read(self, *, message_id: str, typing: bool = False) -> bool:
        answer = await self._post("read", {"message_id": message_id, "typing": typing})
        return answer.get("ok") is True

    async def check_credentials(self) -> CredentialCheck:
        try:
            response = await self._http.get("me")
        except httpx.HTTPError:
            return CredentialCheck.UNKNOWN
        if response.status_code == 401:
            return CredentialCheck.REJECTED
        return CredentialCheck.VALID if response.is_success else CredentialCheck.UNKNOWN

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._http.post(path, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise e.ProviderUnavailable(f"echo unreachable: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise e.OutcomeUnknown(f"echo failed mid-request: {type(exc).__name__}") from exc
        if response.status_code == 401:
            raise e.AuthenticationFailed("echo refused the token", code="401")
        if not response.is_success:
            raise e.ProviderUnavailable(f"echo answered HTTP {response.status_code}")
        answer = response.json()
        return answer if isinstance(answer, dict) else {}


def echo(context: PluginContext) -> ProviderSetup | None:
    """The plugin: configured by ECHO_API_URL, ECHO_TOKEN and ECHO_WEBHOOK_SECRET."""
    env = context.environ
    api_url, token, secret = (
        env.get("ECHO_API_URL"),
        env.get("ECHO_TOKEN"),
        env.get("ECHO_WEBHOOK_SECRET"),
    )
    if not (api_url and token and secret):
        return None

    def connect(_channel_id: str, current_token: str) -> ProviderAdapter:
        return EchoAdapter(
            api_url=api_url, token=current_token, secret=secret, timeout=context.timeout_seconds
        )

    return ProviderSetup(
        name=ECHO,
        capabilities=EchoAdapter.capabilities,
        routes=(ROUTE,),
        channel_id=env.get("ECHO_CHANNEL", "echo-1"),
        token=token,
        connect=connect,
    )


not_a_plugin = "a string, for the test of a bad plugin setting"
