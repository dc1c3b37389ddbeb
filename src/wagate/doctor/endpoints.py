"""The AI endpoint and the gateway's public address, asked over HTTP.

The AI endpoint: its model list (does it know our models?) and one short chat request with the
configured model (does it take our key?): some endpoints serve the list to anyone, so only an
answer to a request proves the key. The speech-to-text and vision models, when set, are looked
up in the same list only: a transcription needs a recording and a vision request a photo, and
neither is worth paying for to prove what the chat request already proved (the key).

The public URL: `/api/health` through it, over HTTPS as Meta and Fonnte will reach it, and
Meta's verification handshake through it (a GET that stores nothing), which proves the
callback URL reaches a gateway holding the same verify token.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from wagate.domain.readiness import Finding, Verdict

_PING = "Reply with the single word OK."


def _json(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        return None


def _error_text(response: httpx.Response) -> str:
    body = _json(response)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:200]
        if isinstance(error, str):
            return error[:200]
    return f"HTTP {response.status_code}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AiProbe:
    base_url: str
    api_key: str | None
    model: str
    fallback_models: tuple[str, ...] = ()
    transcription_model: str | None = None  # AI_TRANSCRIPTION_MODEL
    vision_model: str | None = None  # AI_VISION_MODEL
    timeout: float = 15.0
    transport: httpx.AsyncBaseTransport | None = None
    area: str = "ai"

    async def run(self) -> Sequence[Finding]:
        base = self.base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        async with httpx.AsyncClient(
            timeout=self.timeout, transport=self.transport, headers=headers
        ) as http:
            try:
                listing = await http.get(f"{base}/models")
                answer = await http.post(
                    f"{base}/chat/completions",
                    json={"model": self.model, "messages": [{"role": "user", "content": _PING}]},
                )
            except httpx.HTTPError as exc:
                return [
                    Finding(
                        area=self.area,
                        check="reachable",
                        verdict=Verdict.FAILED,
                        detail=f"cannot reach {base}: {type(exc).__name__}",
                        fix="check AI_BASE_URL and this host's outbound network",
                    )
                ]
        return [*self._listed(listing), self._answered(answer)]

    def _listed(self, response: httpx.Response) -> list[Finding]:
        body = _json(response)
        data = body.get("data") if isinstance(body, dict) else None
        if not response.is_success or not isinstance(data, list):
            # Not every endpoint lists its models: the chat request below decides for the
            # chat model, nothing here can for the others.
            return self._unlisted(response)
        known = {str(item.get("id")) for item in data if isinstance(item, dict)}
        return [self._chat_models(known), *self._media_models(known)]

    def _media_models(self, known: set[str]) -> list[Finding]:
        findings = []
        for check, setting, model, without in self._media():
            if model in known:
                listed = f"{model} listed"
                findings.append(
                    Finding(area=self.area, check=check, verdict=Verdict.OK, detail=listed)
                )
                continue
            findings.append(
                Finding(
                    area=self.area,
                    check=check,
                    verdict=Verdict.WARN,
                    detail=f"{setting}={model} is not in the endpoint's model list: {without}",
                    fix=f"check {setting} against the models {self.base_url.rstrip('/')}/models "
                    "lists (or unset it)",
                )
            )
        return findings

    def _unlisted(self, response: httpx.Response) -> list[Finding]:
        why = (
            f"the endpoint's /models answered HTTP {response.status_code}"
            if not response.is_success
            else "the endpoint's /models holds no model list"
        )
        return [
            Finding(
                area=self.area,
                check=check,
                verdict=Verdict.SKIPPED,
                detail=f"{setting}={model} cannot be checked: {why}",
                fix=f"make sure the endpoint serves {model}: {without}",
            )
            for check, setting, model, without in self._media()
        ]

    def _media(self) -> list[tuple[str, str, str, str]]:
        """(check, setting, model, what happens if the endpoint does not serve it)."""
        media = []
        if self.transcription_model:
            media.append(
                (
                    "transcription model",
                    "AI_TRANSCRIPTION_MODEL",
                    self.transcription_model,
                    "voice notes would be kept and the person asked to write",
                )
            )
        if self.vision_model:
            media.append(
                (
                    "vision model",
                    "AI_VISION_MODEL",
                    self.vision_model,
                    "photos would not be seen (the answer goes from the text alone)",
                )
            )
        return media

    def _chat_models(self, known: set[str]) -> Finding:
        wanted = (self.model, *self.fallback_models)
        unknown = [m for m in wanted if m not in known]
        if not unknown:
            return Finding(
                area=self.area,
                check="models",
                verdict=Verdict.OK,
                detail=f"{', '.join(wanted)} listed",
            )
        return Finding(
            area=self.area,
            check="models",
            verdict=Verdict.WARN,
            detail=f"not in the endpoint's model list: {', '.join(unknown)}",
            fix="check AI_MODEL and AI_FALLBACK_MODELS for typos",
        )

    def _answered(self, response: httpx.Response) -> Finding:
        if response.is_success:
            return Finding(
                area=self.area,
                check="chat request",
                verdict=Verdict.OK,
                detail=f"{self.model} answered",
            )
        status = response.status_code
        if status in (401, 403):
            fix = "check AI_API_KEY (or OPENROUTER_API_KEY)"
        elif status == 404:
            fix = "check AI_BASE_URL (it ends before /chat/completions) and AI_MODEL"
        else:
            fix = "check AI_MODEL and the account at the AI provider"
        return Finding(
            area=self.area,
            check="chat request",
            verdict=Verdict.FAILED,
            detail=f"{self.model} refused: {_error_text(response)}",
            fix=fix,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicUrlProbe:
    public_url: str
    verify_token: str | None  # META_WEBHOOK_VERIFY_TOKEN, when Meta is configured
    timeout: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None
    area: str = "webhook"
    challenge: str = field(default_factory=lambda: str(secrets.randbelow(10**9)))

    async def run(self) -> Sequence[Finding]:
        base = self.public_url.rstrip("/")
        if not base.lower().startswith("https://"):
            return []  # the configuration's finding already says PUBLIC_URL must be https
        async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as http:
            health = await self._health(http, base)
            if health.verdict is not Verdict.OK or self.verify_token is None:
                return [health]
            return [health, await self._handshake(http, base, self.verify_token)]

    async def _health(self, http: httpx.AsyncClient, base: str) -> Finding:
        url = f"{base}/api/health"
        try:
            response = await http.get(url)
        except httpx.ConnectError as exc:
            tls = "certificate" in str(exc).lower() or "ssl" in str(exc).lower()
            return Finding(
                area=self.area,
                check="reachable over HTTPS",
                verdict=Verdict.FAILED,
                detail=f"{url}: {exc}" if tls else f"cannot connect to {url}",
                fix="serve a certificate a public CA signed (Caddy does it by itself; certbot "
                "for nginx)"
                if tls
                else "check DNS, the firewall (443 open) and that the reverse proxy runs",
            )
        except httpx.HTTPError as exc:
            return Finding(
                area=self.area,
                check="reachable over HTTPS",
                verdict=Verdict.FAILED,
                detail=f"{url}: {type(exc).__name__}",
                fix="check that the reverse proxy forwards to the gateway",
            )
        body = _json(response)
        status = body.get("status") if isinstance(body, dict) else None
        if response.status_code == 200 and status in ("ok", "degraded"):
            return Finding(
                area=self.area,
                check="reachable over HTTPS",
                verdict=Verdict.OK,
                detail=f"{url} answers ({status})",
            )
        if status == "unavailable":
            return Finding(
                area=self.area,
                check="reachable over HTTPS",
                verdict=Verdict.FAILED,
                detail=f"{url}: the gateway answers but cannot reach its database",
                fix="see `wagate doctor`'s database findings on that host",
            )
        return Finding(
            area=self.area,
            check="reachable over HTTPS",
            verdict=Verdict.FAILED,
            detail=f"{url} answered HTTP {response.status_code}, not the gateway's health",
            fix="point the reverse proxy at the gateway (see deploy/caddy, deploy/nginx)",
        )

    async def _handshake(self, http: httpx.AsyncClient, base: str, token: str) -> Finding:
        url = f"{base}/webhook/whatsapp"
        params = {
            "hub.mode": "subscribe",
            "hub.verify_token": token,
            "hub.challenge": self.challenge,
        }
        try:
            response = await http.get(url, params=params)
        except httpx.HTTPError as exc:
            return Finding(
                area=self.area,
                check="Meta callback URL",
                verdict=Verdict.FAILED,
                detail=f"{url}: {type(exc).__name__}",
            )
        if response.status_code == 200 and response.text.strip() == self.challenge:
            return Finding(
                area=self.area,
                check="Meta callback URL",
                verdict=Verdict.OK,
                detail=f"{url} answers Meta's verification with this verify token",
            )
        if response.status_code == 403:
            detail = "the gateway there refused this verify token: it runs with another one"
            fix = "give every gateway process the same META_WEBHOOK_VERIFY_TOKEN"
        else:
            detail = f"answered HTTP {response.status_code}: no Meta webhook is served there"
            fix = "forward /webhook/ to the gateway and set the Meta app's settings"
        return Finding(
            area=self.area,
            check="Meta callback URL",
            verdict=Verdict.FAILED,
            detail=detail,
            fix=fix,
        )
