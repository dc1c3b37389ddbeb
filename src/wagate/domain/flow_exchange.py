"""The Flows data endpoint's decisions (FL1): what WhatsApp's client is told for each decrypted
request of a Flow that exchanges data with the gateway. Pure; the encryption around it is the
provider adapter's (`providers/meta/flow_endpoint.py`).

A request names an `action`: `ping` (Meta's health check), `INIT` (the Flow opens), `BACK`,
`data_exchange` (a screen's footer sent its fields); an error notification carries
`data.error` instead. For case intake the endpoint checks the identity screen before the person
goes on — the NIK's structure and a name, with the reason shown on the screen
(`error_message`) — and a completion sent through the endpoint ends on Meta's `SUCCESS` screen
with the answers as its parameters, which come back as the `nfm_reply` like any completion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from wagate.domain.case_intake import FIRST_SCREEN, MAX_TEXT_CHARS
from wagate.domain.privacy.nik import is_valid_nik
from wagate.domain.provider_port import InboundRequest

CASE_SCREEN = "PERKARA"  # the shipped Flow's second screen
SUCCESS = "SUCCESS"
IDENTITY_FIELDS = ("full_name", "nik", "phone", "email")
BAD_NIK = "NIK harus 16 digit angka sesuai KTP. Mohon periksa kembali."
NO_NAME = "Mohon isi nama lengkap Anda."
MAX_PARAMS = 30


class ExchangeError(ValueError):
    """A request the endpoint cannot answer (an unknown action, a screen it does not know)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointAnswer:
    """What the web edge sends back: Meta expects the encrypted response as plain text."""

    status: int
    body: bytes
    media_type: str = "text/plain"


class FlowDataEndpoint(Protocol):
    """The data endpoint as the web edge sees it: one request in, one answer out; never
    raises (a request that cannot be read is answered with the status Meta expects)."""

    def handle(self, request: InboundRequest) -> EndpointAnswer: ...


def respond(request: Mapping[str, Any]) -> dict[str, Any]:
    """The (unencrypted) response to one decrypted request; ExchangeError when it cannot be
    answered."""
    action = request.get("action")
    data = request.get("data") if isinstance(request.get("data"), Mapping) else {}
    assert isinstance(data, Mapping)
    if action == "ping":
        return {"data": {"status": "active"}}
    if "error" in data:
        # An error notification about an earlier response: acknowledged, nothing to show.
        return {"data": {"acknowledged": True}}
    if action == "INIT":
        return {"screen": FIRST_SCREEN, "data": {}}
    if action == "BACK":
        screen = request.get("screen")
        return {
            "screen": screen if isinstance(screen, str) and screen else FIRST_SCREEN,
            "data": {},
        }
    if action == "data_exchange":
        return _exchange(str(request.get("screen") or ""), data, request.get("flow_token"))
    raise ExchangeError(f"unknown action {action!r}")


def _exchange(screen: str, data: Mapping[str, Any], token: Any) -> dict[str, Any]:
    if screen == FIRST_SCREEN:
        identity = {name: _text(data.get(name)) for name in IDENTITY_FIELDS}
        if not identity["full_name"]:
            return {"screen": FIRST_SCREEN, "data": {"error_message": NO_NAME}}
        if not is_valid_nik(identity["nik"]):
            return {"screen": FIRST_SCREEN, "data": {"error_message": BAD_NIK}}
        return {"screen": CASE_SCREEN, "data": identity}
    if screen == CASE_SCREEN:
        # The last screen: the completion ends on Meta's SUCCESS screen, and these parameters
        # are what the person's nfm_reply carries back (then read like any completion).
        params: dict[str, Any] = {"flow_token": _text(token)} if token else {}
        for name, value in list(data.items())[:MAX_PARAMS]:
            if isinstance(value, bool | int | float | str) or _is_list(value):
                params[str(name)] = value if not isinstance(value, str) else _text(value)
        return {
            "screen": SUCCESS,
            "data": {"extension_message_response": {"params": params}},
        }
    raise ExchangeError(f"no exchange for screen {screen!r}")


def _text(value: Any) -> str:
    return value.strip()[:MAX_TEXT_CHARS] if isinstance(value, str) else ""


def _is_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str | int | float | dict) for v in value)
