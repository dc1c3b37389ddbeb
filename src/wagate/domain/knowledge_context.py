"""How retrieved passages travel inside the prompt (AI3, AI4).

The assistant port carries chat turns only, and everything in them is masked before it leaves
the gateway (CP1). So the passages ride in the system turn as one delimited block: a model
reads it as instructions plus references, and the offline assistant, which has no model, reads
the same block back with `read_references`. Writing and reading live together here so the two
sides cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from wagate.domain.knowledge import Passage

OPENING = "<<<RUJUKAN>>>"
CLOSING = "<<<AKHIR RUJUKAN>>>"

INSTRUCTION = (
    "Jawab hanya berdasarkan rujukan dari dokumen kantor di bawah ini. Jika rujukan tidak "
    "menjawab pertanyaan, katakan bahwa dokumen kami belum membahasnya dan tawarkan konsultasi "
    "dengan advokat. Jangan mengarang pasal, biaya, atau prosedur."
)

# A header line per passage: "--- Rujukan 2 · Panduan Perceraian, bagian Pasal 3 ---".
_HEADER = re.compile(r"^--- Rujukan (\d+) · (.*) ---$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    """A passage as read back from a prompt (possibly masked): its citation and text."""

    number: int
    citation: str
    text: str


def _one_line(text: str) -> str:
    # A citation on two lines would break the header the reader looks for.
    return " ".join(text.split())


def references_block(passages: Sequence[Passage]) -> str:
    """The block for the system prompt; "" when there are no passages."""
    if not passages:
        return ""
    lines = [OPENING, INSTRUCTION]
    for number, passage in enumerate(passages, start=1):
        lines.append(f"--- Rujukan {number} · {_one_line(passage.citation())} ---")
        lines.append(passage.text.strip())
    lines.append(CLOSING)
    return "\n".join(lines)


def read_references(text: str) -> list[Reference]:
    """The references of the first block in `text`, in order; [] when there is none."""
    start = text.find(OPENING)
    if start < 0:
        return []
    end = text.find(CLOSING, start)
    body = text[start + len(OPENING) : end if end >= 0 else len(text)]
    references: list[Reference] = []
    header: tuple[int, str] | None = None
    lines: list[str] = []
    for line in body.splitlines():
        match = _HEADER.match(line)
        if match is None:
            lines.append(line)
            continue
        if header is not None:
            references.append(_reference(header, lines))
        header, lines = (int(match.group(1)), match.group(2)), []
    if header is not None:
        references.append(_reference(header, lines))
    return references


def _reference(header: tuple[int, str], lines: list[str]) -> Reference:
    return Reference(number=header[0], citation=header[1], text="\n".join(lines).strip())


def split_references(text: str) -> tuple[str, str, str]:
    """`text` as (before, block, after) around its references block; ("text", "", "") when it
    has none. The block is masked apart from the conversation (see masking.mask_reference)."""
    start = text.find(OPENING)
    if start < 0:
        return text, "", ""
    end = text.find(CLOSING, start)
    end = len(text) if end < 0 else end + len(CLOSING)
    return text[:start], text[start:end], text[end:]
