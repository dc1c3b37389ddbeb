"""Webhook endpoints (IN1–IN3, IN8): hand the request to its provider's adapter, commit what it
accepted, then acknowledge. Which URLs exist, how a request is authenticated and how its body
is read are the adapters' business; this edge only maps their verdicts to HTTP.

A 200 means "committed": if the database cannot take the delivery we answer 503 and the
provider retries (Meta for days, Fonnte 15 times a minute apart).

Two doors, one handler (`WebhookHandler.answer`). The hot one is `WebhookRoutes`: the web
edge (`web.middleware.Edge`) asks it first and, for a configured route and method, answers
straight from the ASGI scope and the body it has already read, without FastAPI's routing,
dependency solving and response objects around it (issue 18: those were a quarter of the
webhook's CPU). The same routes are also registered on FastAPI (`webhook_router`), which
serves what the hot door leaves: other methods (405, as any FastAPI route) and applications
built without the edge.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, assert_never
from urllib.parse import parse_qsl

import orjson
import psycopg
import structlog
from fastapi import APIRouter, Request, Response
from starlette.types import Message, Receive, Scope, Send

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
_JSON = b"application/json"
_TEXT = b"text/plain; charset=utf-8"
_NOSNIFF = (b"x-content-type-options", b"nosniff")


@dataclass(frozen=True, slots=True)
class Reply:
    """What the edge answers: a status, a body and its media type."""

    status: int
    body: bytes
    media_type: bytes = _JSON

    async def send(self, send: Send) -> None:
        """Written as raw ASGI messages (the hot door), with the edge's nosniff header."""
        headers = [
            (b"content-type", self.media_type),
            (b"content-length", str(len(self.body)).encode()),
            _NOSNIFF,
        ]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})

    def response(self) -> Response:
        return Response(
            content=self.body, status_code=self.status, media_type=self.media_type.decode()
        )


ACK = Reply(200, b'{"status":"ok"}')
_NOT_FOUND = Reply(404, b'{"detail":"not found"}')
_UNAVAILABLE = Reply(503, b'{"detail":"temporarily unable to store; retry later"}')


def _error(status: int, detail: str) -> Reply:
    return Reply(status, orjson.dumps({"detail": detail}))


@dataclass(frozen=True, slots=True)
class WebhookHandler:
    """One provider's webhook: verdict of its adapter → commit → reply."""

    provider: Provider
    intake: WebhookIntake
    clock: Callable[[], datetime]

    async def answer(self, inbound: InboundRequest) -> Reply:
        provider = self.provider
        # Which tenant's channel (a secret in the URL) or the platform's app receives it.
        receiving = self.intake.receiving(provider, inbound)
        if receiving is None:
            self.intake.rejected(provider, Refusal.NOT_FOUND.value, tenant=None)
            return _NOT_FOUND
        match receiving.receiver.receive(inbound, now=self.clock()):
            case Accepted(batch=batch):
                return await self._commit(batch, receiving.tenant)
            case Challenge(answer=answer):
                return Reply(200, answer.encode(), _TEXT)
            case Rejected() as rejected:
                _log_rejection(provider.value, rejected, inbound)
                self.intake.rejected(provider, rejected.reason.value, tenant=receiving.tenant)
                return _error(STATUS[rejected.reason], rejected.detail)
            case unexpected:
                assert_never(unexpected)

    async def _commit(self, batch: WebhookBatch, tenant: str | None) -> Reply:
        source = self.provider.value
        try:
            await self.intake.receive(batch, source=source, tenant=tenant)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            # Not committed → not acknowledged: the provider will deliver it again.
            log.error("webhook.store_failed", source=source, error_type=type(exc).__name__)
            return _UNAVAILABLE
        return ACK


def _log_rejection(source: str, verdict: Rejected, request: InboundRequest) -> None:
    if verdict.reason is Refusal.MALFORMED:
        log.warning("webhook.rejected", source=source, reason=verdict.cause, size=len(request.body))
    else:
        log.warning("webhook.rejected", source=source, reason=verdict.cause)


# ------------------------------------------------------------------------- the hot door


