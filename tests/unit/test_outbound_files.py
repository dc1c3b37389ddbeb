"""Files an operator sends by upload (issue 16, item 3), on in-memory ports: the checks by the
file's bytes, the send that stores the file with its row, and delivery's upload — once,
before the attempt, retried without a second message, and the file removed once sent."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.unit.operator_fakes import FakeAuditLog, FakeOutbox
from wagate.domain import errors as e
from wagate.domain.capabilities import Capabilities
from wagate.domain.file_types import by_name, sniff
from wagate.domain.messages import Provider
from wagate.domain.outbound_files import UploadLimits, UploadRefused, check_upload, kind_for
from wagate.domain.provider_port import FileContent, SentMessage
from wagate.domain.retry import BackoffPolicy
from wagate.domain.rich_messages import FileMessage, InvalidRichMessage, from_json
from wagate.fakes.fonnte import FakeFonnte
from wagate.pipeline.deliver import Deliver
from wagate.pipeline.operator import API, Conflict, Rejected, Unavailable
from wagate.pipeline.operator.recorder import Recorder
from wagate.pipeline.operator.sending import Sending
from wagate.pipeline.outbound_files import FileGone, OutboundFile
from wagate.pipeline.ports import Kept, OutboundMessage, StorageUnavailable
from wagate.providers.fonnte.client import FonnteClient
from wagate.testing import Clock, Directory, MemoryOutbox, ScriptedProvider

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NUMBER = "6281200000001"
MB = 1024 * 1024
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n" + b"x" * 5000 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 200
GIF = b"GIF89a" + b"\x00" * 200
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 500
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 16 + b"\x05\x00\x00\x00notes" + b"x" * 100


# ---------------------------------------------------------------- the checks (pure)


def _check(data: bytes, name: str, *, kind: str | None = None, mime: str | None = None) -> str:
    actual = sniff(data, name)
    limits = UploadLimits(image=5 * MB, document=100 * MB)
    as_kind = kind_for(actual, len(data), limits, kind)
    check_upload(
        kind=as_kind,
        actual=actual,
        size=len(data),
        filename=name,
        declared_mime=mime,
        limits=limits,
    )
    return as_kind


def test_a_pdf_goes_as_a_document_and_a_png_as_an_image_unless_asked() -> None:
    assert _check(PDF, "surat.pdf", mime="application/pdf") == "document"
    assert _check(PNG, "foto.png") == "image"
    assert _check(PNG, "foto.png", kind="document") == "document"


@pytest.mark.parametrize(
    ("data", "name", "kind", "mime", "problem"),
    [
        (EXE, "surat.pdf", None, "application/pdf", "executable"),  # a program renamed .pdf
        (PDF, "setup.exe", None, None, "executable"),  # a name that runs on a desktop
        (ZIP, "berkas.zip", None, None, "type_not_accepted"),
        (PDF, "surat.pdf", None, "image/png", "type_mismatch"),  # the declared type lies
        (PDF, "foto.png", None, None, "type_mismatch"),  # so does the extension
        (PDF, "surat.pdf", "image", None, "type_mismatch"),  # a PDF is no photo
        (GIF, "animasi.gif", "image", None, "image_type"),  # WhatsApp shows JPEG/PNG only
        (b"", "kosong.pdf", None, None, "empty"),
    ],
)
def test_what_may_not_go_is_refused_with_its_reason(
    data: bytes, name: str, kind: str | None, mime: str | None, problem: str
) -> None:
    with pytest.raises(UploadRefused) as refused:
        _check(data, name, kind=kind, mime=mime)
    assert refused.value.problem == problem


def test_the_limit_is_per_kind_and_never_above_the_providers_ceiling() -> None:
    limits = UploadLimits(image=1000, document=5000)
    pdf, png = by_name("pdf"), by_name("png")
    # A photo over the photo limit goes as a document when no kind is asked for.
    assert kind_for(png, 2000, limits, None) == "document"
    with pytest.raises(UploadRefused, match="1000-byte limit for images"):
        check_upload(
            kind="image", actual=png, size=2000, filename="a.png", declared_mime=None, limits=limits
        )
    check_upload(
        kind="document", actual=pdf, size=5000, filename="a.pdf", declared_mime=None, limits=limits
    )
    with pytest.raises(UploadRefused, match="4000-byte limit for documents"):
        check_upload(
            kind="document",
            actual=pdf,
            size=4001,
            filename="a.pdf",
            declared_mime=None,
            limits=limits,
            provider_ceiling=4000,
        )


def test_a_file_message_round_trips_and_refuses_what_is_not_one() -> None:
    message = FileMessage(
        type="document",
        filename="surat-kuasa.pdf",
        mime_type="application/pdf",
        size=12,
        sha256="ab" * 32,
        caption="Mohon ditandatangani",
    )
    assert from_json(message.as_json()) == message
    assert message.summary() == "[document surat-kuasa.pdf] Mohon ditandatangani"
    shown = message.as_json()["upload"]
    for broken in ({"size": 0}, {"sha256": "xyz"}, {"filename": "../a.pdf"}, {"type": "video"}):
        with pytest.raises(InvalidRichMessage):
            from_json({"upload": shown | broken})


# ---------------------------------------------------------------- the operator's send


@dataclass
class MemoryFile:
    data: bytes
    filename: str | None = "surat.pdf"
    content_type: str | None = "application/pdf"
    claimed: int | None = None  # a size that lies
    reads: int = 0

    @property
    def size(self) -> int:
        return self.claimed if self.claimed is not None else len(self.data)

    async def chunks(self) -> AsyncIterator[bytes]:
        self.reads += 1
        for start in range(0, len(self.data), 4096):
            yield self.data[start : start + 4096]


@dataclass
class MemoryVault:
    objects: dict[str, bytes] = field(default_factory=dict)
    down: bool = False
    kept: int = 0

    async def keep(self, chunks: AsyncIterable[bytes]) -> Kept:
        if self.down:
            raise StorageUnavailable("disk gone")
        data = b"".join([piece async for piece in chunks])
        self.kept += 1
        key = f"t/{self.kept}"
        self.objects[key] = data
        digest = hashlib.sha256(data).hexdigest()
        return Kept(object_key=key, wrapped_key=b"k", size=len(data), sha256=digest)

    async def discard(self, kept: Kept) -> None:
        self.objects.pop(kept.object_key, None)

    async def read(self, kept: Kept, *, limit: int) -> bytes | None:
        return self.objects[kept.object_key]


@dataclass
class WindowedOutbox(FakeOutbox):
    last: dict[str, datetime] = field(default_factory=dict)

    async def last_inbound(self, provider: Provider, target: str) -> datetime | None:
        return self.last.get(target)


def _sending(outbox: FakeOutbox, vault: MemoryVault, audit: FakeAuditLog | None = None) -> Sending:
    return Sending(
        outbox=outbox,
        channels={Provider.META: "100", Provider.FONNTE: "fonnte"},
        capabilities={
            Provider.META: Capabilities(window_24h=True, media=True, media_uploads=True),
            Provider.FONNTE: Capabilities(media=True, media_uploads=True, upload_max_bytes=4 * MB),
        },
        recorder=Recorder(audit=audit or FakeAuditLog(), clock=lambda: NOW),
        vault=vault,
        upload_limits=UploadLimits(image=5 * MB, document=100 * MB),
    )


def _open_window() -> WindowedOutbox:
    return WindowedOutbox(last={NUMBER: NOW - timedelta(hours=1)})


async def test_a_pdf_is_kept_sealed_and_queued_once_per_key_with_what_describes_it() -> None:
    outbox, vault = _open_window(), MemoryVault()
    sending = _sending(outbox, vault)
    first = await sending.send_file(NUMBER, MemoryFile(PDF), by=API, caption="Surat", key="k")
    again = await sending.send_file(NUMBER, MemoryFile(PDF), by=API, caption="Surat", key="k")
    assert (first.queued, again.queued) == (1, 0)
    [queued] = outbox.queued.values()
    message = from_json(queued["rich"])
    assert isinstance(message, FileMessage)
    assert (message.type, message.filename, message.mime_type) == (
        "document",
        "surat.pdf",
        "application/pdf",
    )
    assert message.sha256 == hashlib.sha256(PDF).hexdigest() and message.size == len(PDF)
    assert queued["upload"].kept.object_key in vault.objects
    # The replay's copy was discarded: one object for one message.
    assert list(vault.objects.values()) == [PDF]


async def test_refusals_come_before_the_file_is_read_or_kept() -> None:
    vault = MemoryVault()
    closed = WindowedOutbox(last={NUMBER: NOW - timedelta(hours=30)})
    file = MemoryFile(PDF)
    with pytest.raises(Conflict, match="template"):
        await _sending(closed, vault).send_file(NUMBER, file, by=API)
    no_uploads = Sending(
        outbox=_open_window(),
        channels={Provider.META: "100"},
        capabilities={Provider.META: Capabilities(window_24h=True, media=True)},
        recorder=Recorder(audit=FakeAuditLog(), clock=lambda: NOW),
        vault=vault,
    )
    with pytest.raises(Rejected, match="cannot send uploaded files: send a link"):
        await no_uploads.send_file(NUMBER, file, by=API)
    assert file.reads == 0 and vault.objects == {}


async def test_a_program_renamed_pdf_is_refused_audited_and_nothing_is_kept() -> None:
    outbox, vault, audit = _open_window(), MemoryVault(), FakeAuditLog()
    with pytest.raises(Rejected, match="program or script"):
        await _sending(outbox, vault, audit).send_file(NUMBER, MemoryFile(EXE), by=API)
    assert outbox.queued == {} and vault.objects == {}
    assert [(r.action, r.details.get("problem")) for r in audit.events] == [
        ("operator.refused_file", "executable")
    ]


async def test_over_the_limit_is_refused_whether_the_size_is_told_or_lied_about() -> None:
    outbox, vault = _open_window(), MemoryVault()
    big = PDF + b"y" * (4 * MB)
    with pytest.raises(Rejected, match="limit for documents"):
        await _sending(outbox, vault).send_file(
            NUMBER, MemoryFile(big), by=API, provider=Provider.FONNTE
        )
    liar = MemoryFile(PDF + b"y" * (6 * MB), filename="foto.png", content_type="image/png")
    liar.data = PNG + b"y" * (6 * MB)
    liar.claimed = 1000  # announced small: the bytes are counted as they pass
    with pytest.raises(Rejected, match="over the 5242880-byte limit"):
        await _sending(outbox, vault).send_file(NUMBER, liar, by=API)
    assert outbox.queued == {} and vault.objects == {}


async def test_a_store_that_is_down_is_unavailable_and_nothing_is_queued() -> None:
    outbox = _open_window()
    with pytest.raises(Unavailable):
        await _sending(outbox, MemoryVault(down=True)).send_file(NUMBER, MemoryFile(PDF), by=API)
    assert outbox.queued == {}


# ---------------------------------------------------------------- delivery


@dataclass
class MemoryFiles:
    """The OutboundFiles port in memory."""

    rows: dict[int, OutboundFile] = field(default_factory=dict)
    objects: dict[str, bytes] = field(default_factory=dict)
    down: bool = False
    deleted: list[int] = field(default_factory=list)

    def add(self, outbound_id: int, data: bytes) -> None:
        key = f"obj/{outbound_id}"
        self.objects[key] = data
        self.rows[outbound_id] = OutboundFile(
            outbound_id=outbound_id,
            kept=Kept(object_key=key, wrapped_key=b"k", size=len(data), sha256=""),
        )

    async def of_message(self, outbound_id: int) -> OutboundFile | None:
        return self.rows.get(outbound_id)

    async def chunks(self, file: OutboundFile) -> AsyncIterator[bytes]:
        if self.down:
            raise StorageUnavailable("store down")
        data = self.objects.get(file.kept.object_key)
        if data is None:
            raise FileGone("missing")
        for start in range(0, len(data), 1000):
            yield data[start : start + 1000]

    async def uploaded(
        self, outbound_id: int, *, media_id: str, channel_id: str, at: datetime
    ) -> None:
        old = self.rows[outbound_id]
        self.rows[outbound_id] = OutboundFile(
            outbound_id=outbound_id,
            kept=old.kept,
            media_id=media_id,
            media_channel=channel_id,
            uploaded_at=at,
        )

    async def delivered(self, outbound_id: int) -> None:
        file = self.rows.pop(outbound_id)
        self.objects.pop(file.kept.object_key)
        self.deleted.append(outbound_id)


@dataclass
class Uploader(ScriptedProvider):
    """Meta-like: uploads first, then sends by id; `uploads` scripts each upload's outcome."""

    uploads: list[Exception | None] = field(default_factory=list)
    received: list[bytes] = field(default_factory=list)  # every upload's bytes
    by_id: list[tuple[str, str]] = field(default_factory=list)  # (media id, tracker)

    def __post_init__(self) -> None:
        self.capabilities = Capabilities(
            window_24h=True, status_webhooks=True, media=True, media_uploads=True
        )

    async def upload_media(self, *, content: FileContent) -> str:
        data = b"".join([piece async for piece in content.chunks()])
        outcome = self.uploads.pop(0) if self.uploads else None
        if outcome is not None:
            raise outcome
        self.received.append(data)
        return f"media-{len(self.received)}"

    async def send_uploaded(
        self, *, to: str, message: FileMessage, media_id: str, tracker: str | None = None
    ) -> SentMessage:
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.by_id.append((media_id, str(tracker)))
        return SentMessage(provider_message_id=f"wamid.u{len(self.by_id)}")


