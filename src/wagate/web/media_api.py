"""Files people sent, for operators (MD1): a conversation's files, and a file's download —
streamed from the object store through the chunk opener, never read whole into memory. The
operator service checks the role (READ) and records every download (`media.downloaded`).

A download is offered as an attachment with the type the bytes really are, `nosniff` and a
sandboxing content policy: a browser never renders a file a client sent as part of the
gateway's pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path
from fastapi.responses import StreamingResponse

from wagate.web.admin_api import OperatorRoute
from wagate.web.api import MAX_BIGINT
from wagate.web.scope import Caller

# One Path per parameter: FastAPI binds a Path's field to the first name it is used under.
CONVERSATION_ID = Path(ge=1, le=MAX_BIGINT)
MEDIA_ID = Path(ge=1, le=MAX_BIGINT)


def download_headers(filename: str, size: int) -> dict[str, str]:
    """Headers that make a browser save the file, never show it (`nosniff` is added to every
    response by the web middleware)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return {
        "Content-Disposition": (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
        ),
        "Content-Length": str(size),
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "no-store",
    }


def media_router(*, scope: Callable[..., Awaitable[Caller]]) -> APIRouter:
    router = APIRouter(prefix="/api", route_class=OperatorRoute)
    caller = Depends(scope)

    @router.get("/conversations/{conversation_id}/media")
    async def list_media(
        conversation_id: int = CONVERSATION_ID, who: Caller = caller
    ) -> dict[str, Any]:
        """The conversation's files: kind, status (stored, refused, failed, pending), the
        problem that kept one, the sniffed type, size and the sender's file name."""
        return await who.services.operator.media.list(conversation_id, by=who.actor)

    @router.get(
        "/media/{media_id}",
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "The file, as an attachment, with the type its bytes really are",
                "content": {"application/octet-stream": {}},
            }
        },
    )
    async def download(media_id: int = MEDIA_ID, who: Caller = caller) -> StreamingResponse:
        """The file as the person sent it (decrypted on the way out); audited."""
        stored = await who.services.operator.media.download(media_id, by=who.actor)
        return StreamingResponse(
            stored.chunks,
            media_type=stored.mime_type,
            headers=download_headers(stored.filename, stored.size),
        )

    return router
