"""The knowledge base (AI3, issue 13): add a file, an upload or a web page, list, remove,
refresh the folder (on the job queue), search. Every change is audited; the records name
documents by id and count chunks, never quote their text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wagate.domain.knowledge import Passage
from wagate.domain.operators import Permission
from wagate.domain.text import storable_text
from wagate.pipeline.operator.actor import Actor
from wagate.pipeline.operator.errors import NotFound, Rejected
from wagate.pipeline.operator.recorder import Recorder
from wagate.pipeline.ports import IngestReport, KnowledgeAdmin, KnowledgeRefreshQueue

MAX_TITLE_CHARS = 300
MAX_QUESTION_CHARS = 2000
MAX_SEARCH_LIMIT = 50
NO_KNOWLEDGE_BASE = "this gateway has no knowledge base for the tenant"


def _title(title: str | None) -> str | None:
    if title is None:
        return None
    title = " ".join(title.split())
    if not title:
        return None
    if len(title) > MAX_TITLE_CHARS:
        raise Rejected(f"a title has at most {MAX_TITLE_CHARS} characters")
    if not storable_text(title):
        raise Rejected("a title cannot hold a NUL character or a lone surrogate")
    return title


def search_result(passage: Passage) -> dict[str, Any]:
    """A passage as `wagate kb search --json` and the API show it: the file name or URL it
    came from, the document's title, the section path, the score and the text."""
    return {
        "source": passage.source,
        "title": passage.title,
        "section": passage.section,
        "score": round(passage.score, 4),
        "text": passage.text,
    }


def status_fields(stats: dict[str, Any]) -> dict[str, Any]:
    """The knowledge base in a status report (`/api/whatsapp/status`, the seed's names)."""
    return {
        "knowledgeBaseLoaded": bool(stats.get("loaded")),
        "knowledgeBase": {
            "documents": int(stats.get("documents", 0) or 0),
            "chunks": int(stats.get("chunks", 0) or 0),
        },
    }


def counts_of(summary: dict[str, Any]) -> dict[str, int]:
    """The counts of a report (added, updated, retired, failed …): what an audit record and
    a log line may hold of it (file names and errors stay out)."""
    return {k: v for k, v in summary.items() if isinstance(v, int) and not isinstance(v, bool)}


def _existing_file(target: str) -> Path:
    # A stat or two: not worth a thread, and the refusal says what was wrong with the path.
    path = Path(target).expanduser()
    if not path.exists():
        raise Rejected(f"no such file: {target}")
    if not path.is_file():
        raise Rejected(f"not a file: {target} (put folders in KB_DIR and refresh)")
    return path


def _is_folder(path: Path) -> bool:
    return path.is_dir()


