"""`wagate` — one command for everything an operator does (OB6)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import typer

from wagate.logs import configure_logging
from wagate.settings import ConfigurationError, Settings, load_settings

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="wagate: a self-hosted WhatsApp AI gateway."
)
fake_app = typer.Typer(no_args_is_help=True, help="Run a fake provider as a real HTTP server.")
app.add_typer(fake_app, name="fake")


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        typer.echo(f"wagate: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    configure_logging(settings.wagate_log_level, settings.wagate_log_format)
    return settings


def _run(coro: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is installed with uvicorn[standard]
        loop_factory = None
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=loop_factory) as r:
        r.run(coro)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Also run a job worker in this process.")
    ] = True,
) -> None:
    """Run the gateway: webhooks, API and (unless --no-worker) a worker."""
    from wagate.runtime import serve as run_serve

    _run(run_serve(_settings(), host=host, port=port, with_worker=worker))


@app.command()
def worker() -> None:
    """Run a job worker only (scale out: any number of these on one database)."""
    from wagate.runtime import work

    _run(work(_settings()))


@app.command()
def migrate(
    direction: Annotated[str, typer.Argument(help="up or down")] = "up",
    revision: Annotated[str | None, typer.Argument(help="target revision")] = None,
) -> None:
    """Apply migrations (`up [REV]`, default head) or roll back (`down REV`, e.g. `down base`)."""
    from wagate.storage import migrate as migrations
    from wagate.wiring import database_url

    settings = _settings()
    if direction not in ("up", "down"):
        typer.echo("wagate: direction must be 'up' or 'down'", err=True)
        raise typer.Exit(code=2)
    if direction == "down" and not revision:
        typer.echo("wagate: 'migrate down' needs a revision (e.g. 'base' or '-1')", err=True)
        raise typer.Exit(code=2)
    url, embedded = database_url(settings)
    try:
        if direction == "up":
            migrations.upgrade(url, revision or "head")
        else:
            assert revision is not None
            migrations.downgrade(url, revision)
        typer.echo(f"database at revision: {migrations.current_revision(url) or 'base'}")
    finally:
        if embedded is not None:
            embedded.stop()


@fake_app.command("meta")
def fake_meta(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8081,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    access_token: Annotated[str | None, typer.Option(help="Token to require (else any).")] = None,
) -> None:
    """A fake Graph API that records requests and fails on command (see /_fake/)."""
    import uvicorn

    from wagate.fakes.meta import FakeGraphApi

    configure_logging("WARNING")
    uvicorn.run(
        FakeGraphApi(access_token=access_token).app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
    )


@fake_app.command("fonnte")
def fake_fonnte(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8082,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    token: Annotated[str | None, typer.Option(help="Device token to require (else any).")] = None,
) -> None:
    """A fake Fonnte /send that records requests and fails on command (see /_fake/)."""
    import uvicorn

    from wagate.fakes.fonnte import FakeFonnte

    configure_logging("WARNING")
    uvicorn.run(
        FakeFonnte(token=token).app, host=host, port=port, log_config=None, access_log=False
    )


def main() -> None:
    try:
        app()
    except ConfigurationError as exc:  # pragma: no cover - _settings already reports these
        typer.echo(f"wagate: {exc}", err=True)
        sys.exit(2)
