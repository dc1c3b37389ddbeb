"""422 answers that can always be written.

FastAPI's validation errors echo the offending input. Input decoded from JSON may hold lone
surrogates (`"\\ud800"` is valid JSON), which cannot be encoded as UTF-8: the default handler
then fails and the caller gets a 500 instead of the 422 it earned.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def _writable(value: Any) -> Any:
    """`value` with every string made encodable (lone surrogates → "?", NUL dropped)."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    if isinstance(value, dict):
        return {_writable(k): _writable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_writable(v) for v in value]
    return value


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """The usual 422 body, its strings cleaned so it can be encoded."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": _writable(jsonable_encoder(errors))}, status_code=422)