def _file_row(outbox: MemoryOutbox, files: MemoryFiles, data: bytes = PDF) -> None:
    outbox.add(1)
    row = outbox.rows[1]
    row.message = _upload_message(row.message, data)
    files.add(1, data)


def _upload_message(message: OutboundMessage, data: bytes) -> OutboundMessage:
    rich = FileMessage(
        type="document",
        filename="surat.pdf",
        mime_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    return replace(message, rich=rich.as_json(), text=rich.summary())


def _deliver(provider: ScriptedProvider, files: MemoryFiles) -> tuple[Deliver, MemoryOutbox, Clock]:
    outbox = MemoryOutbox()
    clock = Clock(NOW)
    outbox.clock = clock
    deliver = Deliver(
        outbox=outbox,
        providers=Directory(provider),
        backoff=BackoffPolicy(max_attempts=3, base=timedelta(seconds=1)),
        clock=clock,
        jitter=lambda: 0.0,
        pacing=None,
        files=files,
    )
    return deliver, outbox, clock


async def test_the_file_is_uploaded_then_sent_by_its_id_once_and_then_removed() -> None:
    provider, files = Uploader(), MemoryFiles()
    deliver, outbox, _ = _deliver(provider, files)
    _file_row(outbox, files)
    assert await deliver(1) == 1
    assert provider.received == [PDF]
    assert provider.by_id == [("media-1", outbox.rows[1].message.idempotency_key)]
    assert outbox.statuses() == ["accepted"] and outbox.rows[1].attempts == 1
    assert files.deleted == [1] and files.objects == {}


async def test_a_failed_upload_is_retried_and_the_message_still_goes_once() -> None:
    provider = Uploader(uploads=[e.ProviderUnavailable("500", code="131053")])
    files = MemoryFiles()
    deliver, outbox, clock = _deliver(provider, files)
    _file_row(outbox, files)
    assert await deliver(1) == 0
    assert provider.by_id == [] and outbox.statuses() == ["pending"]
    assert outbox.rows[1].attempts == 1  # the failed upload counted as the attempt
    clock.now = outbox.deferred[-1]
    assert await deliver(1) == 1
    assert provider.received == [PDF] and [m for m, _ in provider.by_id] == ["media-1"]


async def test_an_upload_already_made_is_not_made_again_after_a_crash() -> None:
    """The upload recorded its id, then the process died before the message went: the row is
    still pending (the attempt is recorded only after the upload), and the next run sends the
    message with the recorded id without uploading again."""
    provider, files = Uploader(), MemoryFiles()
    deliver, outbox, _ = _deliver(provider, files)
    _file_row(outbox, files)
    await files.uploaded(1, media_id="media-earlier", channel_id="pn", at=NOW)
    assert await deliver(1) == 1
    assert provider.received == [] and [m for m, _ in provider.by_id] == ["media-earlier"]


async def test_an_upload_with_an_unknown_outcome_is_uploaded_again_never_left_unknown() -> None:
    provider = Uploader(uploads=[e.OutcomeUnknown("timeout")])
    files = MemoryFiles()
    deliver, outbox, clock = _deliver(provider, files)
    _file_row(outbox, files)
    assert await deliver(1) == 0
    assert outbox.statuses() == ["pending"]  # not `sending`: no message can have gone
    clock.now = outbox.deferred[-1]
    assert await deliver(1) == 1 and len(provider.by_id) == 1


async def test_our_store_down_spends_no_attempt_and_a_missing_file_fails_for_good() -> None:
    provider, files = Uploader(), MemoryFiles(down=True)
    deliver, outbox, clock = _deliver(provider, files)
    _file_row(outbox, files)
    assert await deliver(1) == 0
    assert outbox.rows[1].attempts == 0 and outbox.statuses() == ["pending"]
    files.down = False
    files.objects.clear()  # the object is gone
    clock.now = outbox.deferred[-1]
    assert await deliver(1) == 0
    assert outbox.statuses() == ["failed"] and outbox.rows[1].error_code == "file_gone"
    assert provider.by_id == []


@dataclass
class OneRequest(ScriptedProvider):
    """Fonnte-like: the file travels with the message."""

    files: list[tuple[str, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = Provider.FONNTE
        self.capabilities = Capabilities(media=True, media_uploads=True, upload_max_bytes=4 * MB)

    async def send_file(
        self,
        *,
        to: str,
        message: FileMessage,
        content: FileContent,
        tracker: str | None = None,
    ) -> SentMessage:
        data = b"".join([piece async for piece in content.chunks()])
        self.files.append((message.filename, data))
        return SentMessage(provider_message_id=str(len(self.files)))


async def test_a_provider_taking_the_file_with_the_message_gets_it_in_one_send() -> None:
    provider, files = OneRequest(), MemoryFiles()
    deliver, outbox, _ = _deliver(provider, files)
    _file_row(outbox, files)
    assert await deliver(1) == 1
    assert provider.files == [("surat.pdf", PDF)] and files.deleted == [1]


async def test_fonnte_takes_the_file_in_its_file_field_and_refuses_over_4_mb() -> None:
    """The real client against the fake Fonnte (in process): the multipart `file` field with
    the name and type, the caption as the message; the fake refuses more than 4 MB as Fonnte
    does ("file size must under 4MB"), and the client refuses it before sending."""
    fake = FakeFonnte(token="t")
    client = FonnteClient(
        api_url="http://fonnte.test/send", token="t", transport=httpx.ASGITransport(app=fake.app)
    )
    message = FileMessage(
        type="document",
        filename="surat.pdf",
        mime_type="application/pdf",
        size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
        caption="Surat kuasa",
    )

    async def chunks() -> AsyncIterator[bytes]:
        yield PDF

    content = FileContent(
        filename="surat.pdf", mime_type="application/pdf", size=len(PDF), chunks=chunks
    )
    try:
        sent = await client.send_file(to=NUMBER, message=message, content=content)
        big = FileContent(
            filename="besar.pdf", mime_type="application/pdf", size=4 * MB + 1, chunks=chunks
        )
        with pytest.raises(e.InvalidRequest, match="4 MB"):
            await client.send_file(to=NUMBER, message=message, content=big)
    finally:
        await client.aclose()
    [entry] = fake.recorder.listing("send")
    assert sent.provider_message_id == entry["ids"][0]
    assert entry["fields"] == {
        "target": NUMBER,
        "message": "Surat kuasa",
        "countryCode": "0",
        "filename": "surat.pdf",
    }
    assert entry["file"] == {
        "filename": "surat.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
        "sha256": hashlib.sha256(PDF).hexdigest(),
    }
