"""422 answers that can always be written.

FastAPI's validation errors echo the offending input. Input decoded from JSON may hold lone
surrogates (`"\\ud800"` is valid JSON), which cannot be encoded as UTF-8: the default handler
then fails and the caller gets a 500 instead of the 422 it earned.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from wagate.providers.payload import clean_tree


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """The usual 422 body, its strings cleaned so it can be encoded."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": clean_tree(jsonable_encoder(errors))}, status_code=422)
