"""The provider port lives in the domain (`wagate.domain.provider_port`) so adapters, including
plugins, import only the domain; these names stay importable from here for existing callers."""

from __future__ import annotations

from wagate.domain.provider_port import (
    CredentialCheck,
    MessagingProvider,
    ProviderAdapter,
    SentMessage,
)

__all__ = ["CredentialCheck", "MessagingProvider", "ProviderAdapter", "SentMessage"]
