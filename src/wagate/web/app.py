"""The ASGI application: webhooks and the operator API behind the body limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, Response
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp

from wagate import __version__
from wagate.storage.gauges import read_gauges
from wagate.web.admin_api import admin_router
from wagate.web.api import api_router
from wagate.web.audit_api import audit_router
from wagate.web.errors import validation_error
from wagate.web.metrics import metrics_router
from wagate.web.middleware import BodyLimit, RequestContext
from wagate.web.webhooks import webhook_router

if TYPE_CHECKING:
    from wagate.wiring import Gateway


def create_app(gateway: Gateway) -> ASGIApp:
    app = FastAPI(
        title="wagate",
        version=__version__,
        # Swagger UI loads its assets from a CDN: only when the operator asks for it.
        docs_url="/api/docs" if gateway.settings.wagate_api_docs else None,
        openapi_url="/api/openapi.json",
        redoc_url=None,
        # A redirect would be built from the caller's Host header.
        redirect_slashes=False,
    )
    app.add_exception_handler(RequestValidationError, validation_error)
    app.include_router(
        webhook_router(secrets=gateway.webhook_secrets, intake=gateway.intake, clock=gateway.clock)
    )
    app.include_router(
        admin_router(
            audit=gateway.audit,
            dead_letters=gateway.dead_letters,
            accounts=gateway.accounts,
            sender=gateway.sender,
            api_token=gateway.api_token,
            clock=gateway.clock,
            notices=gateway.converse.policy.notices,
        )
    )
    app.include_router(audit_router(audit=gateway.audit, api_token=gateway.api_token))
    app.include_router(
        api_router(
            queries=gateway.queries,
            ping=gateway.database.ping,
            status=gateway.status,
            channels=gateway.channel_states,
            api_token=gateway.api_token,
        )
    )
    app.include_router(
        metrics_router(
            gauges=lambda: read_gauges(gateway.database, gateway.settings.wagate_tenant),
            channels=lambda: gateway.channel_states(with_ids=True),
            api_token=gateway.api_token,
        )
    )
    if gateway.settings.wagate_bench_endpoint:

        @app.post("/_bench/ok", include_in_schema=False)
        async def bench_ok() -> Response:
            return Response(content=b'{"status":"ok"}', media_type="application/json")

    settings = gateway.settings
    return RequestContext(
        BodyLimit(
            app,
            max_bytes=settings.wagate_max_body_bytes,
            max_pending_bytes=settings.wagate_max_pending_body_bytes,
        )
    )
