"""Log redaction (CP6): no secret, personal data or long payload in any log line, whether it
comes from our structlog events or from a library through the standard `logging` module."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from wagate.domain.privacy.recognizers import find_pii
from wagate.observability.logs import (
    MAX_STRING,
    MAX_TRACEBACK,
    REDACTED,
    _may_hold_pii,
    configure_logging,
    redact,
    redact_text,
)

PII_DATA = Path(__file__).parent.parent / "data" / "pii"
NOISY = ("procrastinate", "alembic", "httpx", "httpx2", "openai", "uvicorn.access")


def _redacted(**fields: Any) -> dict[str, Any]:
    return dict(redact(None, "info", dict(fields)))


@pytest.fixture
def log_stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """A StringIO that `configure_logging` (see `_configure`) writes to; global logging state
    is restored after the test."""
    stream = io.StringIO()
    saved_config = structlog.get_config()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_levels = {name: logging.getLogger(name).level for name in NOISY}
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    try:
        yield stream
    finally:
        structlog.reset_defaults()
        structlog.configure(**saved_config)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


def _configure(stream: io.StringIO, fmt: str = "json") -> None:
    """`configure_logging` with stderr being `stream` (pytest swaps sys.stderr per phase, so
    this happens inside the test; the loggers keep the stream they were given)."""
    real = sys.stderr
    sys.stderr = stream
    try:
        configure_logging("INFO", fmt)
    finally:
        sys.stderr = real


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


# ------------------------------------------------------------------ what stays as it is


def test_our_ordinary_fields_survive_unchanged() -> None:
    fields = {
        "event": "converse.answered",
        "conversation_id": 12,
        "outcome": "done",
        "model": "model-a",
        "error_type": "ProviderUnavailable",
        "latency_ms": 31,
        "retry_in_s": 4.5,
        "worker": True,
        "sandbox": None,
        "prompt_tokens": 1234,
        "request_id": "e0891fa9525142eca70cf6004513aaad",
        "path": "/tmp/pytest-of-root/pytest-48/e2e0/data-40887/encryption-keys.json",
        "reason": "signature_invalid",
        "hint": "set AI_BASE_URL, AI_API_KEY and AI_MODEL",
        "timestamp": "2026-11-22T04:26:48.068167Z",
        "level": "info",
    }
    assert _redacted(**fields) == fields


def test_library_messages_without_personal_data_survive() -> None:
    for text in (
        "Uvicorn running on http://127.0.0.1:40887 (Press CTRL+C to quit)",
        "Started server process [1795]",
        "SANDBOX MODE: no provider credentials. WhatsApp (and the AI, unless AI_BASE_URL is "
        "set) are built-in fakes. Try it: `wagate chat` in another terminal.",
    ):
        assert _redacted(event=text)["event"] == text


# ------------------------------------------------------------------ secrets by key name


@pytest.mark.parametrize(
    "key",
    [
        "token",
        "access_token",
        "META_ACCESS_TOKEN",
        "verify_token",
        "hub.verify_token",
        "app_secret",
        "FONNTE_WEBHOOK_SECRET",
        "password",
        "db_passwd",
        "Authorization",
        "api_key",
        "apiKey",
        "X-Api-Key",
        "key",
        "private_key",
        "key_material",
        "encryption_keys",
        "Cookie",
        "Set-Cookie",
        "signature",
        "X-Hub-Signature-256",
        "otp",
        "credentials",
    ],
)
def test_values_under_secret_keys_are_redacted(key: str) -> None:
    assert _redacted(**{key: "s3cr3t-value-123"})[key] == REDACTED


def test_secret_keys_are_found_in_nested_dicts_lists_and_header_pairs() -> None:
    event = _redacted(
        request={
            "url": "/v1/chat",
            "headers": {"Authorization": "Bearer abcdefghijk", "Accept": "application/json"},
            "body": [{"api_key": "k-123"}, {"note": "ok"}],
        },
        raw_headers=[(b"authorization", b"Bearer abcdefghijk"), (b"accept", b"*/*")],
    )
    assert event["request"]["headers"] == {"Authorization": REDACTED, "Accept": "application/json"}
    assert event["request"]["body"] == [{"api_key": REDACTED}, {"note": "ok"}]
    assert event["request"]["url"] == "/v1/chat"
    assert event["raw_headers"][0][1] == REDACTED
    assert "abcdefghijk" not in json.dumps(event, default=str)


def test_a_secret_key_tells_whether_it_was_set_but_never_what_it_is() -> None:
    assert _redacted(token=None, api_key=True, secret=123456) == {
        "token": None,
        "api_key": True,
        "secret": REDACTED,
    }


# ------------------------------------------------------------------ personal data in text


@pytest.mark.parametrize(
    ("text", "value", "placeholder"),
    [
        ("NIK saya 3171014508900003 ya", "3171014508900003", "[NIK]"),
        ("hubungi 0812-3456-7890 besok", "0812-3456-7890", "[TELEPON]"),
        ("nomor saya +62 812 3456 7890", "812 3456 7890", "[TELEPON]"),
        ("sender 6281234567890 rejected", "6281234567890", "[TELEPON]"),
        ("email budi.santoso@kantorhukum.co.id", "budi.santoso@kantorhukum.co.id", "[EMAIL]"),
        ("NPWP 01.234.567.8-901.000", "01.234.567.8-901.000", "[NPWP]"),
        ("transfer ke BCA 1234567890 ya", "1234567890", "[REKENING]"),
        ("Bapak Budi Santoso sudah datang", "Budi Santoso", "[NAMA]"),
        ("a.n. BUDI SANTOSO", "BUDI SANTOSO", "[NAMA]"),
    ],
)
def test_personal_data_in_any_string_is_replaced_by_its_kind(
    text: str, value: str, placeholder: str
) -> None:
    event = _redacted(event=text, detail=text, nested={"items": [text]})
    for masked in (event["event"], event["detail"], event["nested"]["items"][0]):
        assert value not in masked
        assert placeholder in masked


def test_long_numbers_logged_as_ints_are_checked_too() -> None:
    event = _redacted(sender=6281234567890, nik=3171014508900003, count=42, big=10**12)
    assert event == {"sender": "[TELEPON]", "nik": "[NIK]", "count": 42, "big": 10**12}


def test_database_errors_quoting_a_contact_key_are_masked() -> None:
    detail = "Key (contact_key)=(6281234567890) already exists; whatsapp_6281234567890"
    masked = _redacted(event=detail)["event"]
    assert "6281234567890" not in masked and masked.count("[TELEPON]") == 2


def test_personal_data_at_the_start_of_a_line_is_masked() -> None:
    text = (
        "Traceback (most recent call last):\nValueError: tidak terkirim\n0812-3456-7890\nPak\nBudi"
    )
    assert _redacted(exception=text)["exception"] == (
        "Traceback (most recent call last):\nValueError: tidak terkirim\n[TELEPON]\nPak\n[NAMA]"
    )


def test_objects_are_redacted_as_they_would_be_rendered() -> None:
    error = ValueError("bad recipient 081234567890")
    masked = _redacted(error=error)["error"]
    assert masked == "ValueError('bad recipient [TELEPON]')"


def test_the_gate_never_skips_a_text_the_recognisers_find_something_in() -> None:
    texts = [
        json.loads(line)["text"]
        for name in ("corpus.jsonl", "handwritten.jsonl")
        for line in (PII_DATA / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    texts += ["pak-Budi Santoso", "nama:budi", "nama saya budi", "an BUDI SANTOSO", "Sdr.Andi x"]
    assert len(texts) > 100
    texts += [text.replace(" ", "\n") for text in texts]
    for text in texts:
        spans = find_pii(text.replace("\n", " "))
        if spans:
            assert _may_hold_pii(text), text
            masked = redact_text(text, limit=10**6)
            for span in spans:
                assert f"[{span.kind.value}]" in masked, (text, masked)


# ------------------------------------------------------------------ secrets inside text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("POST /webhook/fonnte/fonnte-secret-0123456789abcdef HTTP/1.1", "fonnte-secret"),
        ("/webhook/fonnte/abc123?x=1", "abc123"),
        (
            "GET /webhook/whatsapp?hub.mode=subscribe&hub.verify_token=vt-123&hub.challenge=9",
            "vt-123",
        ),
        ("https://graph.example/v22.0/me?access_token=EAAB123&fields=id", "EAAB123"),
        ("https://api.example/x?key=AIzaSy123&alt=json", "AIzaSy123"),
        ("https://cdn.example/f?X-Amz-Signature=abcdef0123", "abcdef0123"),
        ("https://x.example/?token=t0k3n", "t0k3n"),
        ("postgresql://postgres:hunter22@127.0.0.1:5432/db", "hunter22"),
        ("Authorization: Bearer e2e-api-token", "e2e-api-token"),
        ("{'Authorization': 'Bearer abcdefgh'}", "abcdefgh"),
        ('{"api_key": "sk-123456"}', "sk-123456"),
        ("X-Hub-Signature-256: sha256=0123456789abcdef", "0123456789abcdef"),
        ("Idempotency-Key: cli-once", "cli-once"),
        ("password=hunter22 user=x", "hunter22"),
    ],
)
def test_secrets_inside_text_are_redacted(text: str, secret: str) -> None:
    masked = redact_text(text)
    assert secret not in masked
    assert REDACTED in masked


def test_the_fonnte_secret_is_redacted_in_a_path_field() -> None:
    event = _redacted(event="request.rejected", path="/webhook/fonnte/fonnte-secret-0123", size=9)
    assert event == {
        "event": "request.rejected",
        "path": f"/webhook/fonnte/{REDACTED}",
        "size": 9,
    }


def test_query_parameters_that_are_not_secret_stay() -> None:
    masked = redact_text("/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=x&hub.challenge=7")
    assert "hub.mode=subscribe" in masked and "hub.challenge=7" in masked


# ------------------------------------------------------------------ size


def test_long_strings_are_cut() -> None:
    masked = _redacted(payload="x" * 70_000)["payload"]
    assert len(masked) < MAX_STRING + 50
    assert "chars cut" in masked


def test_personal_data_across_the_cut_is_masked_whole() -> None:
    for value in ("0812-3456-7890", "budi.santoso@kantorhukum.co.id", "3171014508900003"):
        start = MAX_STRING - len(value) // 2
        text = "kata " * (start // 5) + "." * (start % 5) + value + " lanjut" * 500
        assert text.index(value) == start
        masked = redact_text(text)
        assert len(masked) < MAX_STRING + 50
        for piece in (value[:5], value[-5:]):
            assert piece not in masked, (value, masked[-80:])


def test_a_word_cut_in_half_is_dropped() -> None:
    masked = redact_text("a " * (MAX_STRING // 2 - 2) + "0123456789" * 10)
    assert masked.rstrip().endswith("chars cut]")
    assert "0123" not in masked


def test_a_long_traceback_keeps_its_end() -> None:
    text = "Traceback (most recent call last):\n" + '  File "x.py", line 1, in f\n' * 1_000
    text += "ValueError: nomor 081234567890 tidak valid"
    event = _redacted(exception=text)
    assert len(event["exception"]) < MAX_TRACEBACK + 50
    assert event["exception"].endswith("ValueError: nomor [TELEPON] tidak valid")


# ------------------------------------------------------------------ through the real pipeline


def test_structlog_events_are_rendered_as_json_without_personal_data(
    log_stream: io.StringIO,
) -> None:
    _configure(log_stream)
    log = structlog.get_logger("test")
    log.info("converse.answered", conversation_id=12, outcome="done", model="model-a")
    log.warning("webhook.rejected", detail="dari 081234567890", token="e2e-verify-token")
    answered, rejected = _lines(log_stream)
    assert answered["conversation_id"] == 12 and answered["outcome"] == "done"
    assert answered["model"] == "model-a" and answered["event"] == "converse.answered"
    assert rejected["detail"] == "dari [TELEPON]" and rejected["token"] == REDACTED
    assert "081234567890" not in log_stream.getvalue()


def test_exceptions_are_rendered_before_they_are_redacted(log_stream: io.StringIO) -> None:
    _configure(log_stream)
    log = structlog.get_logger("test")
    try:
        raise RuntimeError("send to budi.santoso@kantorhukum.co.id failed, NIK 3171014508900003")
    except RuntimeError:
        log.exception("deliver.failed", message_id=7)
    (line,) = _lines(log_stream)
    assert "Traceback" in line["exception"] and "RuntimeError" in line["exception"]
    assert "[EMAIL]" in line["exception"] and "[NIK]" in line["exception"]
    assert "budi.santoso" not in log_stream.getvalue()
    assert "3171014508900003" not in log_stream.getvalue()


def test_library_records_go_through_the_same_redaction(log_stream: io.StringIO) -> None:
    _configure(log_stream)
    logging.getLogger("uvicorn.error").warning(
        "client %s sent %s", "Bapak Budi Santoso 081234567890", "/webhook/fonnte/s3cr3t-path"
    )
    try:
        raise ValueError("duplicate key (contact_key)=(6281234567890), token=abc123")
    except ValueError:
        logging.getLogger("procrastinate.worker").error("Job failed", exc_info=True)
    warning, error = _lines(log_stream)
    assert warning["logger"] == "uvicorn.error" and warning["level"] == "warning"
    assert warning["event"] == "client Bapak [NAMA] [TELEPON] sent /webhook/fonnte/[REDACTED]"
    assert error["logger"] == "procrastinate.worker" and error["event"] == "Job failed"
    assert "ValueError" in error["exception"] and "[TELEPON]" in error["exception"]
    output = log_stream.getvalue()
    for leaked in ("081234567890", "Budi", "s3cr3t-path", "6281234567890", "abc123"):
        assert leaked not in output


def test_the_console_format_is_redacted_too(log_stream: io.StringIO) -> None:
    _configure(log_stream, "console")
    structlog.get_logger("test").info("converse.answered", detail="hp 0812-3456-7890")
    logging.getLogger("uvicorn.error").info("from 081234567890")
    output = log_stream.getvalue()
    assert "converse.answered" in output and output.count("[TELEPON]") == 2
    assert "3456" not in output and "081234567890" not in output


def test_a_crash_is_logged_redacted(log_stream: io.StringIO) -> None:
    _configure(log_stream)
    try:
        raise RuntimeError("no reply for 081234567890")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    (line,) = _lines(log_stream)
    assert line["event"] == "process.crashed" and line["level"] == "critical"
    assert "RuntimeError: no reply for [TELEPON]" in line["exception"]


# ------------------------------------------------------------------ cost


def test_redaction_of_ordinary_events_is_cheap() -> None:
    events = [
        {
            "event": "webhook.stored",
            "source": "meta",
            "stored": 1,
            "duplicates": 0,
            "queued": 1,
            "request_id": "e0891fa9525142eca70cf6004513aaad",
            "level": "info",
            "timestamp": "2026-11-22T04:26:48.543507Z",
        },
        {
            "event": "converse.ai_unavailable",
            "conversation_id": 7,
            "attempt": 2,
            "retry_in_s": 4.0,
            "error_type": "ProviderUnavailable",
            "level": "warning",
            "timestamp": "2026-11-22T04:26:50.868170Z",
        },
    ]
    started = time.perf_counter()
    for index in range(10_000):
        redact(None, "info", dict(events[index % 2]))
    # ~3 µs a line; a generous bound that only fails if the fast paths are lost
    assert time.perf_counter() - started < 1.0


def test_configuring_logging_keeps_sqlalchemy_from_echoing_sql(log_stream: io.StringIO) -> None:
    import sqlalchemy  # noqa: F401 - its import quiets its own loggers

    _configure(log_stream)
    assert not logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(logging.INFO)
    assert logging.getLogger("uvicorn.error").isEnabledFor(logging.INFO)
