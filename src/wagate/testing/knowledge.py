"""An in-memory knowledge base and refresh queue, for fast tests of the conversation and the
operator actions. Retrieval here is plain word overlap: what the tests check is how the
gateway uses passages, not how well PostgreSQL finds them (the e2e suite does that)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wagate.domain.knowledge import Passage
from wagate.domain.off_topic import is_off_topic
from wagate.domain.small_talk import is_small_talk

_WORD = re.compile(r"\w+")
READABLE = (".txt", ".md")
MAX_BYTES = 1_000_000


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) > 2}


@dataclass(slots=True, kw_only=True)
class MemoryReport:
    """What one add or refresh did; `error` set means nothing was stored."""

    source: str
    document_id: int | None = None
    chunks: int = 0
    error: str | None = None
    added: int = 0
    updated: int = 0
    retired: int = 0
    failed: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "document": self.document_id,
            "chunks": self.chunks,
            "error": self.error,
            "added": self.added,
            "updated": self.updated,
            "retired": self.retired,
            "failed": self.failed,
        }


@dataclass(slots=True, kw_only=True)
class _Document:
    id: int
    source: str
    title: str
    kind: str
    digest: str
    sections: list[tuple[str, str]]  # (section path, text): one chunk each


@dataclass
class MemoryKnowledgeBase:
    """Satisfies `KnowledgeAdmin`. A document's chunks are its paragraphs under Markdown
    headings; a search returns chunks sharing at least `min_shared` words with the question."""

    min_shared: int = 2
    documents_by_id: dict[int, _Document] = field(default_factory=dict)
    searches: list[str] = field(default_factory=list)
    _next_id: int = 1

    def add_text(
        self, title: str, text: str, *, source: str | None = None, kind: str = "md"
    ) -> int:
        """Store a document written in the test; its id."""
        document = _Document(
            id=self._next_id,
            source=source or f"{title}.{kind}",
            title=title,
            kind=kind,
            digest=hashlib.sha256(text.encode()).hexdigest(),
            sections=_sections(text),
        )
        self.documents_by_id[document.id] = document
        self._next_id += 1
        return document.id

    async def search(self, question: str, *, limit: int = 5) -> list[Passage]:
        self.searches.append(question)
        if is_small_talk(question) or is_off_topic(question):
            return []  # as storage.knowledge: small talk and everyday requests are not looked up
        asked = _words(question)
        scored: list[tuple[int, int, Passage]] = []
        for document in self.documents_by_id.values():
            for order, (section, text) in enumerate(document.sections):
                shared = len(asked & _words(f"{document.title} {section} {text}"))
                if shared >= self.min_shared:
                    passage = Passage(
                        document_id=document.id,
                        source=document.source,
                        title=document.title,
                        section=section,
                        text=text,
                        score=float(shared),
                    )
                    scored.append((-shared, document.id * 1000 + order, passage))
        scored.sort(key=lambda row: (row[0], row[1]))
        return [passage for _, _, passage in scored[:limit]]

    async def stats(self) -> dict[str, Any]:
        chunks = sum(len(d.sections) for d in self.documents_by_id.values())
        return {"documents": len(self.documents_by_id), "chunks": chunks, "loaded": chunks > 0}

    async def add_file(
        self, path: Path, *, title: str | None = None, source: str | None = None
    ) -> MemoryReport:
        name = source or path.name
        if path.suffix.lower() not in READABLE:
            return MemoryReport(source=name, error=f"unsupported file type {path.suffix!r}")
        try:
            data = _read(path)
        except OSError as exc:
            return MemoryReport(source=name, error=f"cannot read the file: {exc.strerror}")
        return self._add(name, data, title or path.stem, kind=path.suffix.lower().lstrip("."))

    async def add_bytes(self, name: str, data: bytes, *, title: str | None = None) -> MemoryReport:
        suffix = Path(name).suffix.lower()
        if suffix not in READABLE:
            return MemoryReport(source=name, error=f"unsupported file type {suffix!r}")
        return self._add(name, data, title or Path(name).stem, kind=suffix.lstrip("."))

    async def add_url(self, url: str, *, title: str | None = None) -> MemoryReport:
        return MemoryReport(source=url, error="the in-memory knowledge base reads no web pages")

    def _add(self, name: str, data: bytes, title: str, *, kind: str) -> MemoryReport:
        if len(data) > MAX_BYTES:
            return MemoryReport(source=name, error="file too large")
        text = data.decode("utf-8", errors="replace")
        if not text.strip():
            return MemoryReport(source=name, error="the document has no text")
        for document in list(self.documents_by_id.values()):
            if document.source == name:  # the same source again replaces it
                del self.documents_by_id[document.id]
        document_id = self.add_text(title, text, source=name, kind=kind)
        chunks = len(self.documents_by_id[document_id].sections)
        return MemoryReport(source=name, document_id=document_id, chunks=chunks, added=1)

    async def remove(self, document_id: int) -> bool:
        return self.documents_by_id.pop(document_id, None) is not None

    async def refresh_folder(self, folder: Path) -> MemoryReport:
        report = MemoryReport(source=str(folder))
        seen: set[str] = set()
        for path in _files(folder):
            seen.add(path.name)
            known = next((d for d in self.documents_by_id.values() if d.source == path.name), None)
            digest = hashlib.sha256(_read(path)).hexdigest()
            if known is not None and known.digest == digest:
                continue
            added = await self.add_file(path)
            if added.error:
                report.failed += 1
            elif known is None:
                report.added += 1
            else:
                report.updated += 1
        for document in list(self.documents_by_id.values()):
            if document.source not in seen:
                del self.documents_by_id[document.id]
                report.retired += 1
        return report

    async def documents(self) -> list[dict[str, Any]]:
        return [
            {
                "id": d.id,
                "source": d.source,
                "title": d.title,
                "kind": d.kind,
                "chunks": len(d.sections),
                "status": "ready",
                "error": None,
                "updatedAt": None,
            }
            for d in self.documents_by_id.values()
        ]


def _read(path: Path) -> bytes:
    return path.read_bytes()  # small test files: no thread needed


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def _sections(text: str) -> list[tuple[str, str]]:
    """Paragraphs, each under the latest Markdown heading."""
    sections: list[tuple[str, str]] = []
    heading = ""
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        if not block:
            continue
        if block.startswith("#"):
            first, _, rest = block.partition("\n")
            heading = first.lstrip("#").strip()
            block = rest.strip()
            if not block:
                continue
        sections.append((heading, block))
    return sections


@dataclass
class MemoryRefreshQueue:
    """Satisfies `KnowledgeRefreshQueue`: jobs are ids with a state the test moves along."""

    states: dict[int, str] = field(default_factory=dict)
    _next_id: int = 1

    async def request(self) -> int:
        waiting = next((job for job, state in self.states.items() if state == "todo"), None)
        if waiting is not None:
            return waiting
        job = self._next_id
        self._next_id += 1
        self.states[job] = "todo"
        return job

    async def state(self, job_id: int) -> str | None:
        return self.states.get(job_id)
