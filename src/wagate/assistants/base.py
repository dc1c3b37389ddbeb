"""The assistant port, defined in the domain (`wagate.domain.assistant_port`); re-exported here
for the adapters beside it."""

from __future__ import annotations

from wagate.domain.assistant_port import Assistant

__all__ = ["Assistant"]
