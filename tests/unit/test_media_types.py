"""The magic-byte sniffer and the media policy (MD1): real files made here, not hand-typed
headers only, so the sniffer is checked against what the libraries people use write."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from fpdf import FPDF
from PIL import Image

from wagate.domain.file_types import HEAD_BYTES, Family, by_name, extension_of, sniff
from wagate.domain.media import (
    Declared,
    MediaLimits,
    MediaProblem,
    judge,
    safe_filename,
    too_large,
)


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, format=fmt)
    return out.getvalue()


def _pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Surat kuasa")
    return bytes(pdf.output())


def _docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Perjanjian sewa")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _zip(entries: dict[str, bytes], *, stored_first: tuple[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first is not None:
            archive.writestr(zipfile.ZipInfo(stored_first[0]), stored_first[1])
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


SAMPLES: dict[str, bytes] = {
    "jpeg": _image("JPEG"),
    "png": _image("PNG"),
    "gif": _image("GIF"),
    "webp": _image("WEBP"),
    "tiff": _image("TIFF"),
    "pdf": _pdf(),
    "docx": _docx(),
    "xlsx": _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}),
    "odt": _zip(
        {"content.xml": b"<office/>"},
        stored_first=("mimetype", b"application/vnd.oasis.opendocument.text"),
    ),
    "zip": _zip({"foto1.jpg": b"\xff\xd8\xff" + b"x" * 100}),
    "apk": _zip({"AndroidManifest.xml": b"\x03\x00", "classes.dex": b"dex\n035"}),
    "exe": b"MZ\x90\x00" + b"\x00" * 200,
    "elf": b"\x7fELF\x02\x01\x01" + b"\x00" * 100,
    "script": b"#!/bin/sh\nrm -rf ~\n",
    "html": b"<!DOCTYPE html><html><script>alert(1)</script></html>",
    "ogg": b"OggS\x00\x02" + b"\x00" * 20 + b"OpusHead\x01\x02",
    "mp4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",
    "m4a": b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A mp42isom",
    "3gpp": b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00",
    "heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 10,
    "amr": b"#!AMR\n" + b"\x3c" * 30,
    "text": "Pak, saya mau tanya soal warisan.\nTerima kasih 🙏\n".encode(),
    "rar": b"Rar!\x1a\x07\x01\x00" + b"\x00" * 20,
    "doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_is_sniffed_as_what_it_is(name: str) -> None:
    assert sniff(SAMPLES[name]).name == name


def test_a_head_cut_inside_a_multibyte_character_is_still_text() -> None:
    text = ("é" * HEAD_BYTES).encode()
    assert sniff(text[:HEAD_BYTES]).name == "text"  # the cut falls inside a character
    assert sniff(b"abc\x00def").name == "unknown"  # binary is not text
    assert sniff(b"").name == "unknown"


def test_the_name_decides_only_what_the_bytes_cannot() -> None:
    ole2 = SAMPLES["doc"]
    assert sniff(ole2, "tabel.xls").name == "xls"
    assert sniff(ole2, "setup.msi").family is Family.EXECUTABLE
    assert sniff(SAMPLES["text"], "data.csv").name == "csv"
    # …and never overrides them: a JPEG named .pdf is a JPEG.
    assert sniff(SAMPLES["jpeg"], "kontrak.pdf").name == "jpeg"


def test_a_pdf_header_after_junk_within_the_first_kilobyte_is_a_pdf() -> None:
    assert sniff(b"\r\n" * 100 + SAMPLES["pdf"]).name == "pdf"


def test_extension_of_reads_only_the_base_name() -> None:
    assert extension_of("C:\\Users\\budi\\KTP.JPG") == "jpg"
    assert extension_of("a.tar.gz") == "gz"
    assert extension_of("README") is None
    assert extension_of(None) is None
    assert extension_of("foto.") is None


# ------------------------------------------------------------------ the policy


def _judge(kind: str, sample: str, mime: str | None = None, name: str | None = None) -> object:
    return judge(
        Declared(media_type=kind, mime_type=mime, filename=name), sniff(SAMPLES[sample], name)
    )


@pytest.mark.parametrize(
    ("kind", "sample", "mime", "name"),
    [
        ("image", "jpeg", "image/jpeg", None),
        ("image", "png", "image/png", None),
        ("sticker", "webp", "image/webp", None),
        ("document", "pdf", "application/pdf", "surat.pdf"),
        ("document", "docx", None, "kontrak.docx"),
        ("document", "docx", "application/octet-stream", "kontrak.docx"),
        ("document", "jpeg", "image/jpeg", "ktp.jpg"),  # a photo sent as a document
        ("document", "text", "text/plain", "catatan.txt"),
        ("document", "xlsx", None, None),
        ("audio", "ogg", "audio/ogg; codecs=opus", None),  # a voice note
        ("audio", "m4a", "audio/mp4", None),
        ("audio", "mp4", "audio/mp4", None),  # an M4A without its brand: the same container
        ("video", "mp4", "video/mp4", None),
        ("video", "3gpp", "video/3gpp", None),
    ],
)
def test_honest_files_are_kept(kind: str, sample: str, mime: str | None, name: str | None) -> None:
    assert _judge(kind, sample, mime, name) is None


@pytest.mark.parametrize(
    ("kind", "sample", "mime", "name", "problem"),
    [
        ("document", "exe", "application/pdf", "surat.pdf", MediaProblem.EXECUTABLE),
        ("document", "elf", None, None, MediaProblem.EXECUTABLE),
        ("document", "apk", None, "game.apk", MediaProblem.EXECUTABLE),
        ("document", "script", "text/plain", "notes.txt", MediaProblem.EXECUTABLE),
        ("document", "html", "text/html", "page.html", MediaProblem.EXECUTABLE),
        # A harmless text that Windows would run for its name.
        ("document", "text", "text/plain", "invoice.bat", MediaProblem.EXECUTABLE),
        ("document", "pdf", "application/pdf", "surat.pdf.exe", MediaProblem.EXECUTABLE),
        ("document", "zip", "application/zip", "berkas.zip", MediaProblem.TYPE_NOT_ACCEPTED),
        ("document", "rar", None, None, MediaProblem.TYPE_NOT_ACCEPTED),
        # The declared type lies.
        ("image", "pdf", "image/jpeg", None, MediaProblem.TYPE_MISMATCH),
        ("document", "jpeg", "application/pdf", "kontrak.pdf", MediaProblem.TYPE_MISMATCH),
        ("document", "docx", "application/pdf", None, MediaProblem.TYPE_MISMATCH),
        ("document", "xlsx", None, "kontrak.docx", MediaProblem.TYPE_MISMATCH),
        ("audio", "mp3", "audio/ogg", None, MediaProblem.TYPE_MISMATCH),
        ("video", "jpeg", "video/mp4", None, MediaProblem.TYPE_MISMATCH),
        ("document", "png", None, "scan.jpg", MediaProblem.TYPE_MISMATCH),
    ],
)
def test_programs_archives_and_lies_are_refused(
    kind: str, sample: str, mime: str | None, name: str | None, problem: MediaProblem
) -> None:
    assert _judge(kind, sample, mime, name) is problem


def test_limits_are_per_kind_and_configurable() -> None:
    limits = MediaLimits()
    image = Declared(media_type="image")
    document = Declared(media_type="document")
    assert not too_large(5 * 1024 * 1024, image, limits)
    assert too_large(5 * 1024 * 1024 + 1, image, limits)
    assert not too_large(100 * 1024 * 1024, document, limits)
    assert too_large(100 * 1024 * 1024 + 1, document, limits)
    assert not too_large(None, image, limits)  # unknown yet: counted while reading
    assert too_large(2_000, image, MediaLimits(image=1_000))
    assert limits.for_kind("audio") == limits.for_kind("video") == 16 * 1024 * 1024


def test_an_offered_file_name_is_cleaned_and_tells_the_truth() -> None:
    assert safe_filename('../../"KTP Budi".exe', by_name("jpeg")) == "KTP Budi.jpg"
    assert safe_filename(None, by_name("pdf")) == "file.pdf"
    assert safe_filename("surat\r\nX-Injected: 1.pdf", by_name("pdf")).count("\n") == 0
