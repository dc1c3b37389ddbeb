"""`wagate keys …`: encryption keys (CP2): rotate, re-seal, status."""

from __future__ import annotations

from typing import Annotated

import typer

from wagate.cli.common import operate, show
from wagate.pipeline.operator import CLI, Rejected

keys_app = typer.Typer(no_args_is_help=True, help="Encryption keys: rotate, re-seal, status.")


@keys_app.command("status")
def keys_status() -> None:
    """How many sealed values each key (or plaintext) holds."""
    show(operate(lambda op: op.keys.status()))


@keys_app.command("reseal")
def keys_reseal() -> None:
    """Re-seal every value not sealed with the current key (safe while the gateway runs)."""
    show(operate(lambda op: op.keys.reseal(by=CLI)))


@keys_app.command("rotate")
def keys_rotate(
    reseal: Annotated[
        bool, typer.Option("--reseal/--no-reseal", help="Re-seal existing data now.")
    ] = True,
) -> None:
    """Add a new current key to the key file; running processes pick it up within a second.
    Old keys stay for reading until everything is re-sealed."""
    rotation = operate(lambda op: op.keys.rotate(by=CLI), usage_errors=(Rejected,))
    typer.echo(f"current key is now {rotation.key_id} (back up {rotation.location} again)")
    if reseal:
        keys_reseal()  # a fresh process state: it reads the key file with the new key
