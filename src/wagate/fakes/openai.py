"""A fake OpenAI-compatible chat-completions server: records what it is asked, answers
deterministically, and fails, stalls or answers oddly on request.

The answer text (other suites assert on it, keep it stable):

    ECHO[<model>] <content of the last user message> (turns=<n>)

where <n> counts the messages that are not `system` (user and assistant turns). A triage
classification request (a system message containing TRIAGE_INSTRUCTION, as
assistants/zone_classifier.py sends) is answered with one word instead: the first of "red",
"yellow", "green" written as a word in the last user message, else "green" — so a test picks
the model's zone by what it sends. A message whose
content is a list of parts contributes its text parts joined by a space. Usage token counts are
word counts (prompt: all message contents; completion: the answer).

API:
  POST /v1/chat/completions (or /chat/completions)   the answer, as `chat.completion` JSON;
                                                     `"stream": true` is refused with 400
  GET  /v1/models (or /models)                       the model names it was built with
  POST /v1/embeddings (or /embeddings)               deterministic vectors: each input's words
                                                     hashed into EMBEDDING_DIMENSIONS buckets
                                                     (a bag of words), unit length; any model
  POST /v1/audio/transcriptions (or /audio/…)       multipart `file`, `model` (required),
                                                     `language`, `response_format` (json, text
                                                     or verbose_json); answers a transcript
                                                     planned through /_fake/transcription, else
                                                     TRANSCRIPT[<model>] <n> bytes <sha256[:8]>

A chat message may carry `image_url` parts (data: URLs, as a vision model takes them): each
request's entry lists them under `images` (MIME type, size, SHA-256 of the decoded bytes), so
a test can tell which photo reached which model.
Errors use OpenAI's shape: {"error": {"message", "type", "param", "code"}}.

Control endpoints live under `/_fake/`:
  GET    /_fake/requests                 what it was asked (kind "chat", or "classify" for a
                                         triage classification; `body` is the request)
  GET    /_fake/requests?kind=transcription  the transcriptions asked for (model, language,
                                         response_format, filename, content_type, size, sha256)
  DELETE /_fake/requests                 forget it (and every planned failure or reply)
  POST   /_fake/reset                    the same
  POST   /_fake/fail {"model": "m", "http_status": 500, "delay_seconds": 0, "times": 1}
         fail the next `times` requests for `model` (any model when absent; "classify": the
         next triage classifications, which no other failure touches). `http_status`
         defaults to 500, or to 200 when only `delay_seconds` is given: a slow but correct
         answer, to make clients time out.
  POST   /_fake/reply {"text": "…", "model": "m", "times": 1}
         answer the next `times` requests (for `model`, else any) with this text instead of
         the echo; `"text": null` answers with a null content. A triage classification takes
         only a reply planned for "classify".
  POST   /_fake/transcription {"text": "…", "times": 1}
         the next `times` transcriptions answer this text. Transcriptions take only failures
         planned for their own model name (or for "transcription"), never "any".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import math
import re
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wagate.fakes.fast_lane import Answer, FastLane, Handler, Incoming
from wagate.fakes.recorder import PlannedFailure, Recorder, apply_delay

DEFAULT_MODELS = ("fake-large", "fake-small", "fake-tiny")

# What OpenAI answers for the statuses a client has to tell apart.
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request (simulated)."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached (simulated)."),
    500: ("server_error", None, "The server had an error (simulated)."),
    503: ("server_error", None, "The engine is currently overloaded (simulated)."),
}


def error_body(http_status: int, message: str | None = None) -> dict[str, Any]:
    kind, code, default = _ERRORS.get(
        http_status,
        ("server_error" if http_status >= 500 else "invalid_request_error", None, "Simulated."),
    )
    return {"error": {"message": message or default, "type": kind, "param": None, "code": code}}


EMBEDDING_DIMENSIONS = 64


def bag_of_words_vector(text: str) -> list[float]:
    """The fake's embedding: lower-case words hashed (stable across runs) into buckets, then
    scaled to unit length. Texts sharing words point the same way; an empty text is zeros."""
    buckets = [0.0] * EMBEDDING_DIMENSIONS
    for word in text.lower().split():
        digest = hashlib.blake2b(word.strip(".,;:!?()\"'").encode(), digest_size=4).digest()
        buckets[int.from_bytes(digest, "big") % EMBEDDING_DIMENSIONS] += 1.0
    norm = math.sqrt(sum(x * x for x in buckets))
    return [x / norm for x in buckets] if norm else buckets


# Keep in step with wagate.assistants.zone_classifier.ONE_WORD_INSTRUCTION (a unit test checks).
TRIAGE_INSTRUCTION = "Answer with one word: green, yellow or red."
_ZONE_WORDS = ("red", "yellow", "green")


def classification_answer(messages: Sequence[dict[str, Any]]) -> str | None:
    """The fake's zone for a triage classification request, None for any other request."""
    if not any(
        m.get("role") == "system" and TRIAGE_INSTRUCTION in _text(m.get("content"))
        for m in messages
    ):
        return None
    users = [m for m in messages if m.get("role") == "user"]
    words = set(re.findall(r"[a-z]+", _text(users[-1].get("content")).lower())) if users else set()
    return next((zone for zone in _ZONE_WORDS if zone in words), "green")


