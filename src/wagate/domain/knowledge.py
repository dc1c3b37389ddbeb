"""The knowledge base's values (AI3, AI4): what retrieval returns and how an answer cites it.

A passage is a chunk of one of the firm's documents, found for a question: its text, where it
came from (the file name or URL), the document's title and the section path inside it ("Bab II
› Pasal 5"), and a score (higher is better; only comparable within one search).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Passage:
    document_id: int
    source: str  # the file name or URL it came from
    title: str  # the document's title
    section: str  # the section path inside the document; "" when it has none
    text: str
    score: float

    def citation(self) -> str:
        """How an answer names it on WhatsApp: "Panduan Perceraian, bagian Pasal 3"."""
        return f"{self.title}, bagian {self.section}" if self.section else self.title

    def as_json(self) -> dict[str, object]:
        return {
            "document": self.document_id,
            "source": self.source,
            "title": self.title,
            "section": self.section,
            "score": round(self.score, 4),
            "text": self.text,
        }


def sources_line(passages: list[Passage] | tuple[Passage, ...], *, limit: int = 2) -> str:
    """The answer's last line, best first, each document once with the sections used:
    "Sumber: Panduan Perceraian, bagian Cerai Gugat; Syarat" (at most `limit` documents)."""
    sections: dict[str, list[str]] = {}
    for passage in passages:
        if passage.title not in sections:
            if len(sections) == limit:
                continue
            sections[passage.title] = []
        if passage.section and passage.section not in sections[passage.title]:
            sections[passage.title].append(passage.section)
    cited = [
        f"{title}, bagian {'; '.join(parts)}" if parts else title
        for title, parts in sections.items()
    ]
    return "Sumber: " + " · ".join(cited) if cited else ""


_QUESTION_END = re.compile(r"(?<=\?)\s*|\n+")


def questions_of(burst: str) -> list[str]:
    """The separate questions of a burst typed in quick succession ("jam buka kapan?\nbiaya
    berapa?"): its lines, and what ends in "?" within a line. Empty parts are dropped."""
    return [part.strip() for part in _QUESTION_END.split(burst) if part.strip()]
