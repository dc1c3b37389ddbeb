"""Case intake through a WhatsApp Flow (FL1, seed 000): a person registers a case in a form
inside WhatsApp; its completion (`nfm_reply`) becomes an intake record a lawyer reviews. Pure.

What comes back is `response_json`, a JSON text the Flow's `complete` payload decides (see
`wagate/flows/case_intake.json`): the answers by field name, `flow_token` (ours, echoed), and
for each document picked an object naming Meta's media. It is read defensively: the person's
device and Meta build it, and a reply that is not JSON, not an object, huge, or missing what
the form requires is still an intake — kept raw, flagged with its problems, acknowledged — never
a crash and never lost.

The media objects of a completion are `{id, file_name, mime_type, sha256}` (with `media_id`
instead of `id` in some descriptions [unconfirmed]); both are accepted, and only these
references are kept: the files themselves are fetched through Meta's media API, like any
inbound document.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from wagate.domain.consent import normalise_keyword
from wagate.domain.flows import FlowMessage, flow_token

# The answers of the shipped Flow's completion, and those it requires (the rest may be blank).
FIELDS = (
    "full_name",
    "nik",
    "phone",
    "email",
    "case_type",
    "story",
    "documents",
    "privacy_consent",
)
REQUIRED = ("full_name", "nik", "phone", "case_type", "story")
# The case types of the shipped Flow's dropdown (id → what a lawyer reads).
CASE_TYPES = {
    "keluarga": "Keluarga, perceraian, hak asuh",
    "waris": "Waris",
    "tanah": "Tanah dan properti",
    "ketenagakerjaan": "Ketenagakerjaan",
    "utang_piutang": "Utang piutang, perjanjian",
    "pidana": "Pidana",
    "lainnya": "Lainnya",
}
# The outbound kinds: the Flow message (by keyword or operator) and the confirmation.
FLOW_KIND = "intake_flow"
CONFIRMATION_KIND = "intake_confirmation"
FIRST_SCREEN = "DATA_DIRI"  # the shipped Flow's first screen (a test checks the JSON agrees)

# Bounds: a reply longer than MAX_RESPONSE_CHARS is not parsed (a form this size is not a
# person's answers); at most MAX_RAW_CHARS of any reply are kept, sealed, as it came.
MAX_RESPONSE_CHARS = 32_768
MAX_RAW_CHARS = 65_536
MAX_FIELDS = 60
MAX_TEXT_CHARS = 4_000
MAX_LIST_ITEMS = 30
MAX_REF_CHARS = 256  # a media id, file name, type or digest
MAX_TOKEN_CHARS = 200
_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


class IntakeStatus(StrEnum):
    NEW = "new"  # waiting for a lawyer: never purged by retention
    REVIEWED = "reviewed"


STATUSES = tuple(s.value for s in IntakeStatus)


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRef:
    """A document picked in the Flow, as Meta names it (the file stays at Meta until fetched)."""

    media_id: str | None
    file_name: str | None = None
    mime_type: str | None = None
    sha256: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "mediaId": self.media_id,
            "fileName": self.file_name,
            "mimeType": self.mime_type,
            "sha256": self.sha256,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedIntake:
    """One completion, read: the answers (texts, yes/no, lists of texts), the documents, our
    token, and what was wrong with it (problem codes, never content: `missing:nik`)."""

    answers: Mapping[str, str | bool | list[str]] = field(default_factory=dict)
    documents: tuple[DocumentRef, ...] = ()
    flow_token: str | None = None
    problems: tuple[str, ...] = ()
    raw: str = ""  # the response_json as received (at most MAX_RAW_CHARS)
    raw_truncated: bool = False

    @property
    def complete(self) -> bool:
        return not self.problems

    @property
    def case_type(self) -> str | None:
        value = self.answers.get("case_type")
        return value if isinstance(value, str) and value else None

    def as_json(self) -> dict[str, Any]:
        """What is sealed as the intake's answers."""
        return {
            "answers": dict(self.answers),
            "documents": [d.as_json() for d in self.documents],
            "flowToken": self.flow_token,
            "problems": list(self.problems),
        }


def parse_flow_reply(
    response_json: str | None, *, required: tuple[str, ...] = REQUIRED
) -> ParsedIntake:
    """Read a Flow completion's `response_json`. Never raises: whatever came is kept (bounded)
    with the problems that make it incomplete."""
    if response_json is None:
        return ParsedIntake(problems=("missing_response",))
    raw, truncated = _bounded(response_json, MAX_RAW_CHARS)
    if len(response_json) > MAX_RESPONSE_CHARS:
        return ParsedIntake(problems=("too_large",), raw=raw, raw_truncated=truncated)
    try:
        document = json.loads(response_json)
    except (ValueError, RecursionError):
        return ParsedIntake(problems=("not_json",), raw=raw, raw_truncated=truncated)
    if not isinstance(document, dict):
        return ParsedIntake(problems=("not_an_object",), raw=raw, raw_truncated=truncated)
    return _read(document, required, raw, truncated)


