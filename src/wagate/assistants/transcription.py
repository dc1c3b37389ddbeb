"""Voice notes to text over an OpenAI-compatible `POST {base}/audio/transcriptions` (the
`Transcriber` port): OpenAI's Whisper and gpt-4o-transcribe models, Groq, a local
faster-whisper or whisper.cpp server, LocalAI …

One multipart request per recording (`file`, `model`, `response_format=json`, and
`language` when one is set: Indonesian by default, which spares the model a guess on short
notes). Retries are the media job's (a transient failure is queued again with a backoff), so
this client tries once and says whether another try may help.

Log events carry the model, sizes, statuses and timings — never the transcript.
"""

from __future__ import annotations

import time

import httpx
import structlog

from wagate.domain.transcription import TranscriptionFailed

log = structlog.get_logger(__name__)


class OpenAICompatibleTranscriber:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        model: str,
        language: str | None = "id",
        timeout_seconds: float = 120.0,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if not model.strip():
            raise ValueError("OpenAICompatibleTranscriber needs a model name")
        self.model = model
        self._url = base_url.rstrip("/") + "/audio/transcriptions"
        self._language = language or None
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout_seconds)

    async def transcribe(self, audio: bytes, *, filename: str, mime_type: str) -> str:
        fields = {"model": self.model, "response_format": "json"}
        if self._language:
            fields["language"] = self._language
        started = time.monotonic()
        try:
            response = await self._http.post(
                self._url,
                headers=self._headers,
                data=fields,
                files={"file": (filename, audio, mime_type)},
            )
        except httpx.TimeoutException as exc:
            raise TranscriptionFailed("timeout", retry=True) from exc
        except httpx.HTTPError as exc:
            raise TranscriptionFailed(f"connection: {type(exc).__name__}", retry=True) from exc
        elapsed_ms = round((time.monotonic() - started) * 1000)
        if response.status_code != 200:
            log.warning(
                "transcription.failed",
                model=self.model,
                status=response.status_code,
                size=len(audio),
                elapsed_ms=elapsed_ms,
            )
            raise _status_failure(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise TranscriptionFailed("the answer is not JSON", retry=True) from exc
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str):
            raise TranscriptionFailed("the answer has no text", retry=False)
        log.info("transcription.done", model=self.model, size=len(audio), elapsed_ms=elapsed_ms)
        return text

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()


def _status_failure(response: httpx.Response) -> TranscriptionFailed:
    """429 and 5xx may pass (429's Retry-After is kept as a floor); any other status is the
    setup's or the file's problem and will not."""
    status = response.status_code
    retry_after = None
    header = response.headers.get("retry-after")
    if header is not None:
        try:
            retry_after = max(0.0, float(header))
        except ValueError:
            retry_after = None
    transient = status in (408, 429) or status >= 500
    return TranscriptionFailed(f"HTTP {status}", retry=transient, retry_after=retry_after)
