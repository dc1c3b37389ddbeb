"""Embeddings over an OpenAI-compatible /embeddings endpoint (issue 13: optional vector search).

Used by the knowledge base when `AI_EMBEDDING_MODEL` is set, on the same `AI_BASE_URL` and key
as the assistant. Texts go in batches (endpoints cap the inputs per request); every failure is
an `EmbeddingUnavailable`, which the knowledge base treats as "search by words alone this
time". One retry of a batch that got no answer, 408, 409, 429 or 5xx (what the OpenAI SDK did
before wagate's lean HTTP client replaced it). Log events carry counts and error classes,
never the texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import structlog

from wagate.assistants.openai_errors import (
    ENDPOINT_ERRORS,
    InvalidResponse,
    StatusError,
    classify,
    worth_one_retry,
)
from wagate.http_client import http_client

log = structlog.get_logger(__name__)

_NO_KEY = "no-key"  # local servers need none; some refuse a request without any


class EmbeddingUnavailable(Exception):
    """The endpoint did not give one vector per text."""


class OpenAICompatibleEmbedder:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout_seconds: float = 30.0,
        batch_size: int = 64,
    ) -> None:
        if not model.strip():
            raise ValueError("OpenAICompatibleEmbedder needs a model name (AI_EMBEDDING_MODEL)")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.model = model
        self._batch_size = batch_size
        self._http = http_client(
            base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {api_key or _NO_KEY}"},
            timeout=timeout_seconds,
        )

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = [t if t.strip() else " " for t in texts[start : start + self._batch_size]]
            try:
                try:
                    found = await self._batch(batch)
                except ENDPOINT_ERRORS as first:
                    if not worth_one_retry(first):
                        raise
                    found = await self._batch(batch)
            except ENDPOINT_ERRORS as error:
                name = classify(error)[0]
                log.warning("embeddings.failed", model=self.model, error=name)
                raise EmbeddingUnavailable(f"embeddings failed: {name}") from error
            if len(found) != len(batch):
                raise EmbeddingUnavailable(f"asked for {len(batch)} embeddings, got {len(found)}")
            vectors.extend(found)
        return vectors

    async def close(self) -> None:
        await self._http.aclose()

    async def _batch(self, batch: list[str]) -> list[list[float]]:
        """One request: the vectors in the order of `batch` (the answer says each one's index)."""
        body = orjson.dumps({"model": self.model, "input": batch})
        response = await self._http.request(
            "POST", "embeddings", content=body, content_type="application/json"
        )
        if not response.is_success:
            raise StatusError(response.status_code)
        try:
            data: Any = orjson.loads(response.content)["data"]
            ordered = sorted(data, key=lambda item: int(item["index"]))
            return [[float(x) for x in item["embedding"]] for item in ordered]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InvalidResponse(type(exc).__name__) from exc
