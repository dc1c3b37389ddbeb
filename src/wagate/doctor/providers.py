"""The providers' credentials, checked without sending anything: Meta's phone number read with
the access token, Fonnte's device profile read with the device token, and a plugin's own
credential check. Each also says what it learnt (which number, whether the phone is linked),
so the operator can see it is the right account."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from wagate.domain import errors as e
from wagate.domain.provider_port import CredentialCheck, MessagingProvider
from wagate.domain.readiness import PRODUCTION_GUIDE, Finding, Verdict
from wagate.providers.meta.errors import translate

_META_FIELDS = "display_phone_number,verified_name,quality_rating"


def _json(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content) if response.content else {}
    except orjson.JSONDecodeError:
        return {}


def _unreachable(area: str, url: str, exc: httpx.HTTPError) -> Finding:
    return Finding(
        area=area,
        check="reachable",
        verdict=Verdict.FAILED,
        detail=f"cannot reach {url}: {type(exc).__name__}",
        fix="check this host's outbound network (DNS, firewall, proxy)",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class MetaNumberProbe:
    graph_url: str
    access_token: str
    phone_number_id: str
    timeout: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None
    area: str = "meta"

    async def run(self) -> Sequence[Finding]:
        url = f"{self.graph_url.rstrip('/')}/{self.phone_number_id}"
        async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as http:
            try:
                response = await http.get(
                    url,
                    params={"fields": _META_FIELDS},
                    headers={"Authorization": f"Bearer {self.access_token}"},
                )
            except httpx.HTTPError as exc:
                return [_unreachable(self.area, self.graph_url, exc)]
        body = _json(response)
        if response.is_success and isinstance(body, dict):
            return [self._number(body)]
        return [self._refused(response.status_code, body)]

    def _number(self, body: Mapping[str, Any]) -> Finding:
        number = body.get("display_phone_number") or "?"
        name = body.get("verified_name")
        quality = body.get("quality_rating")
        detail = f"phone number id {self.phone_number_id}: {number}"
        if name:
            detail += f" ({name})"
        if quality:
            detail += f", quality {quality}"
        return Finding(area=self.area, check="access token", verdict=Verdict.OK, detail=detail)

    def _refused(self, status: int, body: Any) -> Finding:
        error = translate(status, body)
        if isinstance(error, e.AuthenticationFailed):
            return Finding(
                area=self.area,
                check="access token",
                verdict=Verdict.FAILED,
                detail=f"refused (HTTP {status}): {error}",
                fix="create a permanent token for a system user with whatsapp_business_messaging "
                f"and whatsapp_business_management, and set META_ACCESS_TOKEN ({PRODUCTION_GUIDE})",
            )
        if isinstance(error, e.PermissionDenied):
            return Finding(
                area=self.area,
                check="access token",
                verdict=Verdict.FAILED,
                detail=f"the token may not read this number (HTTP {status}): {error}",
                fix="assign the phone number's WhatsApp account to the system user, with full "
                "control, then generate the token again",
            )
        return Finding(
            area=self.area,
            check="phone number id",
            verdict=Verdict.FAILED,
            detail=f"Graph API answered HTTP {status}: {error}",
            fix="META_PHONE_NUMBER_ID is the number's id from WhatsApp Manager / API Setup, "
            "not the phone number itself",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FonnteDeviceProbe:
    api_url: str  # FONNTE_API_URL (…/send): the device endpoint is its sibling
    token: str
    timeout: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None
    area: str = "fonnte"

    async def run(self) -> Sequence[Finding]:
        url = self.api_url.rsplit("/", 1)[0] + "/device"
        async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as http:
            try:
                # Fonnte's API is POST-only; /device reads the profile and changes nothing.
                response = await http.post(url, headers={"Authorization": self.token})
            except httpx.HTTPError as exc:
                return [_unreachable(self.area, url, exc)]
        raw = _json(response)
        # Fonnte's keys are not always in one case ("Status"): read them case-insensitively.
        body = {str(k).lower(): v for k, v in raw.items()} if isinstance(raw, dict) else {}
        if body.get("status") is True:
            return self._device(body)
        reason = str(body.get("reason") or body.get("detail") or f"HTTP {response.status_code}")
        if reason.strip().lower() == "token invalid":
            fix = "copy the device token from Fonnte's dashboard (Device → Token) to FONNTE_TOKEN"
        else:
            fix = "see Fonnte's dashboard for the device"
        return [
            Finding(
                area=self.area,
                check="device token",
                verdict=Verdict.FAILED,
                detail=f"refused: {reason}",
                fix=fix,
            )
        ]

    def _device(self, body: Mapping[str, Any]) -> list[Finding]:
        device = body.get("device") or "?"
        state = str(body.get("device_status") or "").lower()
        extra = [
            f"{label} {body[key]}"
            for key, label in (("package", "package"), ("quota", "quota"), ("expired", "until"))
            if body.get(key)
        ]
        described = f"device {device}" + (f" ({', '.join(extra)})" if extra else "")
        token = Finding(area=self.area, check="device token", verdict=Verdict.OK, detail=described)
        if state == "connect":
            linked = Finding(
                area=self.area, check="phone linked", verdict=Verdict.OK, detail="connected"
            )
        else:
            linked = Finding(
                area=self.area,
                check="phone linked",
                verdict=Verdict.FAILED,
                detail=f"the device is {state or 'not connected'}: nothing can be sent",
                fix="scan the QR code in Fonnte's dashboard (Device → Connect) with the phone",
            )
        return [token, linked]


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialProbe:
    """A provider without a probe of its own (a plugin): its adapter's credential check."""

    area: str
    connect: Callable[[], MessagingProvider]

    async def run(self) -> Sequence[Finding]:
        adapter = self.connect()
        try:
            check = await adapter.check_credentials()
        finally:
            await adapter.aclose()
        if check is CredentialCheck.VALID:
            return [Finding(area=self.area, check="credentials", verdict=Verdict.OK)]
        detail = (
            "the provider refused the token"
            if check is CredentialCheck.REJECTED
            else "the provider could not be asked (unreachable or an unexpected answer)"
        )
        return [
            Finding(
                area=self.area,
                check="credentials",
                verdict=Verdict.FAILED,
                detail=detail,
                fix="check the plugin's own settings",
            )
        ]
