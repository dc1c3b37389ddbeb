"""An assistant over any OpenAI-compatible chat-completions endpoint, with a model fallback chain.

The official `openai` SDK does the HTTP; its own retries are off because a retry of the same
model would spend the user's waiting time on the model most likely to fail again. Instead each
model in `model, *fallback_models` gets one try within `timeout_seconds`, and the first usable
answer wins. This module is the only place that sees the SDK: its errors become
`AssistantUnavailable` here, and nothing else imports `openai`.

A turn with photos (`ChatTurn.images`) goes first to the vision model (AI_VISION_MODEL) with the
photos as `image_url` content parts (data: URLs); if it fails, the usual chain answers from
the text alone (the photos' OCR text is in the turn). Without a vision model, photos are never
sent.

Log events carry model names, error classes and timings — never message contents.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import openai
import structlog
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionContentPartParam,
    ChatCompletionMessageParam,
)

from wagate.domain.chat import AssistantReply, AssistantUnavailable, ChatImage, ChatTurn, Role

log = structlog.get_logger(__name__)

# Local servers (Ollama, llama.cpp, vLLM) need no key, but the SDK refuses to start without one
# (or silently picks up OPENAI_API_KEY from the environment, which would leak a real key to them).
_NO_KEY = "no-key"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Failure:
    model: str
    error_type: str  # the SDK's exception class, or "EmptyAnswer"
    reason: str  # timeout | connection | server_error | rate_limited | rejected | empty_answer | …


class _EmptyAnswer(Exception):
    """The model answered 200 with nothing to send; the next model may do better."""


class OpenAICompatibleAssistant:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        fallback_models: Sequence[str] = (),
        timeout_seconds: float = 30.0,
        temperature: float | None = None,
        max_tokens: int | None = None,
        http_client: openai.DefaultAsyncHttpxClient | None = None,
        vision_model: str | None = None,
    ) -> None:
        # A model listed twice would only double the wait before giving up.
        self.models = tuple(dict.fromkeys(m for m in (model, *fallback_models) if m.strip()))
        if not self.models:
            raise ValueError("OpenAICompatibleAssistant needs at least one model name")
        self.vision_model = vision_model.strip() if vision_model and vision_model.strip() else None
        self._temperature = temperature
        self._max_tokens = max_tokens
        # A caller that passes its own HTTP client keeps ownership of it (and closes it).
        self._owns_http = http_client is None
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or _NO_KEY,
            timeout=float(timeout_seconds),
            max_retries=0,
            http_client=http_client,
        )

    async def reply(self, turns: Sequence[ChatTurn]) -> AssistantReply:
        if not turns:
            raise ValueError("reply() needs at least one turn")
        messages = [_message(turn) for turn in turns]
        # (model, messages): the vision model with the photos first, when there are any.
        plan = [(model, messages) for model in self.models]
        if self.vision_model is not None and any(turn.images for turn in turns):
            seen = [_message(turn, with_images=True) for turn in turns]
            plan.insert(0, (self.vision_model, seen))
        started = time.monotonic()
        failures: list[_Failure] = []
        for attempt, (model, sent) in enumerate(plan, start=1):
            tried_at = time.monotonic()
            try:
                text = await self._ask(model, sent)
            except (openai.OpenAIError, _EmptyAnswer) as exc:
                failure = _failure(model, exc)
                failures.append(failure)
                # A 4xx other than 429 is a setup problem (model name, key, permissions) that
                # an operator must fix; it still falls through so users keep getting answers.
                level = log.error if failure.reason == "rejected" else log.warning
                level(
                    "assistant.fallback",
                    model=model,
                    attempt=attempt,
                    error_type=failure.error_type,
                    reason=failure.reason,
                    status=getattr(exc, "status_code", None),
                    elapsed_ms=_ms_since(tried_at),
                )
                continue
            log.info(
                "assistant.answered",
                model=model,
                attempts=attempt,
                latency_ms=_ms_since(started),
            )
            return AssistantReply(text=text, model=model, attempts=attempt)
        summary = ", ".join(f"{f.model}: {f.error_type}" for f in failures)
        log.error("assistant.unavailable", attempts=len(failures), latency_ms=_ms_since(started))
        raise AssistantUnavailable(f"no model answered ({summary})")

    async def aclose(self) -> None:
        if self._owns_http:
            await self._client.close()

    async def _ask(self, model: str, messages: list[ChatCompletionMessageParam]) -> str:
        body: dict[str, Any] = {"model": model, "messages": messages}
        if self._temperature is not None:
            body["temperature"] = self._temperature
        if self._max_tokens is not None:
            body["max_tokens"] = self._max_tokens
        # The SDK's own transport, errors and response types, but not `completions.create`:
        # its recursive TypedDict transform of the request walked every history message and
        # was 15% of a worker's CPU (benchmarks/pipeline.py under py-spy). Our messages are
        # already plain JSON of the documented shape.
        completion = await self._client.post("/chat/completions", body=body, cast_to=ChatCompletion)
        content = completion.choices[0].message.content if completion.choices else None
        text = (content or "").strip()
        if not text:
            raise _EmptyAnswer
        return text


def _message(turn: ChatTurn, *, with_images: bool = False) -> ChatCompletionMessageParam:
    # One literal per role: the SDK's message types are a union keyed on `role`.
    match turn.role:
        case Role.SYSTEM:
            return {"role": "system", "content": turn.content}
        case Role.ASSISTANT:
            return {"role": "assistant", "content": turn.content}
        case Role.USER:
            if with_images and turn.images:
                parts: list[ChatCompletionContentPartParam] = [
                    {"type": "text", "text": turn.content}
                ]
                parts.extend(
                    {"type": "image_url", "image_url": {"url": data_url(image)}}
                    for image in turn.images
                )
                return {"role": "user", "content": parts}
            return {"role": "user", "content": turn.content}


def data_url(image: ChatImage) -> str:
    """The photo inline, as OpenAI-compatible servers take it (no upload, no public link)."""
    return f"data:{image.mime_type};base64,{base64.b64encode(image.data).decode('ascii')}"


def _failure(model: str, exc: Exception) -> _Failure:
    if isinstance(exc, _EmptyAnswer):
        return _Failure(model=model, error_type="EmptyAnswer", reason="empty_answer")
    reason = "invalid_response"  # anything else the SDK raises, e.g. an unparsable body
    if isinstance(exc, openai.APITimeoutError):  # before its parent, APIConnectionError
        reason = "timeout"
    elif isinstance(exc, openai.APIConnectionError):
        reason = "connection"
    elif isinstance(exc, openai.RateLimitError):
        reason = "rate_limited"
    elif isinstance(exc, openai.APIStatusError):
        reason = "server_error" if exc.status_code >= 500 else "rejected"
    return _Failure(model=model, error_type=type(exc).__name__, reason=reason)


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
