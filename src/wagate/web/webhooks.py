"""Webhook endpoints (IN1–IN3, IN8): authenticate, parse, commit, then acknowledge.

A 200 means "committed": if the database cannot take the delivery we answer 503 and the
provider retries (Meta for days, Fonnte 15 times a minute apart).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import psycopg
import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from wagate.domain.messages import WebhookBatch
from wagate.pipeline.intake import Intake
from wagate.providers.fonnte import webhook as fonnte
from wagate.providers.meta import webhook as meta
from wagate.providers.meta.signature import (
    SIGNATURE_HEADER,
    SignatureCheck,
    check_signature,
    verify_subscription,
)
from wagate.providers.payload import PayloadRejected, decode_json

log = structlog.get_logger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSecrets:
    meta_app_secret: str | None
    meta_verify_token: str | None
    fonnte_secret: str | None
    fonnte_networks: tuple[IPNetwork, ...] = ()


def _ack() -> Response:
    return Response(content=b'{"status":"ok"}', media_type="application/json")


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def webhook_router(
    *, secrets: WebhookSecrets, intake: Intake, clock: Callable[[], datetime]
) -> APIRouter:
    router = APIRouter()

    async def commit(batch: WebhookBatch, source: str) -> Response:
        try:
            await intake.receive(batch, source=source)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            # Not committed → not acknowledged: the provider will deliver it again.
            log.error("webhook.store_failed", source=source, error_type=type(exc).__name__)
            return _error(503, "temporarily unable to store; retry later")
        return _ack()

    @router.get("/webhook/whatsapp", include_in_schema=False)
    async def meta_verify(request: Request) -> Response:
        if secrets.meta_verify_token is None:
            return _error(404, "Meta is not configured")
        query = request.query_params
        challenge = verify_subscription(
            query.get("hub.mode"),
            query.get("hub.verify_token"),
            query.get("hub.challenge"),
            secrets.meta_verify_token,
        )
        if challenge is None:
            log.warning("webhook.rejected", source="meta", reason="verify_token")
            return _error(403, "verification failed")
        return PlainTextResponse(challenge)

    @router.post("/webhook/whatsapp", include_in_schema=False)
    async def meta_receive(request: Request) -> Response:
        if secrets.meta_app_secret is None:
            return _error(404, "Meta is not configured")
        body = await request.body()
        check = check_signature(
            body, request.headers.get(SIGNATURE_HEADER), secrets.meta_app_secret
        )
        if check is not SignatureCheck.VALID:
            log.warning("webhook.rejected", source="meta", reason=f"signature_{check.value}")
            return _error(401 if check is SignatureCheck.MISSING else 403, "invalid signature")
        try:
            payload = decode_json(body)
        except orjson.JSONDecodeError:
            log.warning("webhook.rejected", source="meta", reason="malformed_json", size=len(body))
            return _error(400, "body is not JSON")
        except PayloadRejected as exc:
            log.warning("webhook.rejected", source="meta", reason="shape", detail=exc.reason)
            return _error(400, f"body rejected: {exc.reason}")
        return await commit(meta.parse_payload(payload, now=clock()), "meta")

    @router.post("/webhook/fonnte/{secret}", include_in_schema=False)
    async def fonnte_receive(secret: str, request: Request) -> Response:
        if secrets.fonnte_secret is None or not hmac.compare_digest(
            secret.encode(), secrets.fonnte_secret.encode()
        ):
            log.warning("webhook.rejected", source="fonnte", reason="secret")
            return _error(404, "not found")
        if secrets.fonnte_networks and not _allowed(request, secrets.fonnte_networks):
            log.warning("webhook.rejected", source="fonnte", reason="source_ip")
            return _error(403, "source address not allowed")
        try:
            fields = await _fonnte_fields(request)
        except PayloadRejected as exc:
            log.warning("webhook.rejected", source="fonnte", reason="shape", detail=exc.reason)
            return _error(400, f"body rejected: {exc.reason}")
        if fields is None:
            log.warning("webhook.rejected", source="fonnte", reason="unreadable_body")
            return _error(400, "body must be a JSON object or form fields")
        return await commit(fonnte.parse_payload(fields, now=clock()), "fonnte")

    return router


def _allowed(request: Request, networks: tuple[IPNetwork, ...]) -> bool:
    host = request.client.host if request.client else None
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


async def _fonnte_fields(request: Request) -> Mapping[str, Any] | None:
    """Fonnte sends JSON; older set-ups and proxies send form fields. Accept both."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.form()
        except Exception:
            return None
        return {key: value for key, value in form.items() if isinstance(value, str)}
    body = await request.body()
    if not body.strip():
        return None
    try:
        payload = decode_json(body)
    except orjson.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None
