"""Failures of an OpenAI-compatible endpoint, named as the OpenAI SDK names them
(`APITimeoutError`, `RateLimitError`, `NotFoundError` …): the names operators search for, kept
in logs and messages after the SDK itself was replaced by wagate's lean HTTP client."""

from __future__ import annotations

import httpx

# An error status's name; any other 4xx is an "APIStatusError", any 5xx "InternalServerError".
_STATUS_ERRORS = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
}


class StatusError(Exception):
    """The endpoint answered an error status."""

    def __init__(self, status_code: int) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code


class InvalidResponse(Exception):
    """A success status whose body is not what the endpoint documents."""


# What a call to the endpoint may raise (besides the caller's own refusals).
ENDPOINT_ERRORS = (httpx.HTTPError, StatusError, InvalidResponse)


def classify(exc: Exception) -> tuple[str, str]:
    """(the SDK's name for it, a reason: timeout | connection | rate_limited | server_error |
    rejected | invalid_response)."""
    if isinstance(exc, httpx.TimeoutException):
        return "APITimeoutError", "timeout"
    if isinstance(exc, httpx.HTTPError):
        return "APIConnectionError", "connection"
    if isinstance(exc, StatusError):
        if exc.status_code >= 500:
            return "InternalServerError", "server_error"
        name = _STATUS_ERRORS.get(exc.status_code, "APIStatusError")
        return name, "rate_limited" if exc.status_code == 429 else "rejected"
    return "APIResponseValidationError", "invalid_response"


def worth_one_retry(exc: Exception) -> bool:
    """What the SDK retried: no answer, 408, 409, 429 and 5xx."""
    if isinstance(exc, StatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return isinstance(exc, httpx.HTTPError)
