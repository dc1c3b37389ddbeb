"""What both fuzz targets share: the checks one input must pass, and a runner that uses atheris
(coverage-guided) when it is installed and a plain mutation loop over the seed corpus when not.

Run by hand, never in CI; see docs/fuzzing.md.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from wagate.domain.messages import WebhookBatch
from wagate.providers.payload import MAX_IDENTIFIER_CHARS
from wagate.security.crypto import AesGcmSealer, BlindIndex
from wagate.security.keys import Keyring, generate_key
from wagate.storage.intake import IntakeStore

SEEDS = Path(__file__).resolve().parent.parent / "tests" / "data"
NOW = datetime(2026, 5, 1, tzinfo=UTC)
_RING = Keyring(keys=(generate_key(),))
# No database: `_all_params` is everything storing does before the SQL, sealing included.
_STORE = IntakeStore(None, AesGcmSealer(_RING), BlindIndex(_RING), "fuzz")  # type: ignore[arg-type]


def storable(batch: WebhookBatch) -> None:
    """Every part can be turned into rows PostgreSQL accepts: identifiers clean and short,
    every raw payload writable."""
    _STORE._all_params(batch, NOW)
    for part in (*batch.messages, *batch.statuses):
        for value in (part.message_id, part.channel_id):
            _clean_identifier(value)
        orjson.dumps(part.raw, option=orjson.OPT_NON_STR_KEYS)
    for other in batch.others:
        _clean_identifier(other.field_name)
        if other.channel_id is not None:
            _clean_identifier(other.channel_id)


def _clean_identifier(value: str) -> None:
    assert "\x00" not in value, value
    assert len(value) <= MAX_IDENTIFIER_CHARS, len(value)
    value.encode("utf-8")  # no lone surrogate


def seeds(prefixes: tuple[str, ...]) -> list[bytes]:
    found = [
        path.read_bytes()
        for folder in (SEEDS / "payloads", SEEDS / "pywa")
        for path in sorted(folder.glob("*.json"))
        if path.name.startswith(prefixes)
    ]
    return found or [b"{}"]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        choice = rng.random()
        position = rng.randrange(len(buffer) + 1)
        if choice < 0.3 and buffer:
            buffer[min(position, len(buffer) - 1)] = rng.randrange(256)
        elif choice < 0.5:
            buffer[position:position] = rng.choice(
                [b"\\u0000", b"\\ud800", b"[" * 300, b"9" * 40, b'"x":{},', b"\x00", b"\xff"]
            )
        elif choice < 0.7 and buffer:
            del buffer[position : position + rng.randint(1, 16)]
        else:
            start = rng.randrange(len(buffer) + 1)
            buffer[position:position] = buffer[start : start + rng.randint(1, 64)]
    return bytes(buffer)


def run(target: Callable[[bytes], None], prefixes: tuple[str, ...], argv: list[str]) -> None:
    """atheris when installed (its own flags: -runs=N, -max_total_time=S, a corpus folder,
    seeded from tests/data when none is named), otherwise, or with `--plain`, `--seconds S` of
    mutations of the seed corpus (default 60)."""
    try:
        if "--plain" in argv:
            raise ImportError("--plain")
        import atheris  # type: ignore[import-not-found]
    except ImportError:
        seconds = float(argv[argv.index("--seconds") + 1]) if "--seconds" in argv else 60.0
        _plain_loop(target, seeds(prefixes), seconds)
        return
    if not any(not arg.startswith("-") for arg in argv[1:]):
        corpus = Path(tempfile.mkdtemp(prefix="wagate-fuzz-"))
        for number, seed in enumerate(seeds(prefixes)):
            (corpus / f"seed-{number}").write_bytes(seed)
        argv = [*argv, str(corpus)]
    atheris.instrument_all()  # coverage of everything imported so far: wagate's parsers included
    atheris.Setup(argv, target)
    atheris.Fuzz()


def _plain_loop(target: Callable[[bytes], None], corpus: list[bytes], seconds: float) -> None:
    rng = random.Random()
    deadline = time.monotonic() + seconds
    runs = 0
    while time.monotonic() < deadline:
        data = _mutate(rng.choice(corpus), rng)
        try:
            target(data)
        except Exception:
            crash = Path(f"crash-{int(time.time())}-{runs}.bin")
            crash.write_bytes(data)
            print(f"crash after {runs} runs; input saved to {crash}", file=sys.stderr)
            raise
        runs += 1
    print(f"{runs} runs in {seconds:.0f} s, no crash (plain mutation loop)")


def as_fields(data: bytes) -> dict[str, Any] | None:
    """The same bytes read as form fields, decoded as a lenient server would: invalid UTF-8
    becomes lone surrogates, which must be cleaned like any other poison."""
    from urllib.parse import parse_qsl

    text = data.decode("utf-8", errors="surrogateescape")
    try:
        return dict(parse_qsl(text, errors="surrogateescape", max_num_fields=1000))
    except ValueError:
        return None
