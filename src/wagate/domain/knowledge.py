"""The knowledge base's values (AI3, AI4): what retrieval returns and how an answer cites it.

A passage is a chunk of one of the firm's documents, found for a question: its text, where it
came from (the file name or URL), the document's title and the section path inside it ("Bab II
› Pasal 5"), and a score (higher is better; only comparable within one search).
"""

from __future__ import annotations

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
    """The answer's last line: "Sumber: A, bagian 3; B" (each document once, best first)."""
    seen: list[str] = []
    for passage in passages:
        citation = passage.citation()
        if citation not in seen:
            seen.append(citation)
        if len(seen) == limit:
            break
    return "Sumber: " + "; ".join(seen) if seen else ""
