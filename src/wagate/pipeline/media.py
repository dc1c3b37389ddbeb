"""The media fetch job (MD1): a file a person sent, fetched from the provider, checked and
stored encrypted — or refused, or given up on — once, whatever crashes or outages come between.

    wagate.media_fetch(media id) ──► the row (pending?) and the message's reference
      ──► the channel's adapter (`MediaSource`; none: failed, `unsupported`)
      ──► open the download ── the announced size over the limit? refused, `too_large`
      ──► read the head ── sniff ── judge: a program, an archive, a lying type? refused
      ──► the rest streamed through the limit into the vault (sealed in chunks, stored)
      ──► the row settled, in the same statement as the conversation's job brought forward

Errors by class (the retry policy is `domain.retry.BackoffPolicy`):
  * gone at the provider (404, an expired link that cannot be renewed): failed at once;
  * too large while reading: refused at once (the partial object is never kept);
  * transient (timeouts, 5xx, 429 with its Retry-After, a refused token, the object store
    down): tried again after a backoff, until the attempts are spent: then failed;
  * anything unexpected: counted like a transient failure (`attempt_failed`).

A voice note, when a transcriber is configured (AI_TRANSCRIPTION_MODEL), takes one more step
on the same job: the file is kept first (`MediaRows.hold`: the row stays pending, its object
named, its attempt count restarted for this step), then decrypted to memory (at most
`TranscriptionPolicy.max_bytes`) and sent to the transcription endpoint; the transcript is
sealed into the row like a document's text. A transient failure queues another try of the
transcription alone (the file is never fetched again: its link has expired by then); a
permanent one, or tries spent, settles the row `stored` with the problem
`transcription_failed` — the file stays, the person is asked to write.

The conversation waits while a file of its burst is pending, so the answer takes the file
into account and is written once (`Converse`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from wagate.domain.file_types import HEAD_BYTES, FileType, sniff
from wagate.domain.media import (
    MB,
    Declared,
    MediaFetchFailed,
    MediaGone,
    MediaLimits,
    MediaProblem,
    MediaRef,
    MediaSource,
    MediaStatus,
    MediaTooLarge,
    judge,
    too_large,
)
from wagate.domain.messages import Provider
from wagate.domain.retry import BackoffPolicy
from wagate.domain.transcription import (
    Transcriber,
    TranscriptionFailed,
    transcribable,
    voice_filename,
)
from wagate.pipeline.metrics import (
    RETRY_OBJECT_STORE,
    RETRY_PROVIDER,
    RETRY_UNEXPECTED,
    UNMEASURED,
    Metrics,
)
from wagate.pipeline.ports import Kept, MediaVault, ProviderDirectory, StorageUnavailable

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaJob:
    """A media row as the fetch job sees it."""

    id: int
    conversation_id: int
    provider: Provider
    channel_id: str
    status: MediaStatus
    attempts: int
    ref: MediaRef
    # The file, when an earlier try kept it and only its transcription is left to do.
    held: StoredFile | None = None
    received_at: datetime | None = None  # when the webhook wrote the row


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file kept in the vault, with what its bytes are and what the message said."""

    kept: Kept
    file_type: FileType
    declared: Declared


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptionPolicy:
    """AI_TRANSCRIPTION_MAX_BYTES (a longer recording is not sent: the person is asked to
    write), the transcript's length kept (as a document's text), and the tries."""

    max_bytes: int = 25 * MB
    max_chars: int = 4000
    backoff: BackoffPolicy = field(
        default_factory=lambda: BackoffPolicy(max_attempts=4, cap=timedelta(minutes=2))
    )


class MediaRows(Protocol):
    """The tenant's media rows. Settling a row (stored, refused, failed) also brings the
    conversation's job forward, in one statement; each settles only a pending row and says
    whether it did."""

    async def load(self, media_id: int) -> MediaJob | None: ...

    async def stored(
        self,
        media_id: int,
        kept: Kept,
        *,
        file_type: FileType,
        declared: Declared,
        text: str | None,
        at: datetime,
        problem: MediaProblem | None = None,
    ) -> bool: ...

    async def hold(
        self, media_id: int, kept: Kept, *, file_type: FileType, declared: Declared
    ) -> bool:
        """Record a kept file on a row that stays pending (its transcription is next), its
        attempt count back to 0 for that step; False when the row was settled meanwhile."""

    async def settled(
        self,
        media_id: int,
        *,
        status: MediaStatus,
        problem: MediaProblem,
        error: str | None,
        at: datetime,
    ) -> bool: ...

    async def retry(self, media_id: int, *, attempts: int, error: str, run_at: datetime) -> None:
        """Count the failed try and queue the next one for `run_at`."""


class DocumentText(Protocol):
    """A stored document's text, for the conversation (MD1 item 2): PDF and Word text layers,
    OCR of photos and scans where Tesseract is installed. None when there is none to read."""

    async def read(self, kept: Kept, file_type: FileType) -> str | None: ...


