"""The OpenAI-compatible embedder against the fake OpenAI server over real HTTP on loopback."""

from __future__ import annotations

import math

import httpx
import pytest

from tests.contract.conftest import serve
from wagate.assistants.embeddings import EmbeddingUnavailable, OpenAICompatibleEmbedder
from wagate.fakes.openai import EMBEDDING_DIMENSIONS, FakeOpenAI


async def test_texts_get_one_unit_vector_each_in_order_across_batches() -> None:
    fake = FakeOpenAI(api_key="k")
    async with serve(fake.app) as url:
        embedder = OpenAICompatibleEmbedder(
            base_url=f"{url}/v1", api_key="k", model="fake-embed", batch_size=2
        )
        texts = ["syarat cerai", "pesangon phk", "syarat cerai", ""]
        vectors = await embedder.embed(texts)
        await embedder.close()
    assert len(vectors) == 4
    assert all(len(v) == EMBEDDING_DIMENSIONS for v in vectors)
    assert vectors[0] == vectors[2] != vectors[1]
    assert math.isclose(sum(x * x for x in vectors[0]), 1.0, rel_tol=1e-6)
    asked = [r for r in fake.recorder.listing("embeddings")]
    assert [len(r["body"]["input"]) for r in asked] == [2, 2]  # batches of two


async def test_a_failing_endpoint_is_an_embedding_unavailable() -> None:
    fake = FakeOpenAI(api_key="k")
    async with serve(fake.app) as url:
        wrong_key = OpenAICompatibleEmbedder(base_url=f"{url}/v1", api_key="x", model="m")
        with pytest.raises(EmbeddingUnavailable, match="AuthenticationError"):
            await wrong_key.embed(["a"])
        async with httpx.AsyncClient(base_url=url) as control:
            failing = {"http_status": 500, "times": 5}
            (await control.post("/_fake/fail", json=failing)).raise_for_status()
        embedder = OpenAICompatibleEmbedder(base_url=f"{url}/v1", api_key="k", model="m")
        with pytest.raises(EmbeddingUnavailable):
            await embedder.embed(["a"])
    with pytest.raises(ValueError, match="AI_EMBEDDING_MODEL"):
        OpenAICompatibleEmbedder(base_url=url, api_key="", model=" ")


async def test_one_failed_batch_is_retried_once_as_the_sdk_did() -> None:
    fake = FakeOpenAI(api_key="k")
    async with serve(fake.app) as url:
        async with httpx.AsyncClient(base_url=url) as control:
            once = {"http_status": 503, "times": 1}
            (await control.post("/_fake/fail", json=once)).raise_for_status()
        embedder = OpenAICompatibleEmbedder(base_url=f"{url}/v1", api_key="k", model="m")
        vectors = await embedder.embed(["syarat cerai"])
        await embedder.close()
    assert len(vectors) == 1 and len(vectors[0]) == EMBEDDING_DIMENSIONS
    assert [r.get("failed") for r in fake.recorder.listing("embeddings")] == [503, None]
