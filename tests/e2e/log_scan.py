"""CP6 over the end-to-end suite: the logs every process wrote hold no secret, no personal
data and no message text.

`tests/e2e/conftest.py` runs `assert_logs_are_clean` when the session's `workdir` is torn
down: after every other e2e test of the session (of each xdist worker, which has a workdir of
its own) has run and every gateway, worker and fake it started has been stopped, so each log is
complete. Every `*.log` under the workdir (and an embedded PostgreSQL's `log`) is read; a JSON
line is scanned both raw and value by value, since JSON escapes ("\\n0812…") can hide a number
from the recognisers. `test_logs_are_clean.py` shows that the scan finds what it looks for.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e import harness
from wagate.domain.privacy.recognizers import find_pii
from wagate.domain.privacy.spans import EntityType
from wagate.observability.logs import redact_text

SECRETS = {
    "APP_SECRET": harness.APP_SECRET,
    "ACCESS_TOKEN": harness.ACCESS_TOKEN,
    "API_TOKEN": harness.API_TOKEN,
    "FONNTE_SECRET": harness.FONNTE_SECRET,
    "FONNTE_TOKEN": harness.FONNTE_TOKEN,
    "VERIFY_TOKEN": harness.VERIFY_TOKEN,
    "AI_API_KEY": "e2e-ai-key",  # Gateway(ai_url=...) sets it
    "device token (test_fonnte_intake)": "SECRET-DEVICE-TOKEN",
}
# Texts the e2e tests send or have sent, distinctive enough not to occur in a log otherwise;
# people's names the tests give contacts; personal data from the privacy tests.
SENTINELS = (
    "Halo admin",
    "Rahasia perkara",
    "Budiman nomor 777",
    "Pemberitahuan dari operator",
    "Dari CLI",
    "pertanyaan pertama",
    "pertanyaan kedua",
    "biaya konsultasi",
    "masih di sana",
    "Halo, apa kabar",
    "sekarang dengan nomor",
    "halo dari BSUID",
    "kalimat panjang sekali",
    "Paragraf 1.",
    "Kegiatan anggaran akun",
    "rapat koordinasi",
    "Klien ingin bercerai",
    "mengurus surat kuasa",
    "sengketa tanah",
    "Berkas Anda siap",
    "Jadwal sidang berubah",
    "Kode verifikasi",
    "bukan merupakan nasihat hukum",
    "ECHO[",
    "x" * 40,
    "Budi Santoso",
    "Kartika Sembiring",
    "Siti Aminah",
    "Dewi Lestari",
    "Tanpa Nomor",
    "Pengguna Sandbox",
    "3171014508900003",
    "budi.santoso@kantorhukum.co.id",
    "kantorhukum",
    "9876-5432",
    "01.234.567.8-901.000",
)
# `harness.tag(sender)`: "k" + eight letters a–j, put into many e2e message texts.
TAG = re.compile(r"(?<![A-Za-z])k[a-j]{8}(?![A-Za-z])")
# What the recognisers must not find. Names are left to SENTINELS: the name heuristics also
# fire on ordinary capitalised English in library messages.
PII_KINDS = frozenset(
    {EntityType.NIK, EntityType.NPWP, EntityType.EMAIL, EntityType.TELEPON, EntityType.REKENING}
)
# The business's own identifiers; listed so that a failure says what they are. They are not
# allowed either: nothing in the gateway logs them today, and it has no reason to.
BUSINESS_NUMBERS = (harness.PHONE_NUMBER_ID, "6282200000000")


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    what: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.path.name}:{self.line}: {self.what}: {self.excerpt}"


def assert_logs_are_clean(workdir: Path, started: list[Path]) -> None:
    """Fail, naming each finding (masked), when a log under `workdir` holds a secret, a
    sentinel text, a message tag or personal data. `started`: the logs of the processes the
    session started; each one must be among those scanned (a scan that missed them would pass
    for the wrong reason)."""
    logs = _log_files(workdir)
    missed = [path for path in started if path.is_relative_to(workdir) and path not in logs]
    assert not missed, f"logs the scan did not find: {missed}"
    gateways = [path for path in logs if path.name.startswith("gateway-")]
    assert not gateways or any(
        "gateway.started" in path.read_text(errors="replace") for path in gateways
    ), "no gateway log says the gateway started: is this the directory they log in?"
    findings = [finding for path in logs for finding in scan(path, workdir)]
    scanned = sum(1 for path in logs for _ in _read_lines(path))
    assert not findings, (
        f"{len(findings)} finding(s) in {len(logs)} log files ({scanned} lines):\n"
        + "\n".join(str(f) for f in findings[:50])
    )


def _log_files(workdir: Path) -> list[Path]:
    """Every `*.log`, and the server log of an embedded PostgreSQL (`<pgdata>/log`)."""
    return sorted(
        path
        for path in workdir.rglob("*")
        if (path.suffix == ".log" or path.name == "log") and path.is_file()
    )


def _read_lines(path: Path) -> Iterator[str]:
    try:
        data = path.read_bytes()
    except OSError:  # removed while we looked (a test's own temporary directory)
        return
    yield from data.decode("utf-8", errors="replace").splitlines()


def scan(path: Path, workdir: Path) -> Iterator[Finding]:
    relative = path.relative_to(workdir)
    for number, line in enumerate(_read_lines(path), start=1):
        for what, excerpt in _problems(line):
            yield Finding(relative, number, what, excerpt)


def _problems(line: str) -> Iterator[tuple[str, str]]:
    for name, secret in SECRETS.items():
        if secret in line:
            yield f"secret {name}", _excerpt(line, line.index(secret), len(secret), f"<{name}>")
    folded = line.casefold()
    for index, sentinel in enumerate(SENTINELS):
        at = folded.find(sentinel.casefold())
        if at >= 0:
            yield f"message text #{index}", _excerpt(line, at, len(sentinel), f"<SENTINEL {index}>")
    for match in TAG.finditer(line):
        yield "message tag", _excerpt(line, match.start(), len(match[0]), "<TAG>")
    for text in _texts_of(line):
        for span in find_pii(text):
            if span.kind in PII_KINDS:
                known = " (the business's own number)" if span.value in BUSINESS_NUMBERS else ""
                yield (
                    f"{span.kind.value}{known}",
                    _excerpt(text, span.start, span.end - span.start, f"<{span.kind.value}>"),
                )


def _texts_of(line: str) -> list[str]:
    """The line, and each string in it when it is JSON (decoded, escapes and all), with line
    breaks as spaces: the recognisers' "$" would otherwise take "word\n0812…" as glued."""
    texts = [line]
    if line.startswith("{"):
        with contextlib.suppress(ValueError):  # a line still being written, or not ours
            texts += [
                text.replace("\r", " ").replace("\n", " ") for text in _strings(json.loads(line))
            ]
    return texts


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _excerpt(text: str, start: int, length: int, mask: str, context: int = 60) -> str:
    """Up to `context` characters either side of the hit, the hit itself replaced by `mask` and
    the rest redacted as the gateway would log it."""
    before = redact_text(text[max(0, start - context) : start])
    after = redact_text(text[start + length : start + length + context])
    return repr(before + mask + after)
