"""What of a burst goes to the AI (SE3, SE4). Pure; arrival times are passed in."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from wagate.domain.privacy.identity_documents import looks_like_identity_document

RATE_WINDOW = timedelta(minutes=1)
# Kinds that need no answer of their own: a reaction or a system notice is not a question.
SILENT_KINDS = frozenset({"reaction", "system"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def sanitise(text: str) -> str:
    """NFC, no control or direction-override characters, tidy whitespace."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class BurstMessage:
    id: int
    kind: str
    text: str | None  # what the user wrote (text, caption, button title); None for pure media
    received_at: datetime
    # A file's kind and state (`stored`, `pending`, or a domain.media.MediaProblem value);
    # None for a message without a file row (then media is "non-text", as before files).
    media_type: str | None = None
    media: str | None = None
    # A stored file's text, read for the AI: PDF, Word, OCR of a photo, a voice note's
    # transcript.
    attachment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Triage:
    """The burst, sorted by what happens to each message."""

    for_ai: tuple[str, ...] = ()  # sanitised texts, in order, merged into one user turn
    too_long: tuple[int, ...] = ()  # ids: answered with a notice, not sent to the AI
    rate_limited: tuple[int, ...] = ()  # ids: stored, not sent to the AI
    non_text: tuple[int, ...] = ()  # ids of media, locations, unsupported…
    files: tuple[int, ...] = ()  # ids of files stored without a caption (acknowledged)
    documents: tuple[str, ...] = ()  # the texts of stored files, each a delimited block
    spoken: tuple[str, ...] = ()  # voice notes' transcripts: the person's own words too
    images: tuple[int, ...] = ()  # ids of photos for the vision model (vision on only)
    withheld: tuple[int, ...] = ()  # ids of photos kept from it: identity documents
    ignored: tuple[int, ...] = ()  # empty texts, reactions, system notices
    notices: tuple[str, ...] = field(default=())  # which notices are due: too_long, non_text

    @property
    def user_turn(self) -> str:
        """What the person wrote, then the text of the files they sent (the AI reads both;
        both are masked as the person's words)."""
        return "\n\n".join(part for part in ("\n".join(self.for_ai), *self.documents) if part)

    @property
    def answerable(self) -> bool:
        return bool(self.for_ai or self.documents)


def triage(
    burst: Sequence[BurstMessage],
    *,
    max_chars: int,
    rate_limit: int,
    earlier_arrivals: Sequence[datetime],
    vision: bool = False,
) -> Triage:
    """Sort a burst. `earlier_arrivals`: arrival times of this sender's messages before the burst
    (within a minute of it), so the rate limit holds across bursts and restarts. `vision`: a
    vision-capable model sees the photos (AI_VISION_MODEL), so a photo alone is a question —
    unless it looks like an identity document, which never leaves unmasked."""
    arrivals = sorted(earlier_arrivals)
    for_ai: list[str] = []
    too_long: list[int] = []
    limited: list[int] = []
    non_text: list[int] = []
    ignored: list[int] = []
    files: list[int] = []
    documents: list[str] = []
    file_notices: list[str] = []
    spoken: list[str] = []
    images: list[int] = []
    withheld: list[int] = []
    audio = False
    for message in burst:
        window_start = message.received_at - RATE_WINDOW
        recent = sum(1 for at in arrivals if window_start < at <= message.received_at)
        arrivals.append(message.received_at)
        if recent >= rate_limit:
            limited.append(message.id)
            continue
        if message.kind in SILENT_KINDS:
            ignored.append(message.id)
            continue
        text = sanitise(message.text) if message.text else ""
        if message.media is not None and message.media != "stored":
            # A file refused or lost: its notice says why; its caption is not answered alone.
            if message.media == "pending":
                ignored.append(message.id)
            else:
                non_text.append(message.id)
                file_notices.append(_FILE_NOTICES.get(message.media, "non_text"))
            continue
        attachment = sanitise(message.attachment) if message.attachment else ""
        if attachment:
            documents.append(document_block(attachment, message.media_type))
            if message.media_type == "audio":
                spoken.append(attachment)
        seen = False
        if vision and message.media == "stored" and message.media_type == "image":
            if looks_like_identity_document(attachment):
                withheld.append(message.id)
            else:
                images.append(message.id)
                seen = True
                if not attachment:  # the photo itself is what the model reads
                    documents.append(PHOTO_ATTACHED)
        if message.media == "stored" and not text:
            if not attachment and not seen:
                files.append(message.id)
                audio = audio or message.media_type == "audio"
        elif message.kind not in ("text", "interactive", "button") and not text:
            non_text.append(message.id)
        elif not text:
            ignored.append(message.id)
        elif len(text) > max_chars:
            too_long.append(message.id)
        else:
            for_ai.append(text)
    notices = []
    if too_long:
        notices.append("too_long")
    notices.extend(dict.fromkeys(file_notices))
    if files and not (for_ai or documents):
        notices.append("audio_received" if audio else "media_received")
    if non_text and not for_ai and not file_notices:
        notices.append("non_text")
    return Triage(
        for_ai=tuple(for_ai),
        too_long=tuple(too_long),
        rate_limited=tuple(limited),
        non_text=tuple(non_text),
        ignored=tuple(ignored),
        files=tuple(files),
        documents=tuple(documents),
        spoken=tuple(spoken),
        images=tuple(images),
        withheld=tuple(withheld),
        notices=tuple(notices),
    )


# A photo given to the vision model without a caption or readable text: the turn says so.
PHOTO_ATTACHED = "[Foto terlampir]"


_SPOKEN_OPEN = "[Pesan suara (transkrip):]"
_SPOKEN_CLOSE = "[Akhir pesan suara]"


def document_block(text: str, media_type: str | None) -> str:
    """A file's text as it joins the person's turn: delimited, so the model reads it as what
    they sent rather than as their question, and named as a photo or a document."""
    if media_type == "audio":  # a transcript: what the person said, marked as spoken
        return f"{_SPOKEN_OPEN}\n{text}\n{_SPOKEN_CLOSE}"
    label = "foto" if media_type in ("image", "sticker") else "dokumen"
    return f"[Isi {label} yang dikirim:]\n{text}\n[Akhir {label}]"


_FILE_BLOCK = re.compile(r"\[Isi (foto|dokumen) yang dikirim:\]\n.*?\n\[Akhir \1\]", re.DOTALL)


def own_words_of(turn: str) -> str:
    """A user turn without the texts of the files it carries and without the gateway's own
    markers (a voice note's transcript stays: the person said it). For readers that should
    weigh only what the person told, such as the learned triage detector: an identity card's
    or a court letter's text is not someone telling of danger now."""
    turn = _FILE_BLOCK.sub("\n", turn)
    for marker in (PHOTO_ATTACHED, _SPOKEN_OPEN, _SPOKEN_CLOSE):
        turn = turn.replace(marker, "\n")
    return turn.strip()


# A file's problem (domain.media.MediaProblem values) → the notice the person gets.
_FILE_NOTICES = {
    "too_large": "media_too_large",
    "executable": "media_refused",
    "type_not_accepted": "media_refused",
    "type_mismatch": "media_mismatch",
    "unavailable": "media_unavailable",
    "unsupported": "non_text",
    "transcription_failed": "audio_failed",
}
