"""`wagate kb …`: the knowledge base (issue 13): add a file or web page, list, remove, refresh
the KB_DIR folder (on the job queue, with its progress), and search as the gateway would."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Annotated

import typer

from wagate.cli.common import operate, selection, show, with_gateway
from wagate.pipeline.operator import CLI

if TYPE_CHECKING:
    from wagate.pipeline.operator import OperatorService
    from wagate.wiring import Gateway

kb_app = typer.Typer(
    no_args_is_help=True, help="Knowledge base: add, list, remove, refresh, search."
)

# States of a refresh job on the queue, as the command shows them.
_STATES = {"todo": "queued, waiting for a worker", "doing": "running", "failed": "failed"}
POLL_SECONDS = 0.5


@kb_app.command("add")
def kb_add(
    target: Annotated[str, typer.Argument(help="A file (PDF, DOCX, Markdown, text, HTML) or URL.")],
    title: Annotated[str | None, typer.Option("--title", help="The document's title.")] = None,
) -> None:
    """Add one document: read, split into sections and stored, or refused with the reason
    (nothing stored then)."""
    report = operate(lambda op: op.knowledge.add(target, title=title, by=CLI))
    show(report)


@kb_app.command("list")
def kb_list() -> None:
    """Every document: id, source, title, kind, chunks, status, error."""
    show(operate(lambda op: op.knowledge.documents(by=CLI)))


@kb_app.command("remove")
def kb_remove(
    document_id: Annotated[int, typer.Argument(help="The document's id (kb list).")],
) -> None:
    """Remove a document and its passages."""
    operate(lambda op: op.knowledge.remove(document_id, by=CLI))
    typer.echo(f"removed document {document_id}")


@kb_app.command("refresh")
def kb_refresh(
    here: Annotated[
        bool, typer.Option("--here", help="Read the folder in this process, not on the queue.")
    ] = False,
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="Seconds to follow the queued job (0: don't).")
    ] = 600.0,
) -> None:
    """Read KB_DIR again: changed files re-read, removed ones retired. Runs on the job queue
    (a worker must be running) and shows its progress; `--here` reads it in this process."""
    if here:
        show(operate(lambda op: op.knowledge.refresh_now(by=CLI)))
        return
    with_gateway(lambda gateway: _queue_and_follow(gateway, wait))


async def _queue_and_follow(gateway: Gateway, wait: float) -> None:
    await follow_refresh(gateway.services(selection.tenant).operator, wait)


async def follow_refresh(operator: OperatorService, wait: float) -> None:
    """Queue the refresh, then print each change of its job's state until it ends (or `wait`
    seconds pass: the job stays queued for the worker)."""
    job = await operator.knowledge.request_refresh(by=CLI)
    typer.echo(f"refresh queued as job {job}")
    deadline = time.monotonic() + wait
    last: str | None = "todo"
    while time.monotonic() < deadline:
        state = await operator.knowledge.refresh_state(job, by=CLI)
        if state != last:
            last = state
            if state is None or state == "succeeded":
                break
            typer.echo(f"job {job}: {_STATES.get(state, state)}")
            if state in ("failed", "cancelled", "aborted"):
                raise typer.Exit(code=1)
        await asyncio.sleep(POLL_SECONDS)
    else:
        if wait:
            typer.echo(f"job {job} is still {_STATES.get(last or '', last)}; is a worker running?")
        return
    typer.echo(f"job {job}: done")
    show(await operator.knowledge.stats())


@kb_app.command("search")
def kb_search(
    question: Annotated[str, typer.Argument(help="The question, as a client would write it.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=50)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list of passages.")] = False,
) -> None:
    """The passages the gateway would give the assistant, best first. None: the gateway
    declines the question as outside the knowledge base."""
    passages = operate(lambda op: op.knowledge.search(question, by=CLI, limit=limit))
    if as_json:
        from wagate.pipeline.operator.kb import search_result

        show([search_result(p) for p in passages])
        return
    if not passages:
        typer.echo("nothing relevant: the gateway would decline this question")
        return
    for rank, passage in enumerate(passages, start=1):
        typer.echo(f"{rank}. {passage.citation()}  [{passage.source}]  score {passage.score:.3f}")
        typer.echo(f"   {_snippet(passage.text)}")


def _snippet(text: str, width: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width].rsplit(" ", 1)[0] + " …"