def _read(
    document: dict[Any, Any], required: tuple[str, ...], raw: str, truncated: bool
) -> ParsedIntake:
    answers: dict[str, str | bool | list[str]] = {}
    documents: list[DocumentRef] = []
    problems: list[str] = []
    token = document.pop("flow_token", None)
    if len(document) > MAX_FIELDS:
        problems.append("too_many_fields")
    for key, value in list(document.items())[:MAX_FIELDS]:
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            problems.append("bad_field_name")
            continue
        if _is_media(value):
            documents.extend(_documents(value))
            continue
        if value == [] and key == "documents":  # the picker, left empty
            continue
        answer, problem = _answer(value)
        if problem is not None:
            problems.append(f"{problem}:{key}")
        if answer is not None:
            answers[key] = answer
    for name in required:
        value = answers.get(name)
        if value is None or value == "" or value == []:
            problems.append(f"missing:{name}")
    nik = answers.get("nik")
    # Imported here: the privacy package loads its word lists, which `wagate --help` (the CLI
    # imports this module for its status names) must not pay for.
    from wagate.domain.privacy.nik import is_valid_nik

    if isinstance(nik, str) and nik and not is_valid_nik(nik):
        problems.append("invalid_nik")
    return ParsedIntake(
        answers=answers,
        documents=tuple(documents[:MAX_LIST_ITEMS]),
        flow_token=_bounded(token, MAX_TOKEN_CHARS)[0] if isinstance(token, str) else None,
        problems=tuple(dict.fromkeys(problems)),
        raw=raw,
        raw_truncated=truncated,
    )


def _answer(value: Any) -> tuple[str | bool | list[str] | None, str | None]:
    """(the answer as kept, a problem code or None)."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, int | float):
        return str(value), None
    if isinstance(value, str):
        text, cut = _bounded(_clean(value), MAX_TEXT_CHARS)
        return text, "truncated" if cut else None
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        items = [_bounded(_clean(str(v)), MAX_TEXT_CHARS)[0] for v in value[:MAX_LIST_ITEMS]]
        return items, "truncated" if len(value) > MAX_LIST_ITEMS else None
    return None, "unreadable"


def _is_media(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and ("id" in v or "media_id" in v) for v in value)
    )


def _documents(value: list[dict[str, Any]]) -> list[DocumentRef]:
    return [
        DocumentRef(
            media_id=_ref(item.get("id", item.get("media_id"))),
            file_name=_ref(item.get("file_name")),
            mime_type=_ref(item.get("mime_type")),
            sha256=_ref(item.get("sha256")),
        )
        for item in value[:MAX_LIST_ITEMS]
    ]


def _ref(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        return None
    return _bounded(_clean(value), MAX_REF_CHARS)[0]


def _clean(text: str) -> str:
    """Text PostgreSQL and JSON can hold: no NUL, no lone surrogate; NFC."""
    text = _LONE_SURROGATE.sub("\ufffd", text.replace("\x00", ""))
    return unicodedata.normalize("NFC", text).strip()


def _bounded(text: str, limit: int) -> tuple[str, bool]:
    text = _LONE_SURROGATE.sub("\ufffd", text.replace("\x00", ""))
    return (text[:limit], True) if len(text) > limit else (text, False)


# ---------------------------------------------------------------- what the person reads

DEFAULT_KEYWORD = "DAFTAR"
DEFAULT_CTA = "Isi formulir"
DEFAULT_INVITE_TEXT = (
    "Untuk mendaftarkan perkara Anda, silakan isi formulir berikut: data diri, jenis perkara, "
    "cerita singkat dan dokumen pendukung. Data Anda kami jaga kerahasiaannya."
)
DEFAULT_CONFIRMATION_TEXT = (
    "Terima kasih, pendaftaran perkara Anda sudah kami terima (nomor {reference}). Advokat "
    "kami akan mempelajarinya dan menghubungi Anda."
)
DEFAULT_PROBLEM_TEXT = (
    "Terima kasih, formulir Anda sudah kami terima (nomor {reference}), tetapi sebagian isinya "
    "tidak terbaca atau belum lengkap. Petugas kami akan menghubungi Anda untuk melengkapinya."
)
# Where the Flow's button cannot go (a template outside the 24-hour window): how to get it.
REPLY_HINT = "Balas {keyword} untuk membuka formulir pendaftaran perkara."


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeFlow:
    """How a tenant's case intake is set up: the published Flow (none: the keyword does
    nothing and operators cannot send it), the keyword that asks for it, and the texts."""

    flow_id: str | None = None
    keyword: str = DEFAULT_KEYWORD
    cta: str = DEFAULT_CTA
    screen: str = FIRST_SCREEN
    mode: str = "published"
    invite_text: str = DEFAULT_INVITE_TEXT
    confirmation_text: str = DEFAULT_CONFIRMATION_TEXT
    problem_text: str = DEFAULT_PROBLEM_TEXT

    @property
    def enabled(self) -> bool:
        return bool(self.flow_id)

    def asks_for_it(self, text: str | None) -> bool:
        """Is this message the keyword (any case, spaces and edge punctuation aside)?"""
        return bool(text) and normalise_keyword(text or "") == normalise_keyword(self.keyword)

    def invitation(self, key: str) -> FlowMessage:
        """The Flow message queued under idempotency key `key` (enabled flows only)."""
        assert self.flow_id, "case intake has no Flow (INTAKE_FLOW_ID)"
        return FlowMessage(
            flow_id=self.flow_id,
            flow_token=flow_token(key),
            cta=self.cta,
            body=self.invite_text,
            screen=self.screen,
            mode=self.mode,
        )

    def fallback_text(self) -> str:
        """The invitation as text: what a template carries when the window has closed (the
        person replies with the keyword and gets the Flow inside the window)."""
        return f"{self.invite_text}\n\n{REPLY_HINT.replace('{keyword}', self.keyword)}"

    def confirmation(self, reference: int, *, complete: bool) -> str:
        """What the person reads once the completion is stored (`{reference}`: the intake's
        number; replaced as text, so other braces in a firm's wording are left alone)."""
        text = self.confirmation_text if complete else self.problem_text
        return text.replace("{reference}", str(reference))
