"""`wagate` — one command for everything an operator does (OB6)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

import typer

from wagate.observability.logs import configure_logging
from wagate.settings import ConfigurationError, Settings, load_settings

T = TypeVar("T")
app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="wagate: a self-hosted WhatsApp AI gateway."
)
fake_app = typer.Typer(no_args_is_help=True, help="Run a fake provider as a real HTTP server.")
app.add_typer(fake_app, name="fake")


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        typer.echo(f"wagate: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    configure_logging(settings.wagate_log_level, settings.wagate_log_format)
    return settings


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is installed with uvicorn[standard]
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(coro)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Also run a job worker in this process.")
    ] = True,
) -> None:
    """Run the gateway: webhooks, API and (unless --no-worker) a worker."""
    from wagate.runtime.processes import serve as run_serve

    run_async(run_serve(settings_or_exit(), host=host, port=port, with_worker=worker))


@app.command()
def worker() -> None:
    """Run a job worker only (scale out: any number of these on one database)."""
    from wagate.runtime.processes import work

    run_async(work(settings_or_exit()))


@app.command()
def migrate(
    direction: Annotated[str, typer.Argument(help="up or down")] = "up",
    revision: Annotated[str | None, typer.Argument(help="target revision")] = None,
) -> None:
    """Apply migrations (`up [REV]`, default head) or roll back (`down REV`, e.g. `down base`)."""
    from wagate.storage import migrate as migrations
    from wagate.wiring import database_url

    settings = settings_or_exit()
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


@fake_app.command("openai")
def fake_openai(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8083,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """A fake OpenAI-compatible chat-completions server (deterministic echo; see /_fake/)."""
    import uvicorn

    from wagate.fakes.openai import FakeOpenAI

    configure_logging("WARNING")
    uvicorn.run(FakeOpenAI().app, host=host, port=port, log_config=None, access_log=False)


@app.command()
def chat(
    as_number: Annotated[str, typer.Option("--as", help="The WhatsApp number you play.")] = (
        "6281234567890"
    ),
    name: Annotated[str, typer.Option(help="Your WhatsApp profile name.")] = "Pengguna Sandbox",
) -> None:
    """Talk to a sandbox gateway from the terminal, through its real webhook path."""
    from wagate.chat import run_chat

    settings = settings_or_exit()
    raise typer.Exit(code=run_async(run_chat(settings.wagate_data_dir, as_number, name)))


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


def _register_operator_commands() -> None:
    from wagate.cli_accounts import (
        accounts_app,
        contacts_app,
        dead_letters_app,
        keys_app,
        retention_run,
        send,
    )

    app.add_typer(accounts_app, name="accounts")
    app.add_typer(contacts_app, name="contacts")
    app.add_typer(keys_app, name="keys")
    app.add_typer(dead_letters_app, name="dead-letters")
    from wagate.cli_tenants import tenants_app

    app.add_typer(tenants_app, name="tenants")
    app.command("retention")(retention_run)
    from wagate.cli_audit import audit_app

    app.add_typer(audit_app, name="audit")
    app.command("send")(send)


_register_operator_commands()


def main() -> None:
    try:
        app()
    except ConfigurationError as exc:  # pragma: no cover - _settings already reports these
        typer.echo(f"wagate: {exc}", err=True)
        sys.exit(2)
