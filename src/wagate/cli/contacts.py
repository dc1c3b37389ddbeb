"""`wagate contacts …` (UU PDP rights, CP7) and `wagate retention` (CP8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from wagate.cli.common import operate, show, with_gateway
from wagate.pipeline.operator import CLI

contacts_app = typer.Typer(no_args_is_help=True, help="A contact's data: export and erase.")


@contacts_app.command("export")
def export_contact(
    phone: str,
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """Everything held about the contact with this number, as JSON (UU PDP access right)."""
    data = operate(lambda op: op.contacts.export(phone, by=CLI))
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        output.chmod(0o600)
        typer.echo(f"written to {output}")


@contacts_app.command("erase")
def erase_contact(
    phone: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase the contact with this number and everything held about it (UU PDP erasure)."""
    if not yes:
        typer.confirm(f"Erase everything held about {phone}?", abort=True)
    show(operate(lambda op: op.contacts.erase(phone, by=CLI)))


def retention_run() -> None:
    """Purge what is older than RETENTION_DAYS now (the worker also does this hourly)."""
    from wagate.jobs.worker import retention_once

    show(with_gateway(lambda g: retention_once(g.worker)))
