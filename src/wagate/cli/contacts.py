"""`wagate contacts …` (UU PDP rights, CP7) and `wagate retention` (CP8)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wagate.cli.common import as_json_text, operate, show, with_gateway
from wagate.pipeline.operator import CLI

if TYPE_CHECKING:
    from wagate.pipeline.operator import OperatorService

contacts_app = typer.Typer(no_args_is_help=True, help="A contact's data: export and erase.")


@contacts_app.command("export")
def export_contact(
    phone: str,
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
    files: Annotated[
        Path | None,
        typer.Option(help="Also write the files the contact sent, decrypted, to this folder."),
    ] = None,
) -> None:
    """Everything held about the contact with this number, as JSON (UU PDP access right)."""

    if files is not None:
        files.mkdir(parents=True, exist_ok=True, mode=0o700)

    async def export(op: OperatorService) -> dict[str, Any]:
        data = await op.contacts.export(phone, by=CLI)
        if files is not None:
            data["mediaWritten"] = await _write_files(op, data.get("media", []), files)
        return data

    data = operate(export)
    text = as_json_text(data)
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


async def _write_files(op: OperatorService, items: list[dict[str, Any]], folder: Path) -> list[str]:
    """Each stored file into `folder` (mode 0600), named `<id>-<safe name>`; every one is a
    download, audited as such. Returns the names written."""
    written = []
    for item in items:
        if item.get("status") != "stored":
            continue
        stored = await op.media.download(int(item["id"]), by=CLI)
        path = folder / f"{stored.id}-{stored.filename}"
        handle = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
        with handle:
            async for piece in stored.chunks:
                handle.write(piece)
        written.append(path.name)
    return written


def retention_run() -> None:
    """Purge what is older than RETENTION_DAYS now (the worker also does this hourly)."""
    from wagate.jobs.worker import retention_once

    show(with_gateway(lambda g: retention_once(g.worker)))
