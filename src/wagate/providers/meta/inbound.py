"""Meta's webhook, inbound half of the adapter (IN1, IN2): the GET subscription handshake, then
the HMAC over the raw bytes, then the payload parser. Pure: secrets and time passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from wagate.domain.provider_port import (
    Accepted,
    Challenge,
    InboundRequest,
    Refusal,
    Rejected,
    Verdict,
    WebhookRoute,
)
from wagate.providers.meta import webhook
from wagate.providers.meta.signature import (
    SIGNATURE_HEADER,
    SignatureCheck,
    check_signature,
    verify_subscription,
)
from wagate.providers.payload import NotJson, PayloadRejected, json_body

ROUTES = (WebhookRoute(path="/webhook/whatsapp", methods=("GET", "POST")),)


@dataclass(frozen=True, slots=True, kw_only=True)
class MetaWebhook:
    app_secret: str
    verify_token: str

    def receive(self, request: InboundRequest, *, now: datetime) -> Verdict:
        if request.method == "GET":
            return self._handshake(request)
        check = check_signature(
            request.body, request.headers.get(SIGNATURE_HEADER), self.app_secret
        )
        if check is SignatureCheck.MISSING:
            return Rejected(
                reason=Refusal.UNSIGNED, detail="invalid signature", cause="signature_missing"
            )
        if check is not SignatureCheck.VALID:
            return Rejected(
                reason=Refusal.FORGED, detail="invalid signature", cause=f"signature_{check.value}"
            )
        try:
            payload = json_body(request.body)
        except NotJson:
            return Rejected(
                reason=Refusal.MALFORMED, detail="body is not JSON", cause="malformed_json"
            )
        except PayloadRejected as exc:
            return Rejected(
                reason=Refusal.MALFORMED, detail=f"body rejected: {exc.reason}", cause="shape"
            )
        return Accepted(batch=webhook.parse_payload(payload, now=now))

    def _handshake(self, request: InboundRequest) -> Verdict:
        query = request.query
        challenge = verify_subscription(
            query.get("hub.mode"),
            query.get("hub.verify_token"),
            query.get("hub.challenge"),
            self.verify_token,
        )
        if challenge is None:
            return Rejected(
                reason=Refusal.FORGED, detail="verification failed", cause="verify_token"
            )
        return Challenge(answer=challenge)
