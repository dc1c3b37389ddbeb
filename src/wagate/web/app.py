"""The ASGI application: webhooks and the operator API behind the body limit."""

from __future__ import annotations

from fastapi import FastAPI, Response
from starlette.types import ASGIApp

from wagate import __version__
from wagate.edge_services import WebServices
from wagate.web.admin_api import admin_router
from wagate.web.api import api_router
from wagate.web.audit_api import audit_router
from wagate.web.metrics import metrics_router
from wagate.web.middleware import BodyLimit, RequestContext
from wagate.web.webhooks import webhook_router


def create_app(services: WebServices) -> ASGIApp:
    """The app over services wiring built: it builds none itself and reads no settings."""
    app = FastAPI(
        title="wagate",
        version=__version__,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.include_router(
        webhook_router(endpoints=services.webhooks, intake=services.intake, clock=services.clock)
    )
    app.include_router(admin_router(operator=services.operator, api_token=services.api_token))
    app.include_router(audit_router(audit=services.operator.trail, api_token=services.api_token))
    app.include_router(
        api_router(
            queries=services.queries,
            ping=services.ping,
            status=services.status.status,
            channels=services.status.channel_states,
            api_token=services.api_token,
        )
    )
    app.include_router(
        metrics_router(
            gauges=services.status.gauges,
            channels=lambda: services.status.channel_states(with_ids=True),
            api_token=services.api_token,
        )
    )
    if services.bench_endpoint:

        @app.post("/_bench/ok", include_in_schema=False)
        async def bench_ok() -> Response:
            return Response(content=b'{"status":"ok"}', media_type="application/json")

    return RequestContext(BodyLimit(app, max_bytes=services.max_body_bytes))
