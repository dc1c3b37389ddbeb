"""One operator service for every door (API, CLI, later the console): see `service`."""

from wagate.pipeline.operator.actor import API, CLI, Actor
from wagate.pipeline.operator.errors import (
    Conflict,
    Forbidden,
    InvalidReference,
    NotFound,
    OperatorError,
    Rejected,
)
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
]
