"""The one error a source can give: what went wrong, said so an operator can fix it."""

from __future__ import annotations


class SourceError(Exception):
    """This source cannot be read; `str(error)` says why (shown in reports, CLI and API)."""
