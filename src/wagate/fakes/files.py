"""Files a fake provider holds for the gateway to download (inbound media), shared by the fake
Graph API and the fake Fonnte.

A file is registered with its bytes, or with a head and a size (the rest a repeated filler,
generated as it is sent: a 100 MB test file costs no memory), and handed out through links
that can expire: `expire_first` links are dead on arrival (Meta's five-minute link that lapsed
before it was used), `link_seconds` bounds the others.

    POST /_fake/media {"id"?, "data_b64" | ("head_b64", "size", "fill"), "mime_type",
                       "announce_size"?: int|null, "expire_first"?: 0, "link_seconds"?: 300,
                       "status"?: 200}
         → {"id", "size", "sha256"}
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response, StreamingResponse

PIECE = 256 * 1024
_ids = itertools.count(4_000_000_000_000_001)


@dataclass(kw_only=True)
class FakeFile:
    id: str
    head: bytes
    size: int
    fill: bytes
    mime_type: str
    announce_size: int | None
    expire_first: int = 0
    link_seconds: float = 300.0
    status: int = 200  # what a download answers (e.g. 500: the file server fails)
    links: int = 0
    sha256: str = ""

    def pieces(self) -> AsyncIterator[bytes]:
        async def generate() -> AsyncIterator[bytes]:
            yield self.head[: self.size]
            sent = min(len(self.head), self.size)
            while sent < self.size:
                piece = (self.fill * (PIECE // max(1, len(self.fill)) + 1))[
                    : min(PIECE, self.size - sent)
                ]
                sent += len(piece)
                yield piece

        return generate()


@dataclass
class FakeFiles:
    files: dict[str, FakeFile] = field(default_factory=dict)
    links: dict[str, tuple[str, float]] = field(default_factory=dict)  # token → (id, expires)

    def register(self, spec: dict[str, Any]) -> FakeFile:
        if "data_b64" in spec:
            head = base64.b64decode(spec["data_b64"])
            size = len(head)
        else:
            head = base64.b64decode(spec.get("head_b64", ""))
            size = int(spec.get("size", len(head)))
        fill = str(spec.get("fill", "x")).encode() or b"x"
        announce = spec.get("announce_size", size)
        file = FakeFile(
            id=str(spec.get("id") or next(_ids)),
            head=head,
            size=size,
            fill=fill,
            mime_type=str(spec.get("mime_type", "application/octet-stream")),
            announce_size=int(announce) if announce is not None else None,
            expire_first=int(spec.get("expire_first", 0)),
            link_seconds=float(spec.get("link_seconds", 300.0)),
            status=int(spec.get("status", 200)),
        )
        if size <= 32 * 1024 * 1024:
            digest = hashlib.sha256(head[:size])
            remaining = size - min(len(head), size)
            block = fill * (PIECE // len(fill) + 1)
            while remaining > 0:
                piece = block[: min(PIECE, remaining)]
                digest.update(piece)
                remaining -= len(piece)
            file.sha256 = digest.hexdigest()
        self.files[file.id] = file
        return file

    def hold(self, data: bytes, mime_type: str, sha256: str) -> FakeFile:
        """A file uploaded to the fake, held as it came (its digest computed by the caller)."""
        file = FakeFile(
            id=str(next(_ids)),
            head=data,
            size=len(data),
            fill=b"x",
            mime_type=mime_type,
            announce_size=len(data),
            sha256=sha256,
        )
        self.files[file.id] = file
        return file

    def link(self, file: FakeFile) -> str:
        """A new download token; the first `expire_first` are expired already."""
        file.links += 1
        expired = file.links <= file.expire_first
        token = secrets.token_urlsafe(12)
        self.links[token] = (file.id, 0.0 if expired else time.time() + file.link_seconds)
        return token

    def download(self, token: str) -> Response:
        found = self.links.get(token)
        if found is None or found[1] < time.time():
            return Response(status_code=404)
        file = self.files.get(found[0])
        if file is None:
            return Response(status_code=404)
        if file.status != 200:
            return Response(status_code=file.status)
        return StreamingResponse(
            file.pieces(),
            media_type=file.mime_type,
            headers={"Content-Length": str(file.size)},
        )

    def summary(self, file: FakeFile) -> dict[str, Any]:
        return {"id": file.id, "size": file.size, "sha256": file.sha256}
