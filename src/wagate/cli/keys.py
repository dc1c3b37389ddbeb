"""`wagate keys …`: encryption keys (CP2): rotate, re-seal, status; per-tenant data keys."""

from __future__ import annotations

from typing import Annotated

import typer

from wagate.cli.common import fail, operate, show
from wagate.pipeline.operator import CLI, Rejected

keys_app = typer.Typer(no_args_is_help=True, help="Encryption keys: rotate, re-seal, status.")


@keys_app.command("status")
def keys_status() -> None:
    """How many sealed values each key (or plaintext) holds; `tenant/dN` is a tenant's data
    key."""
    show(operate(lambda op: op.keys.status(by=CLI)))


@keys_app.command("data-keys")
def keys_data_keys() -> None:
    """Every tenant's data keys: which master key wraps each, when it was created and
    destroyed (no key material)."""
    show(operate(lambda op: op.keys.data_keys(by=CLI)))


@keys_app.command("reseal")
def keys_reseal() -> None:
    """Re-seal every value not sealed with the current key (safe while the gateway runs)."""
    show(operate(lambda op: op.keys.reseal(by=CLI)))


@keys_app.command("rotate")
def keys_rotate(
    reseal: Annotated[
        bool, typer.Option("--reseal/--no-reseal", help="Re-seal existing data now.")
    ] = True,
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="With --data-key: the tenant whose key.")
    ] = None,
    data_key: Annotated[
        bool,
        typer.Option(
            "--data-key", help="Rotate the tenant's data key (and re-seal its content) instead."
        ),
    ] = False,
) -> None:
    """Add a new current key to the key file; running processes pick it up within a second.
    Old keys stay for reading until everything is re-sealed. The tenants' data keys are
    re-wrapped under the new key at once.

    With `--tenant T --data-key`: give tenant T a new data key and re-seal its content."""
    if data_key or tenant is not None:
        if tenant is None or not data_key:
            fail("--tenant and --data-key go together: wagate keys rotate --tenant T --data-key", 2)
        _rotate_data_key(tenant)
        return
    rotation = operate(lambda op: op.keys.rotate(by=CLI), usage_errors=(Rejected,))
    typer.echo(f"current key is now {rotation.key_id} (back up {rotation.location} again)")
    if rotation.rewrapped:
        typer.echo(f"{rotation.rewrapped} tenant data keys re-wrapped under {rotation.key_id}")
    if reseal:
        keys_reseal()  # a fresh process state: it reads the key file with the new key


def _rotate_data_key(tenant: str) -> None:
    rotation = operate(lambda op: op.keys.rotate_data_key(tenant, by=CLI))
    typer.echo(f"current data key of tenant {rotation.tenant} is now {rotation.key_id}")
    show(rotation.resealed)
