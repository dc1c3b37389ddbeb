"""The operator API: token protection, health, configuration status without secrets."""

from __future__ import annotations

from tests.e2e.harness import ACCESS_TOKEN, API_TOKEN, APP_SECRET, FONNTE_SECRET, Gateway


def test_the_conversation_api_needs_the_bearer_token(gateway: Gateway) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": API_TOKEN},
        {"Authorization": f"Basic {API_TOKEN}"},
    ):
        assert gateway.http.get("/api/conversations", headers=headers).status_code == 401
        assert gateway.http.get("/api/conversations/1/messages", headers=headers).status_code == 401
    ok = gateway.http.get("/api/conversations", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "application/json"


def test_an_unknown_conversation_is_a_404(gateway: Gateway) -> None:
    response = gateway.http.get(
        "/api/conversations/999999999/messages", headers={"Authorization": f"Bearer {API_TOKEN}"}
    )
    assert response.status_code == 404


def test_health_reports_status_timestamp_and_active_sessions(gateway: Gateway) -> None:
    response = gateway.http.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert isinstance(body["activeSessions"], int)
    assert body["timestamp"].endswith("+00:00")


def test_status_shows_booleans_and_never_a_secret(gateway: Gateway) -> None:
    response = gateway.http.get("/api/whatsapp/status")
    assert response.status_code == 200
    text = response.text
    for secret in (
        APP_SECRET,
        ACCESS_TOKEN,
        API_TOKEN,
        FONNTE_SECRET,
        "e2e-verify-token",
        "200000000000001",
    ):
        assert secret not in text
    body = response.json()
    assert body["meta"]["configured"] is True
    assert body["fonnte"]["configured"] is True
    assert body["sandbox"] is False
    assert body["apiToken"] is True and body["apiTokenSource"] == "environment"
    assert body["database"] == {"embedded": False, "reachable": True}
    # Issue 13 (the seed's name): whether a knowledge base answers, and how much it holds.
    assert isinstance(body["knowledgeBaseLoaded"], bool)
    assert set(body["knowledgeBase"]) == {"documents", "chunks"}


def test_secrets_never_reach_the_log(gateway: Gateway) -> None:
    log = gateway.log()
    for secret in (APP_SECRET, ACCESS_TOKEN, API_TOKEN, FONNTE_SECRET, "e2e-verify-token"):
        assert secret not in log
