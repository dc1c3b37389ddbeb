"""Voice notes in words (MD1, issue 16 item 2): the transcription port and its rules. Pure.

A voice note is transcribed when a transcription model is configured (AI_TRANSCRIPTION_MODEL
on the OpenAI-compatible endpoint); the transcript is the person's words, so it joins their
turn and is masked, triaged (a spoken emergency is red like a written one) and reviewed as
text is. Without a model, or for a recording over the size limit, the person is asked to write.
"""

from __future__ import annotations

from typing import Protocol

from wagate.domain.file_types import Family, FileType

# Containers a voice note may come in without an audio brand (domain.media accepts them as
# audio): transcribed when the message said it was audio.
_AUDIO_CONTAINERS = frozenset({"mp4", "3gpp", "m4a", "webm"})


def transcribable(media_type: str, file_type: FileType) -> bool:
    """A file worth sending to the transcription model: sent as audio (a voice note or an
    audio file), and audio by its bytes (or in a container voice notes come in)."""
    if media_type != "audio":
        return False
    return file_type.family is Family.AUDIO or file_type.name in _AUDIO_CONTAINERS


def voice_filename(file_type: FileType) -> str:
    """The file name the endpoint is given: servers pick the decoder by its extension, and
    the sender's own name (if any) is personal data it needs not see."""
    return f"voice.{file_type.extension}"


class TranscriptionFailed(Exception):
    """Transcribing failed. `retry`: a later try may work (timeouts, connection errors, 5xx,
    429 with its `retry_after` in seconds); otherwise it never will (the model refused the
    file, an unknown model or key, an answer without text)."""

    def __init__(self, message: str, *, retry: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry = retry
        self.retry_after = retry_after


class Transcriber(Protocol):
    """Speech to text over an OpenAI-compatible `/audio/transcriptions` endpoint."""

    async def transcribe(self, audio: bytes, *, filename: str, mime_type: str) -> str:
        """The words spoken in `audio` (may be empty: nothing was said). Raises
        `TranscriptionFailed`."""

    async def aclose(self) -> None: ...
