"""Transport failures shared by the provider clients: did the request leave us or not?"""

from __future__ import annotations

import httpx

from wagate.domain import errors as e

# Failures before the request left us: the provider cannot have it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def transport_error(peer: str, exc: httpx.HTTPError) -> e.TransientSendError:
    """A transport failure as a send error: unknown outcome once the request may have left."""
    if isinstance(exc, _NOT_SENT):
        return e.ProviderUnavailable(f"{peer} unreachable: {type(exc).__name__}")
    if isinstance(exc, httpx.TimeoutException):
        return e.OutcomeUnknown(
            f"{peer} timed out after the request was sent: {type(exc).__name__}"
        )
    return e.OutcomeUnknown(f"{peer} connection failed mid-request: {type(exc).__name__}")
