"""The media fetch job (MD1) against the fake Graph API and fake Fonnte (in process, over
httpx's ASGI transport), with the real sealing vault over a real folder: every outcome the job
can reach, and what it leaves on disk."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from wagate.assistants.transcription import OpenAICompatibleTranscriber
from wagate.domain.capabilities import Capabilities
from wagate.domain.file_types import FileType
from wagate.domain.media import Declared, MediaLimits, MediaProblem, MediaRef, MediaStatus
from wagate.domain.messages import Provider
from wagate.domain.retry import BackoffPolicy
from wagate.fakes.fonnte import FakeFonnte
from wagate.fakes.meta import FakeGraphApi
from wagate.fakes.openai import FakeOpenAI, PlannedReply
from wagate.fakes.recorder import PlannedFailure
from wagate.knowledge import ocr
from wagate.observability.metrics import MetricsRecorder, labels_of
from wagate.pipeline.media import FetchMedia, MediaJob, StoredFile, TranscriptionPolicy
from wagate.pipeline.ports import Kept
from wagate.providers.fonnte.client import FonnteClient
from wagate.providers.meta.client import MetaClient
from wagate.security.crypto import AesGcmSealer
from wagate.security.keys import Keyring, generate_key
from wagate.storage.media import SealedVault
from wagate.storage.media_text import MediaTextReader
from wagate.storage.objects import FileObjectStore, ObjectStoreUnavailable

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TOKEN = "meta-token"
NUMBER = "200000000000001"


def _jpeg(marker: str = "") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, format="JPEG")
    return out.getvalue() + marker.encode()  # bytes after the end marker: still a JPEG


@dataclass
class Rows:
    """The media rows, in memory (the `MediaRows` port)."""

    jobs: dict[int, MediaJob] = field(default_factory=dict)
    outcomes: dict[int, dict[str, Any]] = field(default_factory=dict)
    retries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, media_id: int, ref: MediaRef, provider: Provider = Provider.META) -> None:
        self.jobs[media_id] = MediaJob(
            id=media_id,
            conversation_id=1,
            provider=provider,
            channel_id=NUMBER,
            status=MediaStatus.PENDING,
            attempts=0,
            ref=ref,
        )

    async def load(self, media_id: int) -> MediaJob | None:
        return self.jobs.get(media_id)

    def _settle(self, media_id: int, status: MediaStatus, **facts: Any) -> bool:
        job = self.jobs[media_id]
        if job.status is not MediaStatus.PENDING:
            return False
        self.jobs[media_id] = replace(job, status=status)
        self.outcomes[media_id] = {"status": status, **facts}
        return True

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
    ) -> bool:
        return self._settle(
            media_id,
            MediaStatus.STORED,
            kept=kept,
            file_type=file_type.name,
            text=text,
            problem=problem,
        )

    async def hold(
        self, media_id: int, kept: Kept, *, file_type: FileType, declared: Declared
    ) -> bool:
        job = self.jobs[media_id]
        if job.status is not MediaStatus.PENDING or job.held is not None:
            return False
        self.jobs[media_id] = replace(job, attempts=0, held=StoredFile(kept, file_type, declared))
        return True

    async def settled(
        self,
        media_id: int,
        *,
        status: MediaStatus,
        problem: MediaProblem,
        error: str | None,
        at: datetime,
    ) -> bool:
        return self._settle(media_id, status, problem=problem, error=error)

    async def retry(self, media_id: int, *, attempts: int, error: str, run_at: datetime) -> None:
        self.jobs[media_id] = replace(self.jobs[media_id], attempts=attempts)
        self.retries.append({"id": media_id, "attempts": attempts, "error": error})


class Directory:
    def __init__(self, clients: dict[Provider, Any]) -> None:
        self.clients = clients

    def get(self, provider: Provider, channel_id: str) -> Any:
        return self.clients.get(provider)

    async def refresh(self, *, force: bool = False) -> bool:
        return False


class BrokenStore(FileObjectStore):
    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        async for _ in chunks:
            raise ObjectStoreUnavailable("connection refused")
        raise ObjectStoreUnavailable("connection refused")


@dataclass
class World:
    root: Path
    meta: FakeGraphApi
    fonnte: FakeFonnte
    rows: Rows
    fetch: FetchMedia
    vault: SealedVault
    recorder: MetricsRecorder

    def register(self, data: bytes | None = None, **spec: Any) -> str:
        if data is not None:
            spec["data_b64"] = base64.b64encode(data).decode()
        return self.meta.files.register(spec).id

    def stored_files(self) -> list[Path]:
        return [p for p in self.root.rglob("*") if p.is_file()]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    meta = FakeGraphApi(access_token=TOKEN)
    fonnte = FakeFonnte(token="device-token")
    meta_client = MetaClient(
        graph_url="http://graph.test/v22.0",
        access_token=TOKEN,
        phone_number_id=NUMBER,
        transport=httpx.ASGITransport(app=meta.app),
    )
    fonnte_client = FonnteClient(
        api_url="http://fonnte.test/send",
        token="device-token",
        transport=httpx.ASGITransport(app=fonnte.app),
    )
    sealer = AesGcmSealer(Keyring(keys=(generate_key(),)))
    vault = SealedVault(FileObjectStore(tmp_path), sealer, "firm", lambda: NOW)
    rows = Rows()
    recorder = MetricsRecorder()
    fetch = FetchMedia(
        rows=rows,
        vault=vault,
        providers=Directory({Provider.META: meta_client, Provider.FONNTE: fonnte_client}),
        limits=MediaLimits(image=64 * 1024, document=256 * 1024),
        backoff=BackoffPolicy(max_attempts=3),
        clock=lambda: NOW,
        jitter=lambda: 0.5,
        metrics=recorder.tenant("firm", sla_seconds=30),
    )
    yield World(tmp_path, meta, fonnte, rows, fetch, vault, recorder)


async def _plaintext(world: World, kept: Kept) -> bytes:
    return b"".join([p async for p in world.vault.open(kept.object_key, kept.wrapped_key)])


async def test_an_image_is_fetched_sealed_and_opens_again(world: World) -> None:
    photo = _jpeg("NIK3174012345678901")
    media_id = world.register(photo, mime_type="image/jpeg")
    world.rows.add(1, MediaRef(media_type="image", media_id=media_id, mime_type="image/jpeg"))

    assert await world.fetch(1) is MediaStatus.STORED
    outcome = world.rows.outcomes[1]
    assert outcome["file_type"] == "jpeg"
    kept: Kept = outcome["kept"]
    assert kept.size == len(photo)
    assert await _plaintext(world, kept) == photo
    [on_disk] = world.stored_files()
    assert b"NIK3174012345678901" not in on_disk.read_bytes()
    assert on_disk.stat().st_mode & 0o777 == 0o600
    # Asked with the token, once for the link and once for the bytes.
    assert [r["kind"] for r in world.meta.recorder.requests] == ["media_info", "media_download"]
    assert all(r["authorized"] for r in world.meta.recorder.requests)
    # A second run of the same job (a duplicate) does nothing.
    assert await world.fetch(1) is None


async def test_an_expired_link_is_renewed_once(world: World) -> None:
    media_id = world.register(_jpeg(), mime_type="image/jpeg", expire_first=1)
    world.rows.add(1, MediaRef(media_type="image", media_id=media_id))
    assert await world.fetch(1) is MediaStatus.STORED
    kinds = [r["kind"] for r in world.meta.recorder.requests]
    assert kinds == ["media_info", "media_download", "media_info", "media_download"]


async def test_a_link_that_stays_dead_and_an_unknown_id_fail_for_good(world: World) -> None:
    media_id = world.register(_jpeg(), mime_type="image/jpeg", expire_first=5)
    world.rows.add(1, MediaRef(media_type="image", media_id=media_id))
    world.rows.add(2, MediaRef(media_type="document", media_id="999999"))
    for media_id_ in (1, 2):
        assert await world.fetch(media_id_) is MediaStatus.FAILED
        assert world.rows.outcomes[media_id_]["problem"] is MediaProblem.UNAVAILABLE
    assert world.rows.retries == []  # gone is gone: no retry
    assert world.stored_files() == []


async def test_an_announced_size_over_the_limit_is_refused_before_a_byte_is_read(
    world: World,
) -> None:
    media_id = world.register(
        head_b64=base64.b64encode(_jpeg()).decode(), size=65 * 1024, mime_type="image/jpeg"
    )
    world.rows.add(1, MediaRef(media_type="image", media_id=media_id))
    assert await world.fetch(1) is MediaStatus.REFUSED
    assert world.rows.outcomes[1]["problem"] is MediaProblem.TOO_LARGE
    assert world.stored_files() == []


async def test_a_file_larger_than_announced_is_cut_off_and_nothing_is_kept(world: World) -> None:
    media_id = world.register(
        head_b64=base64.b64encode(b"%PDF-1.7\n").decode(),
        size=300 * 1024,
        mime_type="application/pdf",
        announce_size=None,
    )
    world.rows.add(1, MediaRef(media_type="document", media_id=media_id, filename="akta.pdf"))
    assert await world.fetch(1) is MediaStatus.REFUSED
    assert world.rows.outcomes[1]["problem"] is MediaProblem.TOO_LARGE
    assert world.stored_files() == []  # the partial object was removed


@pytest.mark.parametrize(
    ("data", "ref", "problem"),
    [
        (
            b"%PDF-1.4\n%fake\n",
            MediaRef(media_type="image", mime_type="image/jpeg"),
            MediaProblem.TYPE_MISMATCH,
        ),
        (
            b"MZ\x90\x00" + b"\x00" * 300,
            MediaRef(media_type="document", mime_type="application/pdf", filename="surat.pdf"),
            MediaProblem.EXECUTABLE,
        ),
        (
            b"PK\x03\x04" + b"\x00" * 26 + b"foto.jpg",
            MediaRef(media_type="document", mime_type="application/zip", filename="a.zip"),
            MediaProblem.TYPE_NOT_ACCEPTED,
        ),
    ],
)
async def test_lying_types_and_programs_are_refused(
    world: World, data: bytes, ref: MediaRef, problem: MediaProblem
) -> None:
    media_id = world.register(data, mime_type=ref.mime_type or "application/octet-stream")
    world.rows.add(1, replace(ref, media_id=media_id))
    assert await world.fetch(1) is MediaStatus.REFUSED
    assert world.rows.outcomes[1]["problem"] is problem
    assert world.stored_files() == []


async def test_a_failing_file_server_is_retried_then_given_up(world: World) -> None:
    media_id = world.register(_jpeg(), mime_type="image/jpeg", status=503)
    world.rows.add(1, MediaRef(media_type="image", media_id=media_id))
    assert await world.fetch(1) is MediaStatus.PENDING
    assert await world.fetch(1) is MediaStatus.PENDING
    assert [r["attempts"] for r in world.rows.retries] == [1, 2]
    assert "503" in world.rows.retries[0]["error"]
    assert await world.fetch(1) is MediaStatus.FAILED  # the third try was the last
    assert world.rows.outcomes[1]["problem"] is MediaProblem.UNAVAILABLE


async def test_an_object_store_that_is_down_is_retried_and_the_file_kept_later(
    world: World, tmp_path: Path
) -> None:
    media_id = world.register(_jpeg(), mime_type="image/jpeg")
    world.rows.add(1, MediaRef(media_type="image", media_id=media_id))
    healthy = world.fetch.vault
    world.fetch.vault = SealedVault(
        BrokenStore(tmp_path / "x"),
        AesGcmSealer(Keyring(keys=(generate_key(),))),
        "firm",
        lambda: NOW,
    )
    assert await world.fetch(1) is MediaStatus.PENDING
    assert "object store" in world.rows.retries[0]["error"]
    world.fetch.vault = healthy
    assert await world.fetch(1) is MediaStatus.STORED


async def test_fonnte_files_are_fetched_by_url_without_the_device_token(world: World) -> None:
    photo = _jpeg()
    file = world.fonnte.files.register({"data_b64": base64.b64encode(photo).decode()})
    url = f"http://fonnte.test/_files/{world.fonnte.files.link(file)}"
    world.rows.add(1, MediaRef(media_type="image", url=url, filename="x.jpg"), Provider.FONNTE)
    assert await world.fetch(1) is MediaStatus.STORED
    assert await _plaintext(world, world.rows.outcomes[1]["kept"]) == photo
    [download] = world.fonnte.recorder.listing("file_download")
    assert download["authorization"] is None

    expired = world.fonnte.files.register({"data_b64": base64.b64encode(photo).decode()})
    expired.expire_first = 1
    dead = f"http://fonnte.test/_files/{world.fonnte.files.link(expired)}"
    world.rows.add(2, MediaRef(media_type="image", url=dead), Provider.FONNTE)
    assert await world.fetch(2) is MediaStatus.FAILED


async def test_a_channel_without_files_is_told_so(world: World) -> None:
    class TextOnly:  # a plugin's adapter: sends text, declares no media
        capabilities = Capabilities()

    class Undeclared(MetaClient):  # can download, but says it hands no files over
        capabilities = Capabilities()

    world.rows.add(1, MediaRef(media_type="image", media_id="1"))
    world.rows.add(2, MediaRef(media_type="image", media_id="2"))
    world.fetch.providers = Directory({Provider.META: TextOnly()})
    assert await world.fetch(1) is MediaStatus.FAILED
    undeclared = Undeclared(graph_url="http://graph.test", access_token="t", phone_number_id="1")
    world.fetch.providers = Directory({Provider.META: undeclared})
    assert await world.fetch(2) is MediaStatus.FAILED
    assert {o["problem"] for o in world.rows.outcomes.values()} == {MediaProblem.UNSUPPORTED}


# ------------------------------------------------------------------ a document's text


def _pdf(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())


def _reading(world: World, *, max_bytes: int = 1024 * 1024) -> MediaTextReader:
    reader = MediaTextReader(world.vault, max_bytes=max_bytes, max_chars=200)
    world.fetch.reader = reader
    return reader


async def _texts(world: World) -> dict[int, str | None]:
    return {media_id: outcome.get("text") for media_id, outcome in world.rows.outcomes.items()}


async def test_a_pdfs_text_is_read_and_a_corrupted_pdf_is_kept_without_text(world: World) -> None:
    _reading(world)
    good = world.register(_pdf("Surat kuasa untuk Budi Santoso"), mime_type="application/pdf")
    broken = world.register(b"%PDF-1.7\n" + b"\x00garbage" * 500, mime_type="application/pdf")
    world.rows.add(1, MediaRef(media_type="document", media_id=good, filename="kuasa.pdf"))
    world.rows.add(2, MediaRef(media_type="document", media_id=broken, filename="rusak.pdf"))
    assert await world.fetch(1) is MediaStatus.STORED
    assert await world.fetch(2) is MediaStatus.STORED  # a corrupted PDF is still kept
    texts = await _texts(world)
    assert "Surat kuasa untuk Budi Santoso" in (texts[1] or "")
    assert texts[2] is None


async def test_files_over_the_reading_limit_are_kept_unread(world: World) -> None:
    _reading(world, max_bytes=100)
    media_id = world.register(_pdf("Surat kuasa"), mime_type="application/pdf")
    world.rows.add(1, MediaRef(media_type="document", media_id=media_id))
    assert await world.fetch(1) is MediaStatus.STORED
    assert (await _texts(world))[1] is None


@pytest.mark.skipif(not ocr.available(), reason="Tesseract with the Indonesian model is missing")
async def test_a_photographed_document_is_read_by_ocr(world: World) -> None:
    from PIL import ImageDraw, ImageFont

    _reading(world)
    image = Image.new("L", (1400, 200), 255)
    ImageDraw.Draw(image).text(
        (40, 60), "Surat panggilan sidang", fill=0, font=ImageFont.load_default(size=60)
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    media_id = world.register(out.getvalue(), mime_type="image/png")
    world.rows.add(1, MediaRef(media_type="image", media_id=media_id))
    assert await world.fetch(1) is MediaStatus.STORED
    assert "panggilan" in ((await _texts(world))[1] or "").lower()


# ------------------------------------------------------------------ voice notes (transcription)

VOICE = b"OggS\x00\x02" + bytes(range(256)) * 8  # an Ogg page header, then "audio"


@dataclass
class Voice:
    world: World
    ai: FakeOpenAI
    transcriber: OpenAICompatibleTranscriber

    def add_voice_note(self, media_id: int = 1, data: bytes = VOICE) -> None:
        fake_id = self.world.register(data, mime_type="audio/ogg; codecs=opus")
        self.world.rows.add(
            media_id, MediaRef(media_type="audio", media_id=fake_id, mime_type="audio/ogg")
        )

    def transcriptions(self) -> list[dict[str, Any]]:
        return self.ai.recorder.listing("transcription")


@pytest.fixture
async def voice(world: World) -> AsyncIterator[Voice]:
    ai = FakeOpenAI()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=ai.app))
    transcriber = OpenAICompatibleTranscriber(
        base_url="http://ai.test/v1", api_key="k", model="whisper-fake", http_client=client
    )
    world.fetch.transcriber = transcriber
    world.fetch.transcription = TranscriptionPolicy(
        max_bytes=64 * 1024, max_chars=40, backoff=BackoffPolicy(max_attempts=3)
    )
    world.fetch.limits = replace(world.fetch.limits, audio=256 * 1024)
    yield Voice(world, ai, transcriber)
    await client.aclose()


async def test_a_voice_note_is_kept_then_transcribed_and_the_transcript_stored(
    voice: Voice,
) -> None:
    voice.ai.transcripts.append(PlannedReply(model="any", text="  apa syarat cerai?  "))
    voice.add_voice_note()
    assert await voice.world.fetch(1) is MediaStatus.STORED
    outcome = voice.world.rows.outcomes[1]
    assert (outcome["text"], outcome["problem"], outcome["file_type"]) == (
        "apa syarat cerai?",
        None,
        "ogg",
    )
    assert await _plaintext(voice.world, outcome["kept"]) == VOICE
    [asked] = voice.transcriptions()
    assert asked["model"] == "whisper-fake" and asked["language"] == "id"
    assert asked["response_format"] == "json" and asked["filename"] == "voice.ogg"
    assert asked["content_type"] == "audio/ogg"
    assert asked["sha256"] == hashlib.sha256(VOICE).hexdigest()  # decrypted, whole


async def test_a_long_transcript_is_cut_at_a_word(voice: Voice) -> None:
    voice.ai.transcripts.append(PlannedReply(model="any", text="kata " * 30))
    voice.add_voice_note()
    await voice.world.fetch(1)
    text = voice.world.rows.outcomes[1]["text"]
    assert text.endswith(" …") and len(text) <= 42 and "kat …" not in text


async def test_a_failing_transcription_is_retried_from_the_kept_file_then_given_up(
    voice: Voice,
) -> None:
    voice.ai.recorder.failures.append(
        PlannedFailure(kind="whisper-fake", http_status=503, body={}, times=5)
    )
    voice.add_voice_note()
    assert await voice.world.fetch(1) is MediaStatus.PENDING
    job = voice.world.rows.jobs[1]
    assert job.held is not None and job.attempts == 1  # the file is kept; its tries restarted
    downloads = len(voice.world.meta.recorder.listing("media_download"))
    assert await voice.world.fetch(1) is MediaStatus.PENDING  # the second try
    assert await voice.world.fetch(1) is MediaStatus.STORED  # the third: spent, kept anyway
    assert len(voice.world.meta.recorder.listing("media_download")) == downloads  # not again
    outcome = voice.world.rows.outcomes[1]
    assert outcome["problem"] is MediaProblem.TRANSCRIPTION_FAILED and outcome["text"] is None
    assert await _plaintext(voice.world, outcome["kept"]) == VOICE  # nothing lost
    assert [r["attempts"] for r in voice.world.rows.retries] == [1, 2]
    assert all(r["error"].startswith("transcription: HTTP 503") for r in voice.world.rows.retries)
    assert len(voice.transcriptions()) == 3


async def test_a_transcription_that_recovers_is_stored_with_its_text(voice: Voice) -> None:
    voice.ai.recorder.failures.append(
        PlannedFailure(kind="whisper-fake", http_status=500, body={}, times=1)
    )
    voice.ai.transcripts.append(PlannedReply(model="any", text="halo"))
    voice.add_voice_note()
    assert await voice.world.fetch(1) is MediaStatus.PENDING
    assert await voice.world.fetch(1) is MediaStatus.STORED
    assert voice.world.rows.outcomes[1]["text"] == "halo"


async def test_a_refused_transcription_is_not_retried(voice: Voice) -> None:
    voice.ai.recorder.failures.append(PlannedFailure(kind="transcription", http_status=400))
    voice.add_voice_note()
    assert await voice.world.fetch(1) is MediaStatus.STORED
    assert voice.world.rows.outcomes[1]["problem"] is MediaProblem.TRANSCRIPTION_FAILED
    assert voice.world.rows.retries == []


async def test_a_recording_over_the_limit_or_silent_is_kept_without_text(voice: Voice) -> None:
    voice.add_voice_note(1, VOICE + bytes(64 * 1024))  # over the transcription limit
    assert await voice.world.fetch(1) is MediaStatus.STORED
    assert voice.world.rows.outcomes[1]["text"] is None
    assert voice.world.rows.outcomes[1]["problem"] is None  # "please write", not "failed"
    assert voice.transcriptions() == []
    voice.ai.transcripts.append(PlannedReply(model="any", text="   "))
    voice.add_voice_note(2)
    assert await voice.world.fetch(2) is MediaStatus.STORED
    assert voice.world.rows.outcomes[2]["text"] is None


async def test_without_a_transcriber_a_voice_note_is_only_kept(voice: Voice) -> None:
    voice.world.fetch.transcriber = None
    voice.add_voice_note()
    assert await voice.world.fetch(1) is MediaStatus.STORED
    assert voice.world.rows.outcomes[1]["text"] is None
    assert voice.transcriptions() == []


async def test_a_photo_is_never_sent_for_transcription(voice: Voice) -> None:
    media_id = voice.world.register(_jpeg(), mime_type="image/jpeg")
    voice.world.rows.add(1, MediaRef(media_type="image", media_id=media_id))
    assert await voice.world.fetch(1) is MediaStatus.STORED
    assert voice.transcriptions() == []


def _counted(world: World, name: str, **labels: str) -> float:
    return world.recorder.pending().get(("firm", name, labels_of(labels)), 0.0)


async def test_each_outcome_is_counted_once_with_its_kind_problem_bytes_and_time(
    world: World,
) -> None:
    photo = _jpeg()
    world.rows.add(1, MediaRef(media_type="image", media_id=world.register(photo)))
    world.rows.jobs[1] = replace(world.rows.jobs[1], received_at=NOW - timedelta(seconds=3))
    liar = world.register(b"%PDF-1.4\n%fake\n", mime_type="image/jpeg")
    world.rows.add(2, MediaRef(media_type="image", media_id=liar, mime_type="image/jpeg"))
    world.rows.add(3, MediaRef(media_type="document", media_id="999999"))
    assert await world.fetch(1) is MediaStatus.STORED
    assert await world.fetch(2) is MediaStatus.REFUSED
    assert await world.fetch(3) is MediaStatus.FAILED
    for media_id in (1, 2, 3):  # a duplicate job settles nothing and counts nothing
        assert await world.fetch(media_id) is None

    def media(kind: str, status: str, problem: str = "") -> float:
        labels = {"provider": "meta", "kind": kind, "status": status, "problem": problem}
        return _counted(world, "whatsapp_media_total", **labels)

    assert media("image", "stored") == 1
    assert media("image", "refused", "type_mismatch") == 1
    assert media("document", "failed", "unavailable") == 1
    bytes_stored = _counted(
        world, "whatsapp_media_stored_bytes_total", provider="meta", kind="image"
    )
    assert bytes_stored == len(photo)
    name = "whatsapp_media_store_seconds"
    assert _counted(world, f"{name}_sum", provider="meta") == 3.0
    assert _counted(world, f"{name}_bucket", provider="meta", le="2.5") == 0
    assert _counted(world, f"{name}_bucket", provider="meta", le="5.0") == 1


async def test_retries_are_counted_by_the_side_that_failed(world: World, tmp_path: Path) -> None:
    failing = world.register(_jpeg(), mime_type="image/jpeg", status=503)
    world.rows.add(1, MediaRef(media_type="image", media_id=failing))
    world.rows.add(2, MediaRef(media_type="image", media_id=world.register(_jpeg())))
    assert await world.fetch(1) is MediaStatus.PENDING
    world.fetch.vault = SealedVault(
        BrokenStore(tmp_path / "x"),
        AesGcmSealer(Keyring(keys=(generate_key(),))),
        "firm",
        lambda: NOW,
    )
    assert await world.fetch(2) is MediaStatus.PENDING
    await world.fetch.attempt_failed(2, "RuntimeError: surprise")
    assert _counted(world, "whatsapp_media_retry_total", provider="meta", cause="provider") == 1
    assert _counted(world, "whatsapp_media_retry_total", provider="meta", cause="object_store") == 1
    assert _counted(world, "whatsapp_media_retry_total", provider="meta", cause="unexpected") == 1
    # The last try gives up: a failure, not one more retry.
    assert await world.fetch(1) is MediaStatus.PENDING
    assert await world.fetch(1) is MediaStatus.FAILED
    assert _counted(world, "whatsapp_media_retry_total", provider="meta", cause="provider") == 2
    labels = {"provider": "meta", "kind": "image", "status": "failed", "problem": "unavailable"}
    assert _counted(world, "whatsapp_media_total", **labels) == 1
