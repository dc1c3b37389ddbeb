"""Operating the knowledge base (issue 13): the operator service's `knowledge` group on the
in-memory knowledge base, and the API and CLI over it. Every change writes one audit record;
a refused source writes none and stores nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.unit.operator_fakes import NOW, World
from wagate.cli import kb as kb_cli
from wagate.jobs.worker import refresh_tenant_knowledge
from wagate.pipeline.operator import API, CLI, NotFound, OperatorService, Rejected
from wagate.pipeline.operator.kb import Knowledge, status_fields
from wagate.pipeline.operator.recorder import Recorder
from wagate.testing import MemoryKnowledgeBase, MemoryRefreshQueue
from wagate.web.kb_api import KB_UPLOAD_PATH, kb_router
from wagate.web.middleware import Edge

GUIDE = "# Pasal 1 Syarat\n\nSyarat gugatan cerai: buku nikah dan KTP.\n"


@dataclasses.dataclass
class Desk:
    """An operator service whose knowledge group runs on the in-memory knowledge base."""

    world: World
    base: MemoryKnowledgeBase
    queue: MemoryRefreshQueue
    folder: Path
    service: OperatorService

    def actions(self) -> list[str]:
        return [e.action for e in self.world.audit.events]


def desk(folder: Path, *, base: MemoryKnowledgeBase | None = None) -> Desk:
    w = World()
    kb = base if base is not None else MemoryKnowledgeBase()
    queue = MemoryRefreshQueue()
    knowledge = Knowledge(
        base=kb,
        refreshes=queue,
        folder=folder,
        recorder=Recorder(audit=w.audit, clock=lambda: NOW),
    )
    service = dataclasses.replace(w.service(), knowledge=knowledge)
    return Desk(w, kb, queue, folder, service)


@pytest.fixture
def office(tmp_path: Path) -> Desk:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    return desk(folder)


def run(coro: Awaitable[Any]) -> Any:
    async def wrapped() -> Any:
        return await coro

    return asyncio.run(wrapped())


# --- the operator service ---------------------------------------------------------------------


def test_adding_listing_and_removing_are_audited(office: Desk, tmp_path: Path) -> None:
    guide = tmp_path / "panduan.md"
    guide.write_text(GUIDE)
    added = run(office.service.knowledge.add(str(guide), title=" Panduan  Cerai ", by=CLI))
    assert added["document"] == 1 and added["chunks"] == 1 and added["error"] is None
    listed = run(office.service.knowledge.documents(by=CLI))
    assert [(d["id"], d["title"], d["source"]) for d in listed] == [
        (1, "Panduan Cerai", "panduan.md")
    ]
    run(office.service.knowledge.remove(1, by=CLI))
    assert run(office.service.knowledge.documents(by=CLI)) == []
    events = office.world.audit.events
    assert [(e.action, e.subject, e.actor) for e in events] == [
        ("kb.document_added", "kb:1", "operator:cli"),
        ("kb.document_removed", "kb:1", "operator:cli"),
    ]
    assert events[0].details == {"via": "file", "chunks": 1}


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("", "name a file"),
        ("missing.md", "no such file"),
        ("folder", "not a file"),
        ("scan.exe", "unsupported file type"),
        ("empty.md", "no text"),
        ("https://example.org/panduan", "reads no web pages"),
    ],
)
def test_a_refused_source_stores_and_records_nothing(
    office: Desk, tmp_path: Path, target: str, message: str
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "scan.exe").write_bytes(b"MZ")
    (tmp_path / "empty.md").write_text("  \n")
    path = target if not target or target.startswith("http") else str(tmp_path / target)
    with pytest.raises(Rejected, match=message):
        run(office.service.knowledge.add(path, by=API))
    assert run(office.service.knowledge.documents(by=CLI)) == []
    assert office.actions() == []


def test_an_upload_keeps_only_its_file_name(office: Desk) -> None:
    added = run(office.service.knowledge.upload("../../etc/panduan.md", GUIDE.encode(), by=API))
    assert added["source"] == "panduan.md"
    assert office.actions() == ["kb.document_added"]
    with pytest.raises(Rejected, match="file name"):
        run(office.service.knowledge.upload("", b"x", by=API))
    with pytest.raises(Rejected, match="NUL"):
        run(office.service.knowledge.upload("a\x00.md", b"x", by=API))
    with pytest.raises(Rejected, match="title"):
        run(office.service.knowledge.upload("a.md", b"x", title="t" * 301, by=API))


def test_removing_an_unknown_document_is_not_found(office: Desk) -> None:
    with pytest.raises(NotFound):
        run(office.service.knowledge.remove(42, by=API))
    assert office.actions() == []


def test_search_validates_and_answers_like_the_conversation(office: Desk) -> None:
    office.base.add_text("Panduan", GUIDE)
    found = run(office.service.knowledge.search("syarat gugatan cerai", by=CLI, limit=3))
    assert [p.title for p in found] == ["Panduan"]
    assert run(office.service.knowledge.search("resep rendang", by=CLI, limit=3)) == []
    bad = (("  ", 5), ("x" * 2001, 5), ("cerai", 0), ("cerai", 51), ("a\x00b", 5), ("\ud800", 5))
    for question, limit in bad:
        with pytest.raises(Rejected):
            run(office.service.knowledge.search(question, by=CLI, limit=limit))
    assert office.actions() == []  # a search changes nothing


def test_a_refresh_is_queued_once_and_the_worker_reads_the_folder(office: Desk) -> None:
    first = run(office.service.knowledge.request_refresh(by=API))
    assert run(office.service.knowledge.request_refresh(by=API)) == first  # still waiting
    assert run(office.service.knowledge.refresh_state(first, by=CLI)) == "todo"
    (office.folder / "panduan.md").write_text(GUIDE)
    (office.folder / "rusak.pdf").write_bytes(b"%PDF-broken")
    summary = run(office.service.knowledge.refresh_now(by=CLI))
    assert (summary["added"], summary["failed"]) == (1, 1)
    (office.folder / "panduan.md").unlink()
    summary = run(office.service.knowledge.refresh_now(by=CLI))
    assert summary["retired"] == 1
    refreshed = [e for e in office.world.audit.events if e.action == "kb.refreshed"]
    assert refreshed[0].details["added"] == 1 and refreshed[1].details["retired"] == 1
    assert office.actions().count("kb.refresh_requested") == 2


def test_the_worker_job_refreshes_its_tenants_knowledge(office: Desk) -> None:
    (office.folder / "panduan.md").write_text(GUIDE)
    scope = SimpleNamespace(operator=office.service)

    class Tenants:
        default_id = "default"

        def get(self, tenant: str) -> Any:
            return scope if tenant == "default" else None

        async def refresh(self, *, force: bool = False) -> bool:
            return False

    services: Any = SimpleNamespace(tenants=Tenants())
    run(refresh_tenant_knowledge(services, None))
    assert run(office.service.knowledge.stats())["chunks"] == 1
    (refreshed,) = [e for e in office.world.audit.events if e.action == "kb.refreshed"]
    assert refreshed.actor == "operator:worker"
    run(refresh_tenant_knowledge(services, "gone"))  # an erased tenant: nothing to do


def test_without_a_knowledge_base_reads_are_empty_and_changes_refused(tmp_path: Path) -> None:
    service = World().service()
    assert run(service.knowledge.documents(by=CLI)) == []
    stats = run(service.knowledge.stats())
    assert status_fields(stats) == {
        "knowledgeBaseLoaded": False,
        "knowledgeBase": {"documents": 0, "chunks": 0},
    }
    with pytest.raises(Rejected, match="no knowledge base"):
        run(service.knowledge.add(str(tmp_path), by=CLI))
    with pytest.raises(Rejected, match="no knowledge base"):
        run(service.knowledge.request_refresh(by=CLI))


def test_a_missing_folder_is_a_clear_refusal(tmp_path: Path) -> None:
    office = desk(tmp_path / "nowhere")
    with pytest.raises(Rejected, match="does not exist"):
        run(office.service.knowledge.refresh_now(by=CLI))


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture
def api(office: Desk) -> Iterator[TestClient]:
    caller = SimpleNamespace(services=SimpleNamespace(operator=office.service), actor=API)

    async def scope() -> Any:
        return caller

    app = FastAPI()
    app.include_router(kb_router(scope=scope))
    with TestClient(app) as client:
        yield client


def test_the_api_uploads_lists_searches_and_removes(api: TestClient, office: Desk) -> None:
    response = api.post(
        "/api/kb",
        files={"file": ("panduan.md", GUIDE.encode(), "text/markdown")},
        data={"title": "Panduan Cerai"},
    )
    assert response.status_code == 201, response.text
    document = response.json()["document"]
    listing = api.get("/api/kb").json()
    assert listing["documents"] == 1 and listing["items"][0]["title"] == "Panduan Cerai"
    found = api.get("/api/kb/search", params={"q": "syarat gugatan cerai"}).json()["items"]
    assert list(found[0]) == ["source", "title", "section", "score", "text"]
    assert found[0]["source"] == "panduan.md"
    assert api.delete(f"/api/kb/{document}").status_code == 204
    assert api.delete(f"/api/kb/{document}").status_code == 404
    assert office.actions() == ["kb.document_added", "kb.document_removed"]


def test_the_api_refuses_a_bad_upload_with_its_reason(api: TestClient, office: Desk) -> None:
    response = api.post("/api/kb", files={"file": ("virus.exe", b"MZ", "application/x")})
    assert response.status_code == 422
    assert "unsupported file type" in response.json()["detail"]
    assert api.post("/api/kb").status_code == 422  # no file at all
    assert office.actions() == []


def test_the_seeds_refresh_route_queues_and_reports_the_job(api: TestClient) -> None:
    response = api.post("/api/whatsapp/refresh-kb")
    assert response.status_code == 202
    job = response.json()["job"]
    assert api.get(f"/api/kb/refresh/{job}").json() == {"job": job, "state": "todo"}
    assert api.get("/api/kb/refresh/999").json()["state"] == "finished"


async def test_uploads_get_their_own_body_limit() -> None:
    seen: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        seen.append(len(message["body"]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limited = Edge(app, max_bytes=10, path_limits={KB_UPLOAD_PATH: 100})
    statuses: list[int] = []

    async def call(path: str, size: int) -> None:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            sent = True
            return {"type": "http.request", "body": b"x" * size, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        scope = {"type": "http", "path": path, "headers": []}
        await limited(scope, receive, send)

    await call(KB_UPLOAD_PATH, 50)
    await call("/api/accounts", 50)
    await call(KB_UPLOAD_PATH, 150)
    assert statuses == [200, 413, 413]
    assert seen == [50]


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def cli(office: Desk, monkeypatch: pytest.MonkeyPatch) -> Desk:
    """`wagate kb …` with the operator service in memory instead of an opened gateway."""

    def operate(call: Callable[[OperatorService], Awaitable[Any]], **_: Any) -> Any:
        return run(call(office.service))

    monkeypatch.setattr(kb_cli, "operate", operate)
    return office


def test_kb_search_json_prints_the_promised_fields(cli: Desk) -> None:
    cli.base.add_text("Panduan", GUIDE, source="panduan.md")
    result = CliRunner().invoke(kb_cli.kb_app, ["search", "syarat gugatan cerai", "--json"])
    assert result.exit_code == 0, result.output
    (item,) = json.loads(result.output)
    assert item == {
        "source": "panduan.md",
        "title": "Panduan",
        "section": "Pasal 1 Syarat",
        "score": 3.0,
        "text": "Syarat gugatan cerai: buku nikah dan KTP.",
    }
    result = CliRunner().invoke(kb_cli.kb_app, ["search", "resep rendang", "--json"])
    assert json.loads(result.output) == []
    result = CliRunner().invoke(kb_cli.kb_app, ["search", "resep rendang"])
    assert "would decline" in result.output


def test_kb_add_list_remove_and_refresh_here(cli: Desk, tmp_path: Path) -> None:
    guide = tmp_path / "panduan.md"
    guide.write_text(GUIDE)
    runner = CliRunner()
    added = runner.invoke(kb_cli.kb_app, ["add", str(guide), "--title", "Panduan"])
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["chunks"] == 1
    listed = json.loads(runner.invoke(kb_cli.kb_app, ["list"]).output)
    assert listed[0]["title"] == "Panduan"
    removed = runner.invoke(kb_cli.kb_app, ["remove", "1"])
    assert removed.output.strip() == "removed document 1"
    (cli.folder / "lain.md").write_text(GUIDE)
    refreshed = runner.invoke(kb_cli.kb_app, ["refresh", "--here"])
    assert json.loads(refreshed.output)["added"] == 1
    assert cli.actions() == [
        "kb.document_added",
        "kb.document_removed",
        "kb.refreshed",
    ]


def test_kb_commands_are_listed() -> None:
    result = CliRunner().invoke(kb_cli.kb_app, ["--help"])
    assert result.exit_code == 0
    for command in ("add", "list", "remove", "refresh", "search"):
        assert command in result.output


class Worker(MemoryRefreshQueue):
    """A refresh queue whose job moves along one state per look, as a worker would."""

    def __init__(self, states: list[str | None]) -> None:
        super().__init__()
        self.script = states

    async def state(self, job_id: int) -> str | None:
        return self.script.pop(0) if self.script else None


@pytest.mark.parametrize(
    ("states", "lines", "code"),
    [
        (["todo", "doing", None], ["job 1: running", "job 1: done"], 0),
        (["doing", "failed"], ["job 1: running", "job 1: failed"], 1),
    ],
)
def test_kb_refresh_follows_the_queued_job(
    office: Desk,
    monkeypatch: pytest.MonkeyPatch,
    states: list[str | None],
    lines: list[str],
    code: int,
) -> None:
    monkeypatch.setattr(kb_cli, "POLL_SECONDS", 0.0)
    knowledge = dataclasses.replace(office.service.knowledge, refreshes=Worker(states))
    service = dataclasses.replace(office.service, knowledge=knowledge)
    printed: list[str] = []
    monkeypatch.setattr(kb_cli.typer, "echo", lambda text="", **_: printed.append(str(text)))
    try:
        run(kb_cli.follow_refresh(service, wait=5))
        exit_code = 0
    except kb_cli.typer.Exit as exc:
        exit_code = exc.exit_code
    assert exit_code == code
    assert printed[0] == "refresh queued as job 1"
    assert printed[1 : 1 + len(lines)] == lines


def test_kb_refresh_without_a_worker_says_so(office: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kb_cli, "POLL_SECONDS", 0.01)
    printed: list[str] = []
    monkeypatch.setattr(kb_cli.typer, "echo", lambda text="", **_: printed.append(str(text)))
    run(kb_cli.follow_refresh(office.service, wait=0.05))
    assert printed[-1] == "job 1 is still queued, waiting for a worker; is a worker running?"
