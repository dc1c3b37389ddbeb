"""Webhook endpoints (IN1–IN3, IN8): hand the request to its provider's adapter, commit what it
accepted, then acknowledge. Which URLs exist, how a request is authenticated and how its body
is read are the adapters' business; this edge only maps their verdicts to HTTP.

A 200 means "committed": if the database cannot take the delivery we answer 503 and the
provider retries (Meta for days, Fonnte 15 times a minute apart).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import assert_never

import psycopg
import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from wagate.domain.messages import Provider, WebhookBatch
from wagate.domain.provider_port import (
    Accepted,
    Challenge,
    InboundRequest,
    Refusal,
    Rejected,
)
from wagate.edge_services import WebhookEndpoints, WebhookIntake

log = structlog.get_logger(__name__)

STATUS: Mapping[Refusal, int] = {
    Refusal.NOT_FOUND: 404,
    Refusal.UNSIGNED: 401,
    Refusal.FORGED: 403,
    Refusal.SOURCE_NOT_ALLOWED: 403,
    Refusal.MALFORMED: 400,
}
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _ack() -> Response:
    return Response(content=b'{"status":"ok"}', media_type="application/json")


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


Handler = Callable[[Request], Awaitable[Response]]


def webhook_router(*, endpoints: WebhookEndpoints, clock: Callable[[], datetime]) -> APIRouter:
    router = APIRouter()
    for provider, route in endpoints.routes:
        router.add_api_route(
            route.path,
            _handler(provider, endpoints.intake, clock),
            methods=list(route.methods),
            include_in_schema=False,
        )
    return router


def _handler(provider: Provider, intake: WebhookIntake, clock: Callable[[], datetime]) -> Handler:
    source = provider.value

    async def handle(request: Request) -> Response:
        inbound = await _inbound(request)
        # Which tenant's channel (a secret in the URL) or the platform's app receives it.
        receiving = intake.receiving(provider, inbound)
        if receiving is None:
            intake.rejected(provider, Refusal.NOT_FOUND.value, tenant=None)
            return _error(404, "not found")
        match receiving.receiver.receive(inbound, now=clock()):
            case Challenge(answer=answer):
                return PlainTextResponse(answer)
            case Rejected() as rejected:
                _log_rejection(source, rejected, inbound)
                intake.rejected(provider, rejected.reason.value, tenant=receiving.tenant)
                return _error(STATUS[rejected.reason], rejected.detail)
            case Accepted(batch=batch):
                return await _commit(intake, batch, source, receiving.tenant)
            case unexpected:
                assert_never(unexpected)

    return handle


async def _commit(
    intake: WebhookIntake, batch: WebhookBatch, source: str, tenant: str | None
) -> Response:
    try:
        await intake.receive(batch, source=source, tenant=tenant)
    except (psycopg.Error, OSError, TimeoutError) as exc:
        # Not committed → not acknowledged: the provider will deliver it again.
        log.error("webhook.store_failed", source=source, error_type=type(exc).__name__)
        return _error(503, "temporarily unable to store; retry later")
    return _ack()


def _log_rejection(source: str, verdict: Rejected, request: InboundRequest) -> None:
    if verdict.reason is Refusal.MALFORMED:
        log.warning("webhook.rejected", source=source, reason=verdict.cause, size=len(request.body))
    else:
        log.warning("webhook.rejected", source=source, reason=verdict.cause)


async def _inbound(request: Request) -> InboundRequest:
    """The request as the port's plain value (the body limit middleware has already read it)."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers.setdefault(name.lower(), value)
    body = await request.body()
    return InboundRequest(
        method=request.method,
        path_params={k: str(v) for k, v in request.path_params.items()},
        query=dict(request.query_params),
        headers=headers,
        body=body,
        form=await _form(request, headers.get("content-type", "")),
        client=request.client.host if request.client else None,
    )


async def _form(request: Request, content_type: str) -> Mapping[str, str] | None:
    """Form fields, for a body sent as a form (files are not fields); None otherwise or when
    the form cannot be decoded."""
    if content_type.split(";")[0].strip().lower() not in _FORMS:
        return None
    try:
        form = await request.form()
    except Exception:
        return None
    return {key: value for key, value in form.items() if isinstance(value, str)}