def echo_answer(model: str, messages: Sequence[dict[str, Any]]) -> str:
    """The deterministic answer documented in the module docstring."""
    users = [m for m in messages if m.get("role") == "user"]
    last = _text(users[-1].get("content")) if users else ""
    turns = sum(1 for m in messages if m.get("role") != "system")
    return f"ECHO[{model}] {last} (turns={turns})"


@dataclass(kw_only=True)
class PlannedReply:
    model: str  # which model's requests, or "any"
    text: str | None
    times: int = 1


class FakeOpenAI:
    def __init__(self, *, models: Sequence[str] = DEFAULT_MODELS, api_key: str | None = None):
        self.recorder = Recorder()
        self.replies: deque[PlannedReply] = deque()
        self.transcripts: deque[PlannedReply] = deque()
        self.models = tuple(models)
        self.api_key = api_key  # None accepts any key, as local servers do
        self._ids = itertools.count(1)
        self.app = FastLane(self._starlette(), self._fast_route)

    def _fast_route(
        self, method: str, segments: list[str]
    ) -> tuple[Handler, dict[str, Any]] | None:
        """The chat completions, as the Starlette routes below match them."""
        if method == "POST" and segments in (
            ["v1", "chat", "completions"],
            ["chat", "completions"],
        ):
            return self.chat, {"path": "/" + "/".join(segments)}
        return None

    def _starlette(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/_fake/requests", self._requests, methods=["GET", "DELETE"]),
                Route("/_fake/reset", self._reset, methods=["POST"]),
                Route("/_fake/fail", self._fail, methods=["POST"]),
                Route("/_fake/reply", self._reply, methods=["POST"]),
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
                Route("/embeddings", self._embeddings, methods=["POST"]),
                Route("/_fake/transcription", self._transcription, methods=["POST"]),
                Route("/v1/audio/transcriptions", self._transcribe, methods=["POST"]),
                Route("/audio/transcriptions", self._transcribe, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/models", self._models, methods=["GET"]),
            ]
        )

    # ------------------------------------------------------------ OpenAI API

    async def _chat(self, request: Request) -> Response:
        incoming = Incoming({"path": request.url.path}, request.headers.raw, await request.body())
        return (await self.chat(incoming)).response()

    async def chat(self, request: Incoming) -> Answer:
        """`POST /v1/chat/completions` (on either lane)."""
        try:
            body = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            return _answer_error(400, "We could not parse the JSON body of your request.")
        if not isinstance(body, dict):
            return _answer_error(400, "The body must be a JSON object.")
        model = str(body.get("model") or "")
        # A triage classification is recorded apart ("classify"), so a test counting the
        # conversation's AI calls ("chat") counts answers, not zone checks.
        messages = body.get("messages")
        is_classification = isinstance(messages, list) and (
            classification_answer([m for m in messages if isinstance(m, dict)]) is not None
        )
        kind = "classify" if is_classification else "chat"
        entry = self.recorder.record(kind, model=model, body=body, path=request.params["path"])
        if isinstance(messages, list):
            entry["images"] = image_parts(messages)
        if not self._accepts(request.bearer()):
            entry["failed"] = 401
            return _answer_error(401)
        # Failures are keyed by model name in the recorder's `kind` slot ("any" matches all).
        # A classification takes only failures planned for it ({"model": "classify"}), so a
        # failure planned for the answer is not spent on the zone check before it.
        failure = (
            self.recorder.take_failure("classify", exact=True)
            if is_classification
            else self.recorder.take_failure(model)
        )
        await apply_delay(failure)
        if failure is not None and failure.http_status >= 400:
            entry["failed"] = failure.http_status
            return Answer(failure.http_status, failure.body)
        messages = body.get("messages")
        if not model or not isinstance(messages, list) or not messages:
            entry["failed"] = 400
            return _answer_error(400, "'model' and a non-empty 'messages' list are required.")
        if body.get("stream"):
            entry["failed"] = 400
            return _answer_error(400, "Streaming is not supported by the fake.")
        messages = [m for m in messages if isinstance(m, dict)]
        # A planned reply is for the answer; a classification takes only one planned for it
        # ({"model": "classify"}).
        planned = (
            self._take_reply("classify", exact=True)
            if is_classification
            else self._take_reply(model)
        )
        if planned is not None:
            answer = planned.text
        else:
            answer = classification_answer(messages) or echo_answer(model, messages)
        entry["answer"] = answer
        prompt_tokens = sum(_words(_text(m.get("content"))) for m in messages)
        completion_tokens = _words(answer)
        return Answer(
            200,
            {
                "id": f"chatcmpl-fake-{next(self._ids)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer, "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )

    async def _embeddings(self, request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error(400, "We could not parse the JSON body of your request.")
        model = str(body.get("model") or "") if isinstance(body, dict) else ""
        entry = self.recorder.record("embeddings", model=model, body=body, path=request.url.path)
        if not self._authorized(request):
            entry["failed"] = 401
            return _error(401)
        failure = self.recorder.take_failure(model)
        await apply_delay(failure)
        if failure is not None and failure.http_status >= 400:
            entry["failed"] = failure.http_status
            return JSONResponse(failure.body, status_code=failure.http_status)
        inputs = body.get("input") if isinstance(body, dict) else None
        if isinstance(inputs, str):
            inputs = [inputs]
        if not model or not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
            entry["failed"] = 400
            return _error(400, "'model' and 'input' (a string or a list of strings) are required.")
        data = [
            {"object": "embedding", "index": n, "embedding": bag_of_words_vector(text)}
            for n, text in enumerate(inputs)
        ]
        tokens = sum(_words(text) for text in inputs)
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def _transcribe(self, request: Request) -> Response:
        try:
            form = await request.form()
        except Exception:  # not multipart, or a broken one
            return _error(400, "The body must be multipart/form-data.")
        upload = form.get("file")
        model = str(form.get("model") or "")
        data = await upload.read() if isinstance(upload, UploadFile) else b""
        entry = self.recorder.record(
            "transcription",
            model=model,
            language=form.get("language"),
            response_format=form.get("response_format"),
            filename=getattr(upload, "filename", None),
            content_type=getattr(upload, "content_type", None),
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            path=request.url.path,
        )
        if not self._authorized(request):
            entry["failed"] = 401
            return _error(401)
        failure = self.recorder.take_failure(model, exact=True) or self.recorder.take_failure(
            "transcription", exact=True
        )
        await apply_delay(failure)
        if failure is not None and failure.http_status >= 400:
            entry["failed"] = failure.http_status
            return JSONResponse(failure.body, status_code=failure.http_status)
        if not model or not isinstance(upload, UploadFile) or not data:
            entry["failed"] = 400
            return _error(400, "'model' and a non-empty 'file' are required.")
        planned = self._take_from(self.transcripts, "any")
        text = (
            planned.text
            if planned is not None and planned.text is not None
            else f"TRANSCRIPT[{model}] {len(data)} bytes {entry['sha256'][:8]}"
        )
        entry["answer"] = text
        response_format = str(form.get("response_format") or "json")
        if response_format == "text":
            return Response(text, media_type="text/plain")
        answer: dict[str, Any] = {"text": text}
        if response_format == "verbose_json":
            answer |= {"task": "transcribe", "language": form.get("language") or "indonesian"}
        return JSONResponse(answer)

    async def _models(self, request: Request) -> Response:
        if not self._authorized(request):
            return _error(401)
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
        return JSONResponse({"object": "list", "data": data})

    def _authorized(self, request: Request) -> bool:
        return self._accepts(
            request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        )

    def _accepts(self, token: str) -> bool:
        return self.api_key is None or token == self.api_key

    def _take_reply(self, model: str, *, exact: bool = False) -> PlannedReply | None:
        return self._take_from(self.replies, model, exact=exact)

    @staticmethod
    def _take_from(
        planned_replies: deque[PlannedReply], model: str, *, exact: bool = False
    ) -> PlannedReply | None:
        for planned in planned_replies:
            if planned.model == model or (planned.model == "any" and not exact):
                planned.times -= 1
                if planned.times <= 0:
                    planned_replies.remove(planned)
                return planned
        return None

    # ------------------------------------------------------------ control

    async def _requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            return await self._reset(request)
        # orjson: the listing grows with every request, and benchmarks poll it while they wait.
        return Answer(200, self.recorder.listing(request.query_params.get("kind"))).response()

    async def _reset(self, request: Request) -> Response:
        self.recorder.reset()
        self.replies.clear()
        self.transcripts.clear()
        return JSONResponse({"cleared": True})

    async def _fail(self, request: Request) -> Response:
        spec = orjson.loads(await request.body())
        delay = float(spec.get("delay_seconds", 0))
        default_status = 200 if delay > 0 and "http_status" not in spec else 500
        http_status = int(spec.get("http_status", default_status))
        self.recorder.failures.append(
            PlannedFailure(
                kind=str(spec.get("model") or "any"),
                http_status=http_status,
                body=error_body(http_status, spec.get("message")) if http_status >= 400 else {},
                delay_seconds=delay,
                times=int(spec.get("times", 1)),
            )
        )
        return JSONResponse({"planned": len(self.recorder.failures)})

    async def _reply(self, request: Request) -> Response:
        spec = orjson.loads(await request.body())
        text = spec.get("text")
        self.replies.append(
            PlannedReply(
                model=str(spec.get("model") or "any"),
                text=None if text is None else str(text),
                times=int(spec.get("times", 1)),
            )
        )
        return JSONResponse({"planned": len(self.replies)})

    async def _transcription(self, request: Request) -> Response:
        spec = orjson.loads(await request.body())
        text = spec.get("text")
        self.transcripts.append(
            PlannedReply(
                model="any",
                text=None if text is None else str(text),
                times=int(spec.get("times", 1)),
            )
        )
        return JSONResponse({"planned": len(self.transcripts)})


def image_parts(messages: Sequence[Any]) -> list[dict[str, Any]]:
    """The `image_url` parts of a chat request's messages: each photo's MIME type, size and
    SHA-256 (of the decoded bytes of a data: URL; a plain URL is listed as it is)."""
    found: list[dict[str, Any]] = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "image_url":
                continue
            image = part.get("image_url")
            url = str(image.get("url") or "") if isinstance(image, dict) else ""
            head, _, payload = url.partition(",")
            if url.startswith("data:") and head.endswith(";base64"):
                try:
                    data = base64.b64decode(payload, validate=True)
                except (binascii.Error, ValueError):
                    found.append({"role": message.get("role"), "invalid": True})
                    continue
                found.append(
                    {
                        "role": message.get("role"),
                        "mime_type": head.removeprefix("data:").removesuffix(";base64"),
                        "size": len(data),
                        "sha256": hashlib.sha256(data).hexdigest(),
                    }
                )
            else:
                found.append({"role": message.get("role"), "url": url})
    return found


def _answer_error(http_status: int, message: str | None = None) -> Answer:
    return Answer(http_status, error_body(http_status, message))


def _error(http_status: int, message: str | None = None) -> Response:
    """The same error for a Starlette route."""
    return _answer_error(http_status, message).response()


def _text(content: Any) -> str:
    """A message's content as text: a list of parts gives its text parts joined by a space."""
    if isinstance(content, list):
        parts = [str(p.get("text") or "") for p in content if isinstance(p, dict)]
        return " ".join(p for p in parts if p)
    return content if isinstance(content, str) else ""


def _words(text: str | None) -> int:
    return len(text.split()) if text else 0
