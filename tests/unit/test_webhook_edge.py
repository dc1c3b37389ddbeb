"""The web edge routes each configured provider's webhook routes to its adapter and only maps
verdicts to HTTP: 200 after the commit, the challenge as text, refusals to their status codes,
503 when the batch cannot be stored. Every case runs through both doors: the hot one
(`Edge` + `WebhookRoutes`, before FastAPI) and FastAPI's own route."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wagate.domain.messages import Provider, WebhookBatch
from wagate.domain.provider_port import (
    Accepted,
    Challenge,
    InboundRequest,
    Refusal,
    Rejected,
    Verdict,
    WebhookReceiver,
    WebhookRoute,
)
from wagate.pipeline.inbound_routing import Receiving
from wagate.pipeline.ports import IntakeResult
from wagate.web.middleware import Edge
from wagate.web.webhooks import WebhookEndpoints, WebhookRoutes, webhook_router

NOW = datetime(2031, 5, 6, tzinfo=UTC)
ECHO = Provider("echo")


class Scripted:
    """Answers every request with `verdict` and keeps what it was given."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        self.seen: list[InboundRequest] = []

    def receive(self, request: InboundRequest, *, now: datetime) -> Verdict:
        assert now == NOW
        self.seen.append(request)
        return self.verdict


class Intake:
    """Receives with `adapter` for the tenant the URL's key names ("k-other" → "other"),
    and keeps what it was asked to store."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.adapter: WebhookReceiver | None = None
        self.received: list[tuple[WebhookBatch, str]] = []
        self.tenants: list[str | None] = []
        self.rejections: list[tuple[str, str, str | None]] = []

    def receiving(self, provider: Provider, request: InboundRequest) -> Receiving | None:
        if provider is not ECHO or self.adapter is None:
            return None
        key = request.path_params.get("key", "")
        return Receiving(self.adapter, key.removeprefix("k-") if key.startswith("k-") else None)

    async def receive(
        self, batch: WebhookBatch, *, source: str, tenant: str | None
    ) -> IntakeResult:
        if self.error is not None:
            raise self.error
        self.received.append((batch, source))
        self.tenants.append(tenant)
        return IntakeResult()

    def rejected(self, provider: Provider, reason: str, *, tenant: str | None) -> None:
        self.rejections.append((provider.value, reason, tenant))


DOOR = "hot"


@pytest.fixture(autouse=True, params=["hot", "fastapi"])
def door(request: pytest.FixtureRequest) -> Iterator[str]:
    """Which door `client` builds: the edge's hot door, or FastAPI's route alone."""
    global DOOR
    DOOR = request.param
    yield request.param
    DOOR = "hot"


def client(adapter: Scripted, intake: Intake) -> TestClient:
    intake.adapter = adapter
    endpoints = WebhookEndpoints(
        routes=((ECHO, WebhookRoute(path="/hook/{key}", methods=("GET", "POST"))),),
        intake=intake,
    )
    app = FastAPI()
    app.include_router(webhook_router(endpoints=endpoints, clock=lambda: NOW))
    if DOOR == "fastapi":
        return TestClient(app)
    routes = WebhookRoutes(endpoints, lambda: NOW)
    return TestClient(Edge(app, max_bytes=1 << 20, webhooks=routes))


def test_an_accepted_batch_is_committed_then_acknowledged() -> None:
    batch = WebhookBatch()
    adapter, intake = Scripted(Accepted(batch=batch)), Intake()
    response = client(adapter, intake).post(
        "/hook/k1?a=1&a=2", content=b'{"x":1}', headers={"X-Thing": "v", "Content-Type": "text/x"}
    )
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert intake.received == [(batch, "echo")]
    [seen] = adapter.seen
    assert (seen.method, seen.body, seen.path_params, seen.query) == (
        "POST",
        b'{"x":1}',
        {"key": "k1"},
        {"a": "2"},
    )
    assert seen.headers["x-thing"] == "v" and seen.form is None and seen.client


def test_a_form_body_reaches_the_adapter_decoded() -> None:
    adapter = Scripted(Accepted(batch=WebhookBatch()))
    client(adapter, Intake()).post("/hook/k", data={"sender": "628", "message": "halo é"})
    assert adapter.seen[0].form == {"sender": "628", "message": "halo é"}


def test_a_challenge_is_answered_as_plain_text_and_nothing_is_stored() -> None:
    intake = Intake()
    response = client(Scripted(Challenge(answer="1158201444")), intake).get("/hook/k")
    assert response.status_code == 200 and response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")
    assert intake.received == []


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        (Refusal.NOT_FOUND, 404),
        (Refusal.UNSIGNED, 401),
        (Refusal.FORGED, 403),
        (Refusal.SOURCE_NOT_ALLOWED, 403),
        (Refusal.MALFORMED, 400),
    ],
)
def test_a_refusal_becomes_its_status_code(reason: Refusal, status: int) -> None:
    intake = Intake()
    verdict = Rejected(reason=reason, detail="told", cause="why")
    response = client(Scripted(verdict), intake).post("/hook/k-firm-a", content=b"x")
    assert (response.status_code, response.json()) == (status, {"detail": "told"})
    assert intake.received == []
    # Counted for the metrics, under the tenant whose URL it used.
    assert intake.rejections == [("echo", reason.value, "firm-a")]


@pytest.mark.parametrize("error", [psycopg.OperationalError("down"), OSError(), TimeoutError()])
def test_a_batch_that_cannot_be_stored_is_a_503(error: Exception) -> None:
    response = client(Scripted(Accepted(batch=WebhookBatch())), Intake(error)).post("/hook/k")
    assert response.status_code == 503


def test_the_receiving_tenant_reaches_the_intake() -> None:
    intake = Intake()
    test = client(Scripted(Accepted(batch=WebhookBatch())), intake)
    assert test.post("/hook/k-firm-a").status_code == 200
    assert test.post("/hook/plain").status_code == 200
    assert intake.tenants == ["firm-a", None]


def test_a_request_nobody_receives_is_a_404() -> None:
    intake = Intake()
    test = client(Scripted(Accepted(batch=WebhookBatch())), intake)
    intake.adapter = None
    assert test.post("/hook/k").status_code == 404
    assert intake.received == []
    assert intake.rejections == [("echo", "not_found", None)]


def test_only_the_configured_routes_exist() -> None:
    test = client(Scripted(Accepted(batch=WebhookBatch())), Intake())
    assert test.post("/webhook/whatsapp").status_code == 404
    assert test.put("/hook/k").status_code == 405


def test_the_hot_door_answers_before_the_application_and_only_its_routes() -> None:
    reached: list[str] = []

    async def application(scope: Any, receive: Any, send: Any) -> None:
        reached.append(f"{scope['method']} {scope['path']}")
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    intake = Intake()
    intake.adapter = Scripted(Accepted(batch=WebhookBatch()))
    endpoints = WebhookEndpoints(
        routes=((ECHO, WebhookRoute(path="/hook/{key}", methods=("POST",))),), intake=intake
    )
    edge = TestClient(
        Edge(application, max_bytes=1 << 20, webhooks=WebhookRoutes(endpoints, lambda: NOW))
    )
    answered = edge.post("/hook/k-firm-a?x=1", content=b"{}")
    assert answered.status_code == 200 and answered.json() == {"status": "ok"}
    assert answered.headers["x-content-type-options"] == "nosniff"
    assert answered.headers["content-type"] == "application/json"
    assert intake.tenants == ["firm-a"]
    # Another method, a longer path, another path: all the application's.
    assert edge.get("/hook/k").status_code == 299
    assert edge.post("/hook/k/more").status_code == 299
    assert edge.post("/hooks").status_code == 299
    assert reached == ["GET /hook/k", "POST /hook/k/more", "POST /hooks"]


def test_the_hot_door_keeps_the_body_limit() -> None:
    intake = Intake()
    intake.adapter = Scripted(Accepted(batch=WebhookBatch()))
    endpoints = WebhookEndpoints(
        routes=((ECHO, WebhookRoute(path="/hook/{key}", methods=("POST",))),), intake=intake
    )
    edge = TestClient(Edge(FastAPI(), max_bytes=10, webhooks=WebhookRoutes(endpoints, lambda: NOW)))
    assert edge.post("/hook/k", content=b"x" * 11).status_code == 413
    assert edge.post("/hook/k", content=b"x" * 10).status_code == 200
    assert len(intake.received) == 1
