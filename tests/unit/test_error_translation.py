"""Provider error bodies → our error types (meta-cloud-api.md §9, fonnte.md §1.4): the pipeline
decides by class, so the class is the contract; retryability is `TransientSendError`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from wagate.domain import errors as e
from wagate.providers.fonnte import client as fonnte
from wagate.providers.meta.errors import retry_after_seconds, translate

DATA = Path(__file__).parent.parent / "data" / "payloads"


def body(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return loaded


def graph_error(code: Any) -> dict[str, Any]:
    return {"error": {"message": f"(#{code}) test", "type": "OAuthException", "code": code}}


# ---------------------------------------------------------------- Meta, golden bodies


@pytest.mark.parametrize(
    ("name", "http_status", "kind", "transient"),
    [
        ("meta-error-190.json", 401, e.AuthenticationFailed, False),
        ("meta-error-190.json", 400, e.AuthenticationFailed, False),  # some clients see 400
        ("meta-error-131047.json", 400, e.WindowClosed, False),
        ("meta-error-130429.json", 400, e.RateLimited, True),
        ("meta-error-131056.json", 400, e.PairRateLimited, True),
    ],
)
def test_golden_error_body_translates_by_code(
    name: str, http_status: int, kind: type[e.SendError], transient: bool
) -> None:
    raw = body(name)
    error = translate(http_status, raw)
    assert type(error) is kind
    assert isinstance(error, e.TransientSendError) is transient
    assert isinstance(error, e.PermanentSendError) is not transient
    assert error.code == str(raw["error"]["code"])
    assert str(error) == raw["error"]["message"]


@pytest.mark.parametrize("name", ["meta-error-130429.json", "meta-error-131056.json"])
def test_retry_after_is_passed_through_on_throttling(name: str) -> None:
    error = translate(400, body(name), retry_after=12.5)
    assert isinstance(error, e.TransientSendError)
    assert error.retry_after == 12.5


def test_retry_after_defaults_to_none() -> None:
    error = translate(400, body("meta-error-130429.json"))
    assert isinstance(error, e.TransientSendError) and error.retry_after is None


# ---------------------------------------------------------------- Meta, codes and statuses


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (0, e.AuthenticationFailed),
        (4, e.RateLimited),
        (80007, e.RateLimited),
        (10, e.PermissionDenied),
        (131016, e.ProviderUnavailable),
        (131000, e.ProviderUnavailable),
        (131057, e.ProviderUnavailable),
        (131026, e.RecipientUnreachable),
        (131050, e.RecipientUnreachable),
        (131042, e.QuotaExhausted),
        (368, e.PermissionDenied),
        (470, e.WindowClosed),
    ],
)
def test_documented_codes_from_the_table(code: int, kind: type[e.SendError]) -> None:
    assert type(translate(400, graph_error(code))) is kind


@pytest.mark.parametrize("code", [200, 250, 299, "200"])
def test_permission_codes_200_to_299_are_permission_denied(code: Any) -> None:
    error = translate(403, graph_error(code))
    assert type(error) is e.PermissionDenied


def test_code_given_as_a_string_is_read_as_the_number() -> None:
    assert type(translate(400, graph_error("131056"))) is e.PairRateLimited


@pytest.mark.parametrize("http_status", [500, 503])
@pytest.mark.parametrize("payload", [{}, None, "oops", {"error": "x"}, {"error": {}}])
def test_server_error_without_a_code_is_provider_unavailable(
    http_status: int, payload: Any
) -> None:
    error = translate(http_status, payload, retry_after=3.0)
    assert type(error) is e.ProviderUnavailable
    assert error.retry_after == 3.0
    assert str(http_status) in str(error)


@pytest.mark.parametrize("http_status", [502, 504])
@pytest.mark.parametrize("payload", [{}, None, "oops", {"error": "x"}, {"error": {}}])
def test_a_gateway_error_without_a_code_leaves_the_outcome_unknown(
    http_status: int, payload: Any
) -> None:
    """A proxy gave up waiting for the Graph API, which may have taken the message: resending
    at once could duplicate it, so it is reconciled first (OU9)."""
    error = translate(http_status, payload, retry_after=3.0)
    assert type(error) is e.OutcomeUnknown
    assert error.retry_after == 3.0
    assert str(http_status) in str(error)


def test_a_gateway_error_with_a_graph_code_is_read_by_its_code() -> None:
    assert type(translate(502, graph_error("131000"))) is e.ProviderUnavailable


def test_429_without_a_code_is_provider_unavailable() -> None:
    assert type(translate(429, {})) is e.ProviderUnavailable


def test_401_without_a_code_is_authentication_failed() -> None:
    assert type(translate(401, {})) is e.AuthenticationFailed


def test_403_without_a_code_is_permission_denied() -> None:
    assert type(translate(403, {})) is e.PermissionDenied


@pytest.mark.parametrize("code", [100, 131008, 132000, 132001, 999999])
def test_unknown_or_request_codes_on_4xx_are_permanent_invalid_request(code: int) -> None:
    error = translate(400, graph_error(code))
    assert type(error) is e.InvalidRequest
    assert isinstance(error, e.PermanentSendError)
    assert error.code == str(code)


def test_code_outranks_http_status() -> None:
    # Meta answers throttling as 400 and may answer 131016 as 5xx: the code decides.
    assert type(translate(500, graph_error(131056))) is e.PairRateLimited
    assert type(translate(503, graph_error(190))) is e.AuthenticationFailed


# ---------------------------------------------------------------- Retry-After header


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"RETRY-AFTER": "0"}, 0.0),
        ({"Retry-After": "-4"}, 0.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_header(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(httpx.Headers(headers)) == expected


@pytest.mark.parametrize("value", ["inf", "1e400", "Infinity"])
def test_non_finite_retry_after_is_ignored(value: str) -> None:
    assert retry_after_seconds(httpx.Headers({"Retry-After": value})) is None


# ---------------------------------------------------------------- Fonnte reasons


def test_golden_disconnected_device_reason_is_transient_device_disconnected() -> None:
    reason = body("fonnte-send-error-disconnected.json")["reason"]
    error = fonnte.translate(reason)
    assert type(error) is e.DeviceDisconnected
    assert isinstance(error, e.TransientSendError)


def test_golden_token_invalid_reason_is_authentication_failed() -> None:
    reason = body("fonnte-send-error-token-invalid.json")["reason"]
    error = fonnte.translate(reason)
    assert type(error) is e.AuthenticationFailed
    assert isinstance(error, e.PermanentSendError)


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("target invalid", e.RecipientUnreachable),
        ("insufficient quota", e.QuotaExhausted),
        ("input invalid", e.InvalidRequest),
        ("file size must under 4MB", e.InvalidRequest),
        ("invalid/empty body value", e.InvalidRequest),
        ("Token Invalid", e.AuthenticationFailed),
        ("  token invalid ", e.AuthenticationFailed),
        ("Request invalid on disconnected device", e.DeviceDisconnected),
    ],
)
def test_fonnte_reasons(reason: str, kind: type[e.SendError]) -> None:
    assert type(fonnte.translate(reason)) is kind


@pytest.mark.parametrize("reason", ["something new", "", None])
def test_unknown_fonnte_reason_is_transient_provider_unavailable(reason: str | None) -> None:
    error = fonnte.translate(reason)
    assert type(error) is e.ProviderUnavailable
    assert isinstance(error, e.TransientSendError)
