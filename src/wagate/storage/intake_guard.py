"""What keeps one hostile part of a webhook delivery from costing the rest (issue 10).

Pure helpers of `storage.intake`: which database errors mean "this row" rather than "this
database", how a refused part is set aside, the last cleaning of plain-text parameters, and
which messages may become conversations at all.
"""

from __future__ import annotations

from typing import Any

import psycopg
import structlog

from wagate.domain.messages import (
    InboundMessage,
    OtherEvent,
    StatusUpdate,
)
from wagate.providers.payload import clean, stable_digest

log = structlog.get_logger(__name__)

# SQLSTATE classes that mean "this row", not "this database": data exceptions (22), integrity
# (23) and program limits such as an index entry too large (54). Anything else is a 503.
_ROW_REFUSED_CLASSES = frozenset({"22", "23", "54"})


def row_refused(exc: psycopg.Error) -> bool:
    return (exc.sqlstate or "")[:2] in _ROW_REFUSED_CLASSES


def storable(params: dict[str, Any]) -> dict[str, Any]:
    """The last line of defence for plain-text columns: no NUL, no lone surrogate."""
    return {k: clean(v) if isinstance(v, str) else v for k, v in params.items()}


def set_aside(part: InboundMessage | StatusUpdate | OtherEvent, kind: str, key: Any) -> OtherEvent:
    """A part PostgreSQL refused, as a provider event that keeps its raw payload (sealed)."""
    return OtherEvent(
        provider=part.provider,
        channel_id=None,
        field_name=f"refused_{kind}",
        dedup_key=stable_digest("refused", kind, key, part.raw),
        raw={"raw": part.raw},
    )
