"""`wagate chat`: talk to a sandbox gateway from the terminal (OB5); the client is in
`chat_client`."""

from __future__ import annotations

from typing import Annotated

import typer

from wagate.cli.common import run_async, settings_or_exit


def chat(
    as_number: Annotated[str, typer.Option("--as", help="The WhatsApp number you play.")] = (
        "6281234567890"
    ),
    name: Annotated[str, typer.Option(help="Your WhatsApp profile name.")] = "Pengguna Sandbox",
) -> None:
    """Talk to a sandbox gateway from the terminal, through its real webhook path."""
    from wagate.cli.chat_client import run_chat

    settings = settings_or_exit(quiet=True)
    try:
        code = run_async(run_chat(settings.wagate_data_dir, as_number, name))
    except KeyboardInterrupt:  # Ctrl-C is a way to leave, not a crash
        typer.echo("")
        code = 130
    raise typer.Exit(code=code)
