"""Fonnte /send client (OU1): form-encoded, raw token in `Authorization`, errors in-band."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson

from wagate.domain import errors as e
from wagate.domain.capabilities import Capabilities
from wagate.domain.messages import Provider
from wagate.domain.provider_port import (
    CredentialCheck,
    InboundRequest,
    Refusal,
    Rejected,
    SentMessage,
    Verdict,
)
from wagate.domain.rich_messages import MediaMessage
from wagate.http_client import http_client
from wagate.providers.fonnte.inbound import FonnteWebhook
from wagate.providers.fonnte.media import FonnteMediaDownloads
from wagate.providers.payload import mapping, text
from wagate.providers.transport import transport_error

DEFAULT_FONNTE_URL = "https://api.fonnte.com/send"

_PERMANENT: dict[str, type[e.PermanentSendError]] = {
    "token invalid": e.AuthenticationFailed,
    "insufficient quota": e.QuotaExhausted,
    "target invalid": e.RecipientUnreachable,
    "input invalid": e.InvalidRequest,
    "url invalid": e.InvalidRequest,
    "file format not supported": e.InvalidRequest,
    "file size must under 4mb": e.InvalidRequest,
    "json format invalid": e.InvalidRequest,
    "invalid/empty body value": e.InvalidRequest,
}


def translate(reason: str | None) -> e.SendError:
    """A Fonnte `reason` → our error type. Unknown reasons are transient: a human will see
    them in the dead letters after the last attempt, rather than the message being dropped."""
    key = (reason or "").strip().lower()
    if "disconnected device" in key:
        return e.DeviceDisconnected(reason or key, code=key)
    if key in _PERMANENT:
        return _PERMANENT[key](reason or key, code=key)
    return e.ProviderUnavailable(reason or "Fonnte answered without a reason", code=key or None)


class FonnteClient(FonnteMediaDownloads):  # inbound files: providers/fonnte/media.py
    name = Provider.FONNTE
    # Fonnte sends through a linked phone: no 24-hour window, no templates, and its statuses
    # do not echo our key. Files go by URL.
    capabilities = Capabilities(media=True)

    def __init__(
        self,
        *,
        api_url: str,
        token: str,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
        webhook: FonnteWebhook | None = None,
    ) -> None:
        self._webhook = webhook
        self._api_url = api_url
        # /send through the lean client (once per answer); the device check and file
        # downloads through httpx.
        self._api = http_client(
            api_url, headers={"Authorization": token}, timeout=timeout, transport=transport
        )
        self._http = httpx.AsyncClient(
            headers={"Authorization": token}, timeout=timeout, transport=transport
        )

    async def send_text(
        self,
        *,
        to: str,
        body: str,
        reply_to: str | None = None,
        tracker: str | None = None,
        link_preview: bool = False,  # not asked for: Fonnte declares no link previews
    ) -> SentMessage:
        # Targets are canonical (62…), so countryCode=0 keeps Fonnte from rewriting them.
        form = {"target": to, "message": body, "countryCode": "0"}
        if reply_to and reply_to.isdigit():
            form["inboxid"] = reply_to
        return self._sent(await self._post(form))

    async def send_media(
        self, *, to: str, media: MediaMessage, tracker: str | None = None
    ) -> SentMessage:
        """Fonnte fetches the file from `url`; the caption rides as the message."""
        form = {"target": to, "message": media.caption or "", "countryCode": "0", "url": media.link}
        if media.filename:
            form["filename"] = media.filename
        return self._sent(await self._post(form))

    def _sent(self, answer: dict[str, Any]) -> SentMessage:
        ids = answer.get("id")
        message_id = text(ids[0]) if isinstance(ids, list) and ids else text(ids)
        if message_id is None:
            raise e.ProviderUnavailable("Fonnte accepted the request without a message id")
        targets = answer.get("target")
        recipient = text(targets[0]) if isinstance(targets, list) and targets else None
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
        # Fonnte drives an ordinary WhatsApp account: no templates, and no window to need them.
        raise e.InvalidRequest("Fonnte has no message templates", code="no_templates")

    async def mark_read(self, *, message_id: str, typing: bool = False) -> bool:
        return False  # Fonnte has no read-receipt API; `typing` rides along with /send.

    async def check_credentials(self) -> CredentialCheck:
        # /device describes the linked phone with the same device token /send uses.
        url = self._api_url.rsplit("/", 1)[0] + "/device"
        try:
            response = await self._http.post(url)
            answer = {str(k).lower(): v for k, v in mapping(orjson.loads(response.content)).items()}
        except (httpx.HTTPError, orjson.JSONDecodeError):
            return CredentialCheck.UNKNOWN
        if answer.get("status") is True:
            return CredentialCheck.VALID
        reason = (text(answer.get("reason")) or "").strip().lower()
        return CredentialCheck.REJECTED if reason == "token invalid" else CredentialCheck.UNKNOWN

    def receive(self, request: InboundRequest, *, now: datetime) -> Verdict:
        """The inbound half: this provider's webhook, verified and parsed."""
        if self._webhook is None:  # a client built only to send (no webhook secrets given)
            return Rejected(reason=Refusal.NOT_FOUND, detail="not found", cause="not_configured")
        return self._webhook.receive(request, now=now)

    async def aclose(self) -> None:
        await self._api.aclose()
        await self._http.aclose()

    async def _post(self, form: dict[str, str]) -> dict[str, Any]:
        try:
            response = await self._api.request(
                "POST",
                content=urlencode(form).encode("ascii"),
                content_type="application/x-www-form-urlencoded",
            )
        except httpx.HTTPError as exc:
            raise transport_error("Fonnte", exc) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise e.ProviderUnavailable(f"Fonnte answered HTTP {response.status_code}")
        try:
            raw: Any = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise e.ProviderUnavailable("Fonnte answered with something that is not JSON") from exc
        # Key capitalisation is inconsistent in some error bodies: read case-insensitively.
        answer = {str(k).lower(): v for k, v in mapping(raw).items()}
        if answer.get("status") is True:
            return answer
        raise translate(text(answer.get("reason")) or text(answer.get("detail")))