@dataclass(frozen=True, slots=True)
class _Refused:
    problem: MediaProblem


@dataclass(kw_only=True)
class FetchMedia:
    rows: MediaRows
    vault: MediaVault
    providers: ProviderDirectory
    limits: MediaLimits
    backoff: BackoffPolicy
    clock: Callable[[], datetime]
    jitter: Callable[[], float] = field(default=random.random)
    reader: DocumentText | None = None
    transcriber: Transcriber | None = None  # AI_TRANSCRIPTION_MODEL; None: voice notes kept only
    transcription: TranscriptionPolicy = field(default_factory=TranscriptionPolicy)
    metrics: Metrics = UNMEASURED

    def __post_init__(self) -> None:
        # One recording in memory at a time per process, as documents are read one at a time.
        self._transcribing = asyncio.Semaphore(1)

    async def __call__(self, media_id: int) -> MediaStatus | None:
        """Fetch, check and store one file; its status afterwards (None: no such row, or it
        was settled already — a duplicate job does nothing)."""
        job = await self.rows.load(media_id)
        if job is None or job.status is not MediaStatus.PENDING:
            return None
        if job.held is not None:  # kept on an earlier try: only its transcription is left
            return await self._transcribe(job, job.held)
        await self.providers.refresh()
        client = self.providers.get(job.provider, job.channel_id)
        # The provider declares whether it hands files over (`Capabilities.media`) and offers
        # the download as the `MediaSource` port; the pipeline never asks which provider it is.
        if client is None or not client.capabilities.media or not isinstance(client, MediaSource):
            return await self._settle(
                job, MediaStatus.FAILED, MediaProblem.UNSUPPORTED, "the channel hands no files"
            )
        try:
            outcome = await self._fetch(job, client)
        except MediaGone as exc:
            return await self._settle(job, MediaStatus.FAILED, MediaProblem.UNAVAILABLE, str(exc))
        except MediaTooLarge as exc:
            return await self._settle(job, MediaStatus.REFUSED, MediaProblem.TOO_LARGE, str(exc))
        except MediaFetchFailed as exc:
            return await self._again(
                job, f"provider: {exc}", retry_after=exc.retry_after, cause=RETRY_PROVIDER
            )
        except StorageUnavailable as exc:
            return await self._again(job, f"object store: {exc}", cause=RETRY_OBJECT_STORE)
        if isinstance(outcome, _Refused):
            return await self._settle(job, MediaStatus.REFUSED, outcome.problem, None)
        if self.transcriber is not None and transcribable(
            outcome.declared.media_type, outcome.file_type
        ):
            if not await self.rows.hold(
                job.id, outcome.kept, file_type=outcome.file_type, declared=outcome.declared
            ):
                await self.vault.discard(outcome.kept)  # settled or erased meanwhile
                return None
            return await self._transcribe(dataclasses.replace(job, attempts=0), outcome)
        return await self._store(job, outcome, await self._document_text(job, outcome))

    async def attempt_failed(self, media_id: int, error: str) -> None:
        """An unexpected failure of the job: counted like a transient one."""
        job = await self.rows.load(media_id)
        if job is not None and job.status is MediaStatus.PENDING:
            await self._again(job, error, cause=RETRY_UNEXPECTED)

    async def _fetch(self, job: MediaJob, client: MediaSource) -> _Refused | StoredFile:
        async with client.open_media(job.ref) as download:
            declared = Declared(
                media_type=job.ref.media_type,
                mime_type=job.ref.mime_type or download.mime_type,
                filename=job.ref.filename,
            )
            if too_large(download.size, declared, self.limits):
                return _Refused(MediaProblem.TOO_LARGE)
            chunks = aiter(download.chunks())
            head = await _read_head(chunks)
            actual = sniff(head, declared.filename)
            problem = judge(declared, actual)
            if problem is not None:
                return _Refused(problem)
            limit = self.limits.for_kind(declared.media_type)
            kept = await self.vault.keep(_within(limit, head, chunks))
        return StoredFile(kept=kept, file_type=actual, declared=declared)

    async def _document_text(self, job: MediaJob, stored: StoredFile) -> str | None:
        if self.reader is None:
            return None
        try:
            return await self.reader.read(stored.kept, stored.file_type)
        except Exception as exc:  # an unreadable document is still a stored document
            log.warning("media.unreadable", media_id=job.id, error_type=type(exc).__name__)
            return None

    async def _transcribe(self, job: MediaJob, held: StoredFile) -> MediaStatus:
        """The voice note's words, or another try later, or the file kept without them."""
        try:
            text = await self._transcript(held)
        except (TranscriptionFailed, StorageUnavailable) as exc:
            retry = not isinstance(exc, TranscriptionFailed) or exc.retry
            backoff = self.transcription.backoff
            if retry and not backoff.gives_up_after(job.attempts):
                retry_after = exc.retry_after if isinstance(exc, TranscriptionFailed) else None
                delay = backoff.delay(job.attempts, jitter=self.jitter(), retry_after=retry_after)
                error = f"transcription: {exc}"[:500]
                await self.rows.retry(
                    job.id, attempts=job.attempts + 1, error=error, run_at=self.clock() + delay
                )
                log.warning(
                    "media.transcription_retry",
                    media_id=job.id,
                    attempts=job.attempts + 1,
                    retry_in_s=round(delay.total_seconds(), 1),
                    error_type=type(exc).__name__,
                )
                return MediaStatus.PENDING
            log.warning(
                "media.transcription_failed",
                media_id=job.id,
                attempts=job.attempts + 1,
                error_type=type(exc).__name__,
                retried=retry,
            )
            return await self._store(job, held, None, problem=MediaProblem.TRANSCRIPTION_FAILED)
        return await self._store(job, held, text)

    async def _transcript(self, held: StoredFile) -> str | None:
        """None when there is nothing to send (no transcriber, a recording over the limit) or
        nothing was said: the person is asked to write, as without a transcriber."""
        limit = self.transcription.max_bytes
        if self.transcriber is None or held.kept.size > limit:
            return None
        async with self._transcribing:
            audio = await self.vault.read(held.kept, limit=limit)
            if audio is None:
                return None
            text = await self.transcriber.transcribe(
                audio, filename=voice_filename(held.file_type), mime_type=held.file_type.mime
            )
        text = text.strip()
        if len(text) > self.transcription.max_chars:
            text = text[: self.transcription.max_chars].rsplit(None, 1)[0] + " …"
        return text or None

    async def _store(
        self,
        job: MediaJob,
        stored: StoredFile,
        text: str | None,
        *,
        problem: MediaProblem | None = None,
    ) -> MediaStatus:
        settled = await self.rows.stored(
            job.id,
            stored.kept,
            file_type=stored.file_type,
            declared=stored.declared,
            text=text,
            at=self.clock(),
            problem=problem,
        )
        if not settled:  # settled or erased meanwhile: the copy just made belongs to nobody
            await self.vault.discard(stored.kept)
            return MediaStatus.STORED
        provider, kind = job.provider.value, job.ref.media_type
        self.metrics.media(provider=provider, kind=kind, status=MediaStatus.STORED.value)
        waited = (self.clock() - job.received_at).total_seconds() if job.received_at else 0.0
        self.metrics.media_stored(
            provider=provider, kind=kind, size=stored.kept.size, seconds=waited
        )
        log.info(
            "media.stored",
            media_id=job.id,
            conversation_id=job.conversation_id,
            file_type=stored.file_type.name,
            size=stored.kept.size,
            text=text is not None,
        )
        return MediaStatus.STORED

    async def _settle(
        self, job: MediaJob, status: MediaStatus, problem: MediaProblem, error: str | None
    ) -> MediaStatus:
        settled = await self.rows.settled(
            job.id, status=status, problem=problem, error=error, at=self.clock()
        )
        if settled:  # counted once, by the try that settled it
            self.metrics.media(
                provider=job.provider.value,
                kind=job.ref.media_type,
                status=status.value,
                problem=problem.value,
            )
        log.info(
            "media.settled",
            media_id=job.id,
            conversation_id=job.conversation_id,
            status=status.value,
            problem=problem.value,
        )
        return status

    async def _again(
        self,
        job: MediaJob,
        error: str,
        *,
        retry_after: float | None = None,
        cause: str = RETRY_PROVIDER,
    ) -> MediaStatus:
        if self.backoff.gives_up_after(job.attempts):
            log.warning("media.gave_up", media_id=job.id, attempts=job.attempts + 1, error=error)
            return await self._settle(job, MediaStatus.FAILED, MediaProblem.UNAVAILABLE, error)
        self.metrics.media_retry(provider=job.provider.value, cause=cause)
        delay = self.backoff.delay(job.attempts, jitter=self.jitter(), retry_after=retry_after)
        await self.rows.retry(
            job.id, attempts=job.attempts + 1, error=error[:500], run_at=self.clock() + delay
        )
        log.warning(
            "media.retry",
            media_id=job.id,
            attempts=job.attempts + 1,
            retry_in_s=round(delay.total_seconds(), 1),
            error=error,
        )
        return MediaStatus.PENDING


async def _read_head(chunks: AsyncIterator[bytes]) -> bytes:
    """At least `HEAD_BYTES` of the file (or all of a smaller one), for the sniffer."""
    head = bytearray()
    while len(head) < HEAD_BYTES:
        try:
            head += await anext(chunks)
        except StopAsyncIteration:
            break
    return bytes(head)


async def _within(limit: int, head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The head, then the rest, counted: `MediaTooLarge` as soon as the count passes `limit`
    (whatever size was announced), so an oversized file is never stored whole."""
    size = len(head)
    if size > limit:
        raise MediaTooLarge(f"more than {limit} bytes")
    yield head
    async for piece in rest:
        size += len(piece)
        if size > limit:
            raise MediaTooLarge(f"more than {limit} bytes")
        yield piece
