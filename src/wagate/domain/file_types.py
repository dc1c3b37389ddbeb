"""What a file really is, from its first bytes (MD1): a small magic-byte sniffer, pure.

A declared MIME type or a file name is what the sender *says*; the bytes are what it *is*.
`sniff(head, filename)` reads the head of a file (the first `HEAD_BYTES`, or all of a smaller
file) and names its type. It knows the formats people send a law firm (photos, scans, PDFs,
Word and other office files, voice notes, videos), the ones to refuse (programs, scripts,
archives that could carry them, active web content), and says `unknown` for the rest.

Only a few containers need a look inside: a ZIP is a Word, Excel, PowerPoint or OpenDocument
file, an Android or Java program, or a plain archive, told apart by the entry names in its
first local headers; an ISO base media file (MP4, M4A, 3GP, MOV, HEIC) by its `ftyp` brand.
An OLE2 compound file (old .doc/.xls/.ppt, but also .msi installers) cannot be told apart
from its head, so its file name decides which of them it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# How much of a file the sniffer reads: enough for the entry names of an office file's first
# ZIP headers, and small enough to hold in memory for any number of files at once.
HEAD_BYTES = 64 * 1024


class Family(StrEnum):
    IMAGE = "image"
    DOCUMENT = "document"  # PDF, office files, rich text
    TEXT = "text"  # plain text, CSV
    AUDIO = "audio"
    VIDEO = "video"
    EXECUTABLE = "executable"  # programs, installers, scripts, active web content
    ARCHIVE = "archive"  # could carry anything, and we cannot look inside safely
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class FileType:
    name: str  # our short name: "jpeg", "pdf", "docx" …
    mime: str  # the canonical MIME type
    family: Family
    extension: str  # the usual file name extension, without the dot


def _t(name: str, mime: str, family: Family, extension: str | None = None) -> FileType:
    return FileType(name=name, mime=mime, family=family, extension=extension or name)


_F = Family
TYPES: dict[str, FileType] = {
    t.name: t
    for t in (
        _t("jpeg", "image/jpeg", _F.IMAGE, "jpg"),
        _t("png", "image/png", _F.IMAGE),
        _t("gif", "image/gif", _F.IMAGE),
        _t("webp", "image/webp", _F.IMAGE),
        _t("heic", "image/heic", _F.IMAGE),
        _t("tiff", "image/tiff", _F.IMAGE, "tif"),
        _t("bmp", "image/bmp", _F.IMAGE),
        _t("pdf", "application/pdf", _F.DOCUMENT),
        _t(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            _F.DOCUMENT,
        ),
        _t(
            "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _F.DOCUMENT
        ),
        _t(
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            _F.DOCUMENT,
        ),
        # An office file whose part names lie beyond the head: Word, Excel or PowerPoint.
        _t("ooxml", "application/vnd.openxmlformats-officedocument", _F.DOCUMENT, "docx"),
        _t("odt", "application/vnd.oasis.opendocument.text", _F.DOCUMENT),
        _t("ods", "application/vnd.oasis.opendocument.spreadsheet", _F.DOCUMENT),
        _t("odp", "application/vnd.oasis.opendocument.presentation", _F.DOCUMENT),
        _t("doc", "application/msword", _F.DOCUMENT),
        _t("xls", "application/vnd.ms-excel", _F.DOCUMENT),
        _t("ppt", "application/vnd.ms-powerpoint", _F.DOCUMENT),
        _t("rtf", "application/rtf", _F.DOCUMENT),
        _t("text", "text/plain", _F.TEXT, "txt"),
        _t("csv", "text/csv", _F.TEXT),
        _t("ogg", "audio/ogg", _F.AUDIO),
        _t("mp3", "audio/mpeg", _F.AUDIO),
        _t("aac", "audio/aac", _F.AUDIO),
        _t("amr", "audio/amr", _F.AUDIO),
        _t("m4a", "audio/mp4", _F.AUDIO),
        _t("wav", "audio/wav", _F.AUDIO),
        _t("mp4", "video/mp4", _F.VIDEO),
        _t("3gpp", "video/3gpp", _F.VIDEO, "3gp"),
        _t("quicktime", "video/quicktime", _F.VIDEO, "mov"),
        _t("webm", "video/webm", _F.VIDEO),
        _t("exe", "application/vnd.microsoft.portable-executable", _F.EXECUTABLE),
        _t("elf", "application/x-executable", _F.EXECUTABLE, "bin"),
        _t("macho", "application/x-mach-binary", _F.EXECUTABLE, "bin"),
        _t("apk", "application/vnd.android.package-archive", _F.EXECUTABLE),
        _t("jar", "application/java-archive", _F.EXECUTABLE),
        _t("dex", "application/x-dex", _F.EXECUTABLE),
        _t("msi", "application/x-msi", _F.EXECUTABLE),
        _t("lnk", "application/x-ms-shortcut", _F.EXECUTABLE),
        _t("script", "text/x-script", _F.EXECUTABLE, "sh"),
        _t("html", "text/html", _F.EXECUTABLE),
        _t("svg", "image/svg+xml", _F.EXECUTABLE),
        _t("zip", "application/zip", _F.ARCHIVE),
        _t("rar", "application/vnd.rar", _F.ARCHIVE),
        _t("7z", "application/x-7z-compressed", _F.ARCHIVE),
        _t("gzip", "application/gzip", _F.ARCHIVE, "gz"),
        _t("bzip2", "application/x-bzip2", _F.ARCHIVE, "bz2"),
        _t("xz", "application/x-xz", _F.ARCHIVE),
        _t("zstd", "application/zstd", _F.ARCHIVE, "zst"),
        _t("cab", "application/vnd.ms-cab-compressed", _F.ARCHIVE),
        _t("unknown", "application/octet-stream", _F.UNKNOWN, "bin"),
    )
}

# Extensions that run something when opened on a desktop, whatever the bytes look like (a
# text file named .bat or .js is a program to Windows).
DANGEROUS_EXTENSIONS = frozenset(
    {
        "exe", "com", "scr", "pif", "cpl", "dll", "sys", "msi", "msp", "mst", "bat", "cmd",
        "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta", "ps1", "psm1", "psd1", "reg", "lnk",
        "inf", "jar", "apk", "xapk", "aab", "dex", "app", "dmg", "pkg", "deb", "rpm", "sh",
        "bash", "zsh", "csh", "py", "pyw", "pl", "rb", "php", "elf", "run", "bin", "command",
        "html", "htm", "xhtml", "svg", "swf", "docm", "xlsm", "pptm", "dotm", "xltm", "iso",
        "img", "vhd", "vhdx", "chm", "appx", "msix", "gadget", "application", "url", "scf",
    }
)  # fmt: skip

# File name extensions → our type name (what a name claims). Unknown extensions claim nothing.
_BY_EXTENSION: dict[str, str] = {
    **{t.extension: t.name for t in TYPES.values() if t.family is not Family.UNKNOWN},
    "jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "tif": "tiff", "tiff": "tiff",
    "heif": "heic", "txt": "text", "text": "text", "opus": "ogg", "oga": "ogg", "m4a": "m4a",
    "mp4": "mp4", "m4v": "mp4", "3gp": "3gpp", "3gpp": "3gpp", "mov": "quicktime",
    "docx": "docx", "xlsx": "xlsx", "pptx": "pptx", "doc": "doc", "xls": "xls", "ppt": "ppt",
    "zip": "zip", "gz": "gzip", "tgz": "gzip", "htm": "html", "bin": "unknown",
}  # fmt: skip

# MIME types as providers send them → our type name (what a sender's client claims).
_BY_MIME: dict[str, str] = {
    **{t.mime: t.name for t in TYPES.values()},
    "image/jpg": "jpeg", "image/pjpeg": "jpeg", "image/heif": "heic", "image/x-png": "png",
    "audio/opus": "ogg", "audio/x-m4a": "m4a", "audio/m4a": "m4a", "audio/mp3": "mp3",
    "audio/x-wav": "wav", "audio/wave": "wav", "audio/3gpp": "3gpp", "audio/aacp": "aac",
    "video/x-m4v": "mp4", "video/3gpp2": "3gpp", "application/x-pdf": "pdf",
    "application/x-zip-compressed": "zip", "application/x-msdownload": "exe",
    "application/x-msdos-program": "exe", "application/x-sh": "script",
    "application/javascript": "script", "text/javascript": "script",
    "application/x-rar-compressed": "rar", "text/comma-separated-values": "csv",
}  # fmt: skip

# Claims that say nothing: any real type satisfies them.
GENERIC_MIMES = frozenset(
    {"application/octet-stream", "binary/octet-stream", "application/unknown", "application/binary"}
)


def by_name(name: str) -> FileType:
    return TYPES[name]


def extension_of(filename: str | None) -> str | None:
    """The last extension of a file name, lower-case, without the dot; None when it has none.
    Only the base name counts (a provider may send a path)."""
    if not filename:
        return None
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip().rstrip(".")
    if "." not in base:
        return None
    extension = base.rsplit(".", 1)[1].lower()
    return extension or None


def claimed_by_extension(filename: str | None) -> FileType | None:
    name = _BY_EXTENSION.get(extension_of(filename) or "")
    return TYPES[name] if name and name != "unknown" else None


def claimed_by_mime(mime: str | None) -> FileType | None:
    """The type a MIME type names (parameters such as `; codecs=opus` ignored); None for a
    generic or unknown one."""
    if not mime:
        return None
    bare = mime.split(";", 1)[0].strip().lower()
    if bare in GENERIC_MIMES:
        return None
    name = _BY_MIME.get(bare)
    return TYPES[name] if name else None


# ------------------------------------------------------------------ the sniffer

_EXECUTABLE_MAGIC = (
    (b"MZ", "exe"),
    (b"\x7fELF", "elf"),
    (b"\xfe\xed\xfa\xce", "macho"),
    (b"\xfe\xed\xfa\xcf", "macho"),
    (b"\xce\xfa\xed\xfe", "macho"),
    (b"\xcf\xfa\xed\xfe", "macho"),
    (b"\xca\xfe\xba\xbe", "macho"),  # Mach-O universal binary, or a Java class file
    (b"dex\n", "dex"),
    (b"L\x00\x00\x00\x01\x14\x02\x00", "lnk"),
)
_SIMPLE_MAGIC = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"{\\rtf", "rtf"),
    (b"#!AMR", "amr"),
    (b"ID3", "mp3"),
    (b"\x1a\x45\xdf\xa3", "webm"),
    (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"MSCF", "cab"),
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_EMPTY_ZIP = b"PK\x05\x06"
# ISO base media `ftyp` brands → type (the major brand; 3GP and HEIC brands are prefixes).
_FTYP_BRANDS = (
    (b"heic", "heic"),
    (b"heix", "heic"),
    (b"heim", "heic"),
    (b"heis", "heic"),
    (b"mif1", "heic"),
    (b"msf1", "heic"),
    (b"M4A ", "m4a"),
    (b"M4B ", "m4a"),
    (b"qt  ", "quicktime"),
    (b"3gp", "3gpp"),
    (b"3g2", "3gpp"),
)
_ODF_MIMETYPES = (
    (b"application/vnd.oasis.opendocument.text", "odt"),
    (b"application/vnd.oasis.opendocument.spreadsheet", "ods"),
    (b"application/vnd.oasis.opendocument.presentation", "odp"),
)
# Control characters a text file does not contain (tab, newlines and form feed are fine).
_BINARY_BYTES = frozenset(range(0, 32)) - {9, 10, 12, 13}


def sniff(head: bytes, filename: str | None = None) -> FileType:
    """The type of a file whose first bytes are `head` (at most `HEAD_BYTES` are looked at).

    `filename` only decides among types the bytes cannot tell apart (an OLE2 file: .doc, .xls,
    .ppt or an .msi installer; a text file: .csv or plain); it never overrides the bytes."""
    head = head[:HEAD_BYTES]
    name = _sniff_name(head, filename)
    return TYPES[name]


def _sniff_name(head: bytes, filename: str | None) -> str:
    for magic, name in _EXECUTABLE_MAGIC:
        if head.startswith(magic):
            return name
    for magic, name in _SIMPLE_MAGIC:
        if head.startswith(magic):
            return name
    if head.startswith(b"#!"):  # after "#!AMR"
        return "script"
    if head.startswith(_OLE2):
        return _ole2(filename)
    if head.startswith((_ZIP, _EMPTY_ZIP)):
        return _zip(head, filename)
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return "webp" if head[8:12] == b"WEBP" else "wav"
    if head[4:8] == b"ftyp":
        return _iso_media(head)
    if head.startswith(b"OggS"):
        return "ogg"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "aac"  # ADTS frame sync, layer 0
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "mp3"  # MPEG audio frame sync
    if head.startswith(b"BM") and len(head) >= 14 and head[6:10] == b"\x00\x00\x00\x00":
        return "bmp"
    # PDF readers accept the header anywhere in the first kilobyte (mail gateways prepend).
    if b"%PDF-" in head[:1024]:
        return "pdf"
    return _text(head, filename)


def _ole2(filename: str | None) -> str:
    extension = extension_of(filename)
    if extension in ("msi", "msp", "mst"):
        return "msi"
    if extension in ("xls", "xlt"):
        return "xls"
    if extension in ("ppt", "pps", "pot"):
        return "ppt"
    return "doc"


def _zip(head: bytes, filename: str | None) -> str:
    """What a ZIP container is, from the entry names in its local headers (and an
    OpenDocument file's first entry, its stored `mimetype`)."""
    if head.startswith(_ZIP) and head[30:38] == b"mimetype":
        for mimetype, name in _ODF_MIMETYPES:
            if mimetype in head[38:200]:
                return name
    if b"AndroidManifest.xml" in head or b"classes.dex" in head:
        return "apk"
    if b"META-INF/MANIFEST.MF" in head and b".class" in head:
        return "jar"
    for marker, name in ((b"word/", "docx"), (b"xl/", "xlsx"), (b"ppt/", "pptx")):
        if marker in head:
            return name
    if b"[Content_Types].xml" in head or b"_rels/.rels" in head:
        claimed = claimed_by_extension(filename)
        if claimed is not None and claimed.name in ("docx", "xlsx", "pptx"):
            return claimed.name
        return "ooxml"
    return "zip"


def _iso_media(head: bytes) -> str:
    brand = head[8:12]
    for prefix, name in _FTYP_BRANDS:
        if brand.startswith(prefix):
            return name
    return "mp4"


def _text(head: bytes, filename: str | None) -> str:
    if not head:
        return "unknown"
    sample = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    try:
        decoded = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The head may end inside a multi-byte character: only an error there is forgiven.
        if exc.start < len(sample) - 3:
            return "unknown"
        decoded = sample[: exc.start].decode("utf-8")
    if any(ord(char) in _BINARY_BYTES for char in decoded):
        return "unknown"
    opening = decoded.lstrip()[:512].lower()
    if opening.startswith(("<!doctype html", "<html", "<script")) or "<script" in opening:
        return "html"
    if opening.startswith("<svg") or ("<svg" in opening and opening.startswith("<?xml")):
        return "svg"
    return "csv" if extension_of(filename) == "csv" else "text"
