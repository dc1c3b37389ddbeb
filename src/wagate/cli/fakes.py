"""`wagate fake …`: the fake providers and AI as real HTTP servers (tests, sandbox)."""

from __future__ import annotations

from typing import Annotated

import typer

fake_app = typer.Typer(no_args_is_help=True, help="Run a fake provider as a real HTTP server.")


@fake_app.command("meta")
def fake_meta(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8081,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    access_token: Annotated[str | None, typer.Option(help="Token to require (else any).")] = None,
) -> None:
    """A fake Graph API that records requests and fails on command (see /_fake/)."""
    import uvicorn

    from wagate.fakes.meta import FakeGraphApi
    from wagate.observability.logs import configure_logging

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
    api_key: Annotated[str | None, typer.Option(help="API key to require (else any).")] = None,
) -> None:
    """A fake OpenAI-compatible chat-completions server (deterministic echo; see /_fake/)."""
    import uvicorn

    from wagate.fakes.openai import FakeOpenAI
    from wagate.observability.logs import configure_logging

    configure_logging("WARNING")
    uvicorn.run(
        FakeOpenAI(api_key=api_key).app, host=host, port=port, log_config=None, access_log=False
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
    from wagate.observability.logs import configure_logging

    configure_logging("WARNING")
    uvicorn.run(
        FakeFonnte(token=token).app, host=host, port=port, log_config=None, access_log=False
    )
