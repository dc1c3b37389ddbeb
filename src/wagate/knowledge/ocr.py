"""Text from pictures of text: scanned PDFs and images, read by Tesseract's Indonesian model.

Tesseract is a program (Debian: `tesseract-ocr` and `tesseract-ocr-ind`), not a Python
package; where it or its Indonesian model is missing, the source gets a message saying what to
install instead of an empty document. Scanned PDF pages are rasterised with pypdfium2 into
grey-scale PGM images (a format Tesseract reads without any imaging library in Python).
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache

from wagate.knowledge.errors import SourceError

LANGUAGE = "ind"
PAGE_SECONDS = 60  # one page of OCR; a stuck Tesseract must not hold a refresh for ever
RENDER_SCALE = 300 / 72  # 300 dpi: what Tesseract is trained for
MAX_PAGES = 200

INSTALL_HINT = (
    "install Tesseract with its Indonesian model (Debian/Ubuntu: "
    "apt-get install tesseract-ocr tesseract-ocr-ind)"
)


@lru_cache(maxsize=1)
def _tesseract() -> str | None:
    """The Tesseract program if it is installed with the Indonesian model, else None."""
    program = shutil.which("tesseract")
    if program is None:
        return None
    try:
        listed = subprocess.run(
            [program, "--list-langs"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    languages = (listed.stdout + listed.stderr).split()
    return program if LANGUAGE in languages else None


def available() -> bool:
    return _tesseract() is not None


def _require(what: str) -> str:
    program = _tesseract()
    if program is None:
        raise SourceError(f"{what} has no text layer and OCR is not available: {INSTALL_HINT}")
    return program


def read_image(data: bytes, *, what: str = "this image") -> str:
    """The text Tesseract reads in one image (PNG, JPEG, TIFF, PGM …)."""
    program = _require(what)
    try:
        done = subprocess.run(
            [program, "stdin", "stdout", "-l", LANGUAGE],
            input=data,
            capture_output=True,
            timeout=PAGE_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise SourceError(f"OCR of {what} took longer than {PAGE_SECONDS} s") from error
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["failed"]
        raise SourceError(f"OCR of {what} failed: {detail[0]}")
    return done.stdout.decode(errors="replace")


def read_scanned_pdf(data: bytes) -> str:
    """Each page rendered at 300 dpi and read by Tesseract, pages separated by blank lines."""
    _require("this PDF")
    import pypdfium2  # only here: rendering is needed for scans alone

    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as error:
        raise SourceError(f"the PDF cannot be rendered for OCR: {error}") from error
    try:
        if len(pdf) > MAX_PAGES:
            raise SourceError(f"a scanned PDF of {len(pdf)} pages is over the {MAX_PAGES} read")
        pages = []
        for number in range(len(pdf)):
            bitmap = pdf[number].render(scale=RENDER_SCALE, grayscale=True)
            pages.append(read_image(_pgm(bitmap), what=f"page {number + 1}"))
        return "\n\n".join(pages)
    finally:
        pdf.close()


def _pgm(bitmap: object) -> bytes:
    """A grey-scale pdfium bitmap as a binary PGM image (rows copied without their padding)."""
    width: int = bitmap.width  # type: ignore[attr-defined]
    height: int = bitmap.height  # type: ignore[attr-defined]
    stride: int = bitmap.stride  # type: ignore[attr-defined]
    raw = bytes(bitmap.buffer)  # type: ignore[attr-defined]
    pixels = b"".join(raw[row * stride : row * stride + width] for row in range(height))
    return f"P5 {width} {height} 255\n".encode() + pixels
