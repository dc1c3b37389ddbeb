"""One operator service for every door (API, CLI, later the console): see `service`.

`OperatorService` is imported on first use (PEP 562): the command line names actors and
errors at import time, and `wagate --help` should not pay for loading every service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wagate.pipeline.operator.actor import API, CLI, Actor
from wagate.pipeline.operator.errors import (
    Conflict,
    Forbidden,
    InvalidReference,
    NotFound,
    OperatorError,
    Rejected,
    Unavailable,
)

if TYPE_CHECKING:
    from wagate.pipeline.operator.service import OperatorService

__all__ = [
    "API",
    "CLI",
    "Actor",
    "Conflict",
    "Forbidden",
    "InvalidReference",
    "NotFound",
    "OperatorError",
    "OperatorService",
    "Rejected",
    "Unavailable",
]


def __getattr__(name: str) -> Any:
    if name == "OperatorService":
        from wagate.pipeline.operator.service import OperatorService

        return OperatorService
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