@dataclass(frozen=True, slots=True)
class _Route:
    handler: WebhookHandler
    methods: frozenset[str]
    pattern: re.Pattern[str] | None  # None: the path has no parameters


_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


def _compile(path: str) -> re.Pattern[str] | None:
    """A route template as Starlette matches it: each `{name}` is one non-empty segment."""
    if not _PARAM.search(path):
        return None
    parts = _PARAM.split(path)  # literal, name, literal, name, …, literal
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


@dataclass
class WebhookRoutes:
    """The configured webhook routes, answered straight from ASGI (see the module doc)."""

    endpoints: WebhookEndpoints
    clock: Callable[[], datetime]
    _exact: dict[str, _Route] = field(init=False, default_factory=dict)
    _templated: list[_Route] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        for provider, route in self.endpoints.routes:
            compiled = _Route(
                WebhookHandler(provider, self.endpoints.intake, self.clock),
                frozenset(m.upper() for m in route.methods),
                _compile(route.path),
            )
            if compiled.pattern is None:
                self._exact.setdefault(route.path, compiled)
            else:
                self._templated.append(compiled)

    def find(self, scope: Scope) -> tuple[WebhookHandler, dict[str, str]] | None:
        """The handler for this request and its path parameters; None when it is not a
        webhook route or not one of its methods (FastAPI answers those)."""
        path: str = scope["path"]
        method: str = scope["method"]
        route = self._exact.get(path)
        if route is not None:
            return (route.handler, {}) if method in route.methods else None
        for route in self._templated:
            assert route.pattern is not None
            found = route.pattern.match(path)
            if found is not None:
                return (route.handler, found.groupdict()) if method in route.methods else None
        return None

    async def serve(
        self,
        handler: WebhookHandler,
        path_params: dict[str, str],
        scope: Scope,
        body: bytes,
        send: Send,
    ) -> None:
        inbound = await _inbound_from_scope(scope, path_params, body)
        reply = await handler.answer(inbound)
        await reply.send(send)


async def _inbound_from_scope(
    scope: Scope, path_params: dict[str, str], body: bytes
) -> InboundRequest:
    """The request as the port's plain value, read from the scope as Starlette would."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    raw_query: bytes = scope.get("query_string", b"")
    query = (
        dict(parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True)) if raw_query else {}
    )
    content_type = headers.get("content-type", "")
    form = None
    if _is_form(content_type):
        form = await _form(Request(scope, _replay(body)))
    client = scope.get("client")
    return InboundRequest(
        method=scope["method"],
        path_params=path_params,
        query=query,
        headers=headers,
        body=body,
        form=form,
        client=client[0] if client else None,
    )


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


# ------------------------------------------------------------------ the FastAPI door

Handler = Callable[[Request], Awaitable[Response]]


def webhook_router(*, endpoints: WebhookEndpoints, clock: Callable[[], datetime]) -> APIRouter:
    router = APIRouter()
    for provider, route in endpoints.routes:
        router.add_api_route(
            route.path,
            _endpoint(WebhookHandler(provider, endpoints.intake, clock)),
            methods=list(route.methods),
            include_in_schema=False,
        )
    return router


def _endpoint(handler: WebhookHandler) -> Handler:
    async def handle(request: Request) -> Response:
        reply = await handler.answer(await _inbound(request))
        return reply.response()

    return handle


async def _inbound(request: Request) -> InboundRequest:
    """The request as the port's plain value (the body limit middleware has already read it)."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers.setdefault(name.lower(), value)
    body = await request.body()
    form = await _form(request) if _is_form(headers.get("content-type", "")) else None
    return InboundRequest(
        method=request.method,
        path_params={k: str(v) for k, v in request.path_params.items()},
        query=dict(request.query_params),
        headers=headers,
        body=body,
        form=form,
        client=request.client.host if request.client else None,
    )


def _is_form(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() in _FORMS


async def _form(request: Request) -> Mapping[str, str] | None:
    """Form fields, for a body sent as a form (files are not fields); None when the form
    cannot be decoded."""
    try:
        form: Any = await request.form()
    except Exception:
        return None
    return {key: value for key, value in form.items() if isinstance(value, str)}
