"""What can go wrong when we ask a provider to send, as types (retryability is a type).

Providers translate their own error bodies into these at the boundary; the pipeline decides by
class, never by HTTP status or vendor code.
"""

from __future__ import annotations


class SendError(Exception):
    """A provider refused or failed a request."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientSendError(SendError):
    """Worth trying again later; `retry_after` (seconds) is the provider's hint, if it gave one."""

    def __init__(
        self, message: str, *, code: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class RateLimited(TransientSendError):
    """Throughput limit of the business number (Meta 130429, app limits 4 / 80007)."""


class PairRateLimited(TransientSendError):
    """Too many messages to the same user in a short time (Meta 131056): slow this pair down."""


class ProviderUnavailable(TransientSendError):
    """Timeouts, connection errors, 5xx, generic 131000/131016/131057."""


class OutcomeUnknown(ProviderUnavailable):
    """The request was sent but no answer came (read timeout, connection lost mid-answer): the
    provider may have accepted it. Resending risks a duplicate, not resending risks a loss; the
    pipeline first waits for a status webhook that names our idempotency key (OU9)."""


class DeviceDisconnected(TransientSendError):
    """Fonnte's linked phone is offline: the whole device is paused, not the message."""


class PermanentSendError(SendError):
    """Trying again will not help; the message needs another path or a human."""


class AuthenticationFailed(PermanentSendError):
    """Token expired or revoked (Meta 190, 0; Fonnte `token invalid`): the tenant is degraded."""


class PermissionDenied(PermanentSendError):
    """The token lacks a permission (Meta 10, 200-299) or the account is blocked."""


class WindowClosed(PermanentSendError):
    """More than 24 h since the user last wrote (Meta 131047, legacy 470): needs a template."""


class RecipientUnreachable(PermanentSendError):
    """Not a WhatsApp user, invalid target, user opted out of marketing (131026, 131050…)."""


class InvalidRequest(PermanentSendError):
    """Our request was wrong (parameters, template mismatch): a bug or a configuration issue."""


class QuotaExhausted(PermanentSendError):
    """The account has no quota or payment method (Fonnte `insufficient quota`, Meta 131042)."""


# The error class of a failed send, for `whatsapp_error_total`: most specific first, so a
# provider's own subclass (a plugin's) is counted under the class it refines. A closed set of
# words: a label must never take an unbounded value.
_CLASSES: tuple[tuple[type[SendError], str], ...] = (
    (OutcomeUnknown, "outcome_unknown"),
    (PairRateLimited, "pair_rate_limited"),
    (RateLimited, "rate_limited"),
    (DeviceDisconnected, "device_disconnected"),
    (ProviderUnavailable, "unavailable"),
    (TransientSendError, "transient"),
    (AuthenticationFailed, "auth"),
    (PermissionDenied, "permission"),
    (WindowClosed, "window_closed"),
    (RecipientUnreachable, "recipient_unreachable"),
    (InvalidRequest, "invalid_request"),
    (QuotaExhausted, "quota"),
    (PermanentSendError, "permanent"),
)


def error_class(error: SendError) -> str:
    """`unavailable` is the network or the provider's servers (timeouts, 5xx); the permanent
    classes are refusals of the request itself (4xx-like); the rest name what went wrong."""
    for kind, name in _CLASSES:
        if isinstance(error, kind):
            return name
    return "other"
