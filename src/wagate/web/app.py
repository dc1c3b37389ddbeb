"""The ASGI application: the web edge (request ids, body limit, the webhooks' hot door) in
front of FastAPI (webhooks' other methods, the operator API, the console)."""

from __future__ import annotations

from fastapi import FastAPI, Response
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp

from wagate import __version__
from wagate.edge_services import WebServices
from wagate.web.admin_api import SEND_FILE_OVERHEAD, SEND_FILE_PATH, admin_router
from wagate.web.api import api_router
from wagate.web.audit_api import audit_router
from wagate.web.console import CONSOLE_UPLOAD_PATH, mount_console
from wagate.web.console.headers import ConsoleHeaders
from wagate.web.conversations_api import conversations_router
from wagate.web.errors import validation_error
from wagate.web.flows_endpoint import flows_endpoint_router
from wagate.web.intakes_api import intakes_router
from wagate.web.kb_api import KB_UPLOAD_PATH, kb_router
from wagate.web.media_api import media_router
from wagate.web.metrics import metrics_router
from wagate.web.middleware import Edge
from wagate.web.reviews_api import reviews_router
from wagate.web.scope import caller_scope, platform_scope
from wagate.web.tenants_api import tenants_router
from wagate.web.users_api import users_router
from wagate.web.webhooks import WebhookRoutes, webhook_router


def create_app(services: WebServices) -> ASGIApp:
    """The app over services wiring built: it builds none itself and reads no settings."""
    app = FastAPI(
        title="wagate",
        version=__version__,
        # Swagger UI loads its assets from a CDN: only when the operator asks for it.
        docs_url="/api/docs" if services.api_docs else None,
        openapi_url="/api/openapi.json",
        redoc_url=None,
        # A redirect would be built from the caller's Host header.
        redirect_slashes=False,
    )
    app.add_exception_handler(RequestValidationError, validation_error)
    app.include_router(webhook_router(endpoints=services.webhooks, clock=services.clock))
    if services.flow_endpoint is not None:
        app.include_router(flows_endpoint_router(services.flow_endpoint))
    scope = caller_scope(
        api_token=services.api_token, tokens=services.tokens, tenants=services.tenants
    )
    app.include_router(admin_router(scope=scope))
    app.include_router(audit_router(scope=scope))
    app.include_router(kb_router(scope=scope))
    app.include_router(reviews_router(scope=scope))
    app.include_router(intakes_router(scope=scope))
    app.include_router(conversations_router(scope=scope))
    app.include_router(media_router(scope=scope))
    app.include_router(users_router(scope=scope))
    app.include_router(
        api_router(
            scope=scope,
            tenants=services.tenants,
            ping=services.ping,
            configuration=services.configuration,
        )
    )
    app.include_router(
        tenants_router(
            admin=services.tenant_admin,
            scope=platform_scope(api_token=services.api_token, tokens=services.tokens),
        )
    )
    app.include_router(
        metrics_router(scope=scope, tenants=services.tenants, recorder=services.metrics)
    )
    if services.console is not None:
        mount_console(app, services.console, services.tenants)
    if services.bench_endpoint:

        @app.post("/_bench/ok", include_in_schema=False)
        async def bench_ok() -> Response:
            return Response(content=b'{"status":"ok"}', media_type="application/json")

    return Edge(
        ConsoleHeaders(app),
        max_bytes=services.max_body_bytes,
        max_pending_bytes=services.max_pending_body_bytes,
        path_limits={
            KB_UPLOAD_PATH: services.kb_max_upload_bytes,
            CONSOLE_UPLOAD_PATH: services.kb_max_upload_bytes,
        },
        streamed_limits={SEND_FILE_PATH: services.send_file_max_bytes + SEND_FILE_OVERHEAD},
        # The webhooks' hot door: answered before FastAPI (which keeps the same routes).
        webhooks=WebhookRoutes(services.webhooks, services.clock),
    )
