"""`wagate serve`, `wagate worker`, `wagate migrate`: running the gateway (OB6)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

import typer

from wagate.cli.common import fail, run_async, settings_or_exit


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Also run a job worker in this process.")
    ] = True,
) -> None:
    """Run the gateway: webhooks, API and (unless --no-worker) a worker."""
    from wagate.runtime.processes import serve as run_serve

    settings = settings_or_exit()
    with _unusable_keys_end_the_start():
        run_async(run_serve(settings, host=host, port=port, with_worker=worker))


def worker() -> None:
    """Run a job worker only (scale out: any number of these on one database)."""
    from wagate.runtime.processes import work

    settings = settings_or_exit()
    with _unusable_keys_end_the_start():
        run_async(work(settings))


def migrate(
    direction: Annotated[str, typer.Argument(help="up or down")] = "up",
    revision: Annotated[str | None, typer.Argument(help="target revision")] = None,
) -> None:
    """Apply migrations (`up [REV]`, default head) or roll back (`down REV`, e.g. `down base`)."""
    from wagate.wiring import migrate_database

    settings = settings_or_exit(quiet=True)
    if direction not in ("up", "down"):
        fail("direction must be 'up' or 'down'", code=2)
    if direction == "down" and not revision:
        fail("'migrate down' needs a revision (e.g. 'base' or '-1')", code=2)
    reached = migrate_database(settings, up=direction == "up", revision=revision or "head")
    typer.echo(f"database at revision: {reached or 'base'}")


@contextlib.contextmanager
def _unusable_keys_end_the_start() -> Iterator[None]:
    """Keys that cannot be used (WAGATE_ENCRYPTION_KEYS malformed, a damaged key file) are a
    configuration error like any other: one line saying what to fix and exit 2, not a
    traceback."""
    from wagate.runtime.processes import StartRefused

    try:
        yield
    except StartRefused as exc:
        fail(f"invalid configuration: {exc}", code=2)