def is_url(target: str) -> bool:
    return target.lower().startswith(("http://", "https://"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Knowledge:
    """`base` is None on a gateway built without a knowledge base: reads then show an empty
    one, changes are refused. `folder` is KB_DIR; `refreshes` queues its refresh."""

    base: KnowledgeAdmin | None
    refreshes: KnowledgeRefreshQueue | None
    folder: Path | None
    recorder: Recorder

    def _base(self) -> KnowledgeAdmin:
        if self.base is None:
            raise Rejected(NO_KNOWLEDGE_BASE)
        return self.base

    async def add(self, target: str, *, title: str | None = None, by: Actor) -> dict[str, Any]:
        """A file on this host (the CLI) or an http(s) URL: read, chunked and stored in one
        transaction, or refused with the source's error and nothing stored."""
        by.require(Permission.ADMINISTER)
        target = target.strip()
        if not target:
            raise Rejected("name a file or an http(s) URL to add")
        base = self._base()
        if is_url(target):
            report = await base.add_url(target, title=_title(title))
            return await self._recorded(report, by, kind="url")
        report = await base.add_file(_existing_file(target), title=_title(title))
        return await self._recorded(report, by, kind="file")

    async def upload(
        self, name: str, data: bytes, *, title: str | None = None, by: Actor
    ) -> dict[str, Any]:
        """A file sent to the API; `name` (its file name) says what kind it is."""
        by.require(Permission.ADMINISTER)
        name = Path(name.replace("\\", "/")).name.strip()  # never a path the client chose
        if not storable_text(name):
            raise Rejected("a file name cannot hold a NUL character or a lone surrogate")
        if not name:
            raise Rejected("the upload needs a file name (its extension says what it is)")
        report = await self._base().add_bytes(name, data, title=_title(title))
        return await self._recorded(report, by, kind="upload")

    async def _recorded(self, report: IngestReport, by: Actor, *, kind: str) -> dict[str, Any]:
        summary = report.as_json()
        if report.error:
            raise Rejected(report.error)
        document = summary.get("document") or summary.get("id") or summary.get("document_id")
        await self.recorder.record(
            by,
            "kb.document_added",
            f"kb:{document}" if document is not None else None,
            via=kind,
            chunks=summary.get("chunks"),
        )
        return summary

    async def documents(self, *, by: Actor) -> list[dict[str, Any]]:
        by.require(Permission.READ)
        return [] if self.base is None else await self.base.documents()

    async def stats(self) -> dict[str, Any]:
        if self.base is None:
            return {"documents": 0, "chunks": 0, "loaded": False}
        return await self.base.stats()

    async def remove(self, document_id: int, *, by: Actor) -> None:
        by.require(Permission.ADMINISTER)
        if not await self._base().remove(document_id):
            raise NotFound(f"knowledge-base document {document_id} not found")
        await self.recorder.record(by, "kb.document_removed", f"kb:{document_id}")

    async def search(self, question: str, *, by: Actor, limit: int = 5) -> list[Passage]:
        """What the conversation would find for `question` (the same search and threshold):
        [] means the gateway would decline it as out of scope — or, for small talk
        ("halo", "makasih", "tes"), answer it as small talk without the documents."""
        by.require(Permission.READ)
        question = question.strip()
        if not question:
            raise Rejected("ask a question to search for")
        if len(question) > MAX_QUESTION_CHARS:
            raise Rejected(f"a question has at most {MAX_QUESTION_CHARS} characters")
        if not storable_text(question):
            raise Rejected("a question cannot hold a NUL character or a lone surrogate")
        if not 1 <= limit <= MAX_SEARCH_LIMIT:
            raise Rejected(f"the limit is between 1 and {MAX_SEARCH_LIMIT}")
        return await self._base().search(question, limit=limit)

    async def request_refresh(self, *, by: Actor) -> int:
        """Queue a refresh of KB_DIR for the worker; the job's id (a refresh already waiting
        is the one returned). Audited when asked; the worker audits what it changed."""
        by.require(Permission.ADMINISTER)
        self._base()
        if self.refreshes is None or self.folder is None:
            raise Rejected("no knowledge-base folder (KB_DIR) to refresh on this gateway")
        job = await self.refreshes.request()
        await self.recorder.record(by, "kb.refresh_requested", f"job:{job}")
        return job

    async def refresh_state(self, job_id: int, *, by: Actor) -> str | None:
        """The refresh job's state; None once it is finished and gone."""
        by.require(Permission.READ)
        if self.refreshes is None:
            raise Rejected("no knowledge-base folder (KB_DIR) to refresh on this gateway")
        return await self.refreshes.state(job_id)

    async def refresh_now(self, *, by: Actor) -> dict[str, Any]:
        """Read KB_DIR here and now: what the worker's refresh job runs (and `kb refresh
        --here`). Changed files are read again, removed ones retired; each file is its own
        transaction, so one bad file fails alone."""
        by.require(Permission.ADMINISTER)
        base = self._base()
        if self.folder is None:
            raise Rejected("no knowledge-base folder (KB_DIR) to refresh on this gateway")
        if not _is_folder(self.folder):
            raise Rejected(f"the knowledge-base folder {self.folder} does not exist")
        summary = (await base.refresh_folder(self.folder)).as_json()
        counts = counts_of(summary)
        # A refresh that found every file as it was changed nothing: nothing to record.
        if any(count for name, count in counts.items() if name != "unchanged"):
            await self.recorder.record(by, "kb.refreshed", None, **counts)
        return summary
