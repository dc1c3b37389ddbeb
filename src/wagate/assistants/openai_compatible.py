"""An assistant over any OpenAI-compatible chat-completions endpoint, with a model fallback chain.

One POST to `{base_url}/chat/completions` per try, through wagate's lean HTTP client (the
`openai` SDK it replaced spent more CPU building and parsing than the whole exchange costs
now: benchmarks/http_clients.py). No retry of the same model: it would spend the user's
waiting time on the model most likely to fail again. Instead each model in
`model, *fallback_models` gets one try within `timeout_seconds`, and the first usable answer
wins; when none answers, `AssistantUnavailable`. Failures are named as the OpenAI SDK names
them (`APITimeoutError`, `RateLimitError`, `NotFoundError` …), which operators search for.

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

import httpx
import orjson
import structlog

from wagate.assistants.openai_errors import ENDPOINT_ERRORS, InvalidResponse, StatusError, classify
from wagate.domain.chat import AssistantReply, AssistantUnavailable, ChatImage, ChatTurn, Role
from wagate.http_client import http_client

log = structlog.get_logger(__name__)

# Local servers (Ollama, llama.cpp, vLLM) need no key; some refuse a request without any.
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
        transport: httpx.AsyncBaseTransport | None = None,
        vision_model: str | None = None,
    ) -> None:
        # A model listed twice would only double the wait before giving up.
        self.models = tuple(dict.fromkeys(m for m in (model, *fallback_models) if m.strip()))
        if not self.models:
            raise ValueError("OpenAICompatibleAssistant needs at least one model name")
        self.vision_model = vision_model.strip() if vision_model and vision_model.strip() else None
        self._temperature = temperature
        self._max_tokens = max_tokens
        self._http = http_client(
            base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {api_key or _NO_KEY}"},
            timeout=float(timeout_seconds),
            transport=transport,
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
            except (*ENDPOINT_ERRORS, _EmptyAnswer) as exc:
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
        await self._http.aclose()

    async def _ask(self, model: str, messages: list[dict[str, Any]]) -> str:
        body: dict[str, Any] = {"model": model, "messages": messages}
        if self._temperature is not None:
            body["temperature"] = self._temperature
        if self._max_tokens is not None:
            body["max_tokens"] = self._max_tokens
        response = await self._http.request(
            "POST", "chat/completions", content=orjson.dumps(body), content_type="application/json"
        )
        if not response.is_success:
            raise StatusError(response.status_code)
        text = (_content(response.content) or "").strip()
        if not text:
            raise _EmptyAnswer
        return text


def _message(turn: ChatTurn, *, with_images: bool = False) -> dict[str, Any]:
    if turn.role is Role.USER and with_images and turn.images:
        parts: list[dict[str, Any]] = [{"type": "text", "text": turn.content}]
        parts.extend(
            {"type": "image_url", "image_url": {"url": data_url(image)}} for image in turn.images
        )
        return {"role": "user", "content": parts}
    return {"role": turn.role.value, "content": turn.content}


def _content(raw: bytes) -> str | None:
    """The first choice's message text (None: the model sent no text); anything that is not a
    chat completion is `InvalidResponse`."""
    try:
        completion = orjson.loads(raw)
        choices = completion["choices"]
        if not isinstance(choices, list):
            raise TypeError("choices is not a list")
        if not choices:
            return None
        content = choices[0]["message"].get("content")
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise InvalidResponse(type(exc).__name__) from exc
    if content is not None and not isinstance(content, str):
        raise InvalidResponse("message content is not text")
    return content


def data_url(image: ChatImage) -> str:
    """The photo inline, as OpenAI-compatible servers take it (no upload, no public link)."""
    return f"data:{image.mime_type};base64,{base64.b64encode(image.data).decode('ascii')}"


def _failure(model: str, exc: Exception) -> _Failure:
    if isinstance(exc, _EmptyAnswer):
        return _Failure(model=model, error_type="EmptyAnswer", reason="empty_answer")
    error_type, reason = classify(exc)
    return _Failure(model=model, error_type=error_type, reason=reason)


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
