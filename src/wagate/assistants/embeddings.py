"""Embeddings over an OpenAI-compatible /embeddings endpoint (issue 13: optional vector search).

Used by the knowledge base when `AI_EMBEDDING_MODEL` is set, on the same `AI_BASE_URL` and key
as the assistant. Texts go in batches (endpoints cap the inputs per request); every failure is
an `EmbeddingUnavailable`, which the knowledge base treats as "search by words alone this
time". Log events carry counts and error classes, never the texts.
"""

from __future__ import annotations

from collections.abc import Sequence

import openai
import structlog

log = structlog.get_logger(__name__)

_NO_KEY = "no-key"  # local servers need none; the SDK refuses to start without one


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
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or _NO_KEY,
            timeout=timeout_seconds,
            max_retries=1,
        )

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = [t if t.strip() else " " for t in texts[start : start + self._batch_size]]
            try:
                response = await self._client.embeddings.create(model=self.model, input=batch)
            except openai.OpenAIError as error:
                log.warning("embeddings.failed", model=self.model, error=type(error).__name__)
                raise EmbeddingUnavailable(f"embeddings failed: {type(error).__name__}") from error
            ordered = sorted(response.data, key=lambda item: item.index)
            if len(ordered) != len(batch):
                raise EmbeddingUnavailable(f"asked for {len(batch)} embeddings, got {len(ordered)}")
            vectors.extend(list(item.embedding) for item in ordered)
        return vectors

    async def close(self) -> None:
        await self._client.close()
