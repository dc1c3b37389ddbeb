"""Fonnte's webhook, inbound half of the adapter (IN3): Fonnte signs nothing, so the secret in
the URL path (and, when set, the source-address allow-list) is what authenticates it."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wagate.domain.provider_port import (
    Accepted,
    InboundRequest,
    Refusal,
    Rejected,
    Verdict,
    WebhookRoute,
)
from wagate.providers.fonnte import webhook
from wagate.providers.payload import NotJson, PayloadRejected, json_body

ROUTES = (WebhookRoute(path="/webhook/fonnte/{secret}"),)
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True, kw_only=True)
class FonnteWebhook:
    secret: str
    networks: tuple[IPNetwork, ...] = ()  # empty: any source address

    def receive(self, request: InboundRequest, *, now: datetime) -> Verdict:
        given = request.path_params.get("secret", "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return Rejected(reason=Refusal.NOT_FOUND, detail="not found", cause="secret")
        if self.networks and not _allowed(request.client, self.networks):
            return Rejected(
                reason=Refusal.SOURCE_NOT_ALLOWED,
                detail="source address not allowed",
                cause="source_ip",
            )
        try:
            fields = _fields(request)
        except PayloadRejected as exc:
            return Rejected(
                reason=Refusal.MALFORMED, detail=f"body rejected: {exc.reason}", cause="shape"
            )
        if fields is None:
            return Rejected(
                reason=Refusal.MALFORMED,
                detail="body must be a JSON object or form fields",
                cause="unreadable_body",
            )
        return Accepted(batch=webhook.parse_payload(fields, now=now))


def _allowed(host: str | None, networks: tuple[IPNetwork, ...]) -> bool:
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _fields(request: InboundRequest) -> Mapping[str, Any] | None:
    """Fonnte sends JSON; older set-ups and proxies send form fields. Accept both."""
    if request.content_type in _FORMS:
        return request.form  # None when the form could not be decoded
    if not request.body.strip():
        return None
    try:
        payload = json_body(request.body)
    except NotJson:
        return None
    return payload if isinstance(payload, dict) else None
