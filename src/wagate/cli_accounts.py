"""`wagate accounts …` and `wagate send`: operator actions from the shell (OB6)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from wagate.domain.audit import AuditEvent
from wagate.domain.messages import Provider
from wagate.storage.dead_letters import NotADeadLetter
from wagate.wiring import Gateway

T = TypeVar("T")
accounts_app = typer.Typer(no_args_is_help=True, help="Manage accounts and linked numbers.")


def _audited(
    action: str, run: Callable[[Gateway], Awaitable[T]], **details: object
) -> Callable[[Gateway], Awaitable[T]]:
    """CP3: an operator's action through the CLI, recorded once it succeeded."""

    async def wrapped(gateway: Gateway) -> T:
        result = await run(gateway)
        subject = f"account:{result.id}" if hasattr(result, "id") else None
        await gateway.audit.record(
            AuditEvent(action=action, actor="operator:cli", subject=subject, details=details),
            at=gateway.clock(),
        )
        return result

    return wrapped


def _with_gateway(action: Callable[[Gateway], Awaitable[T]]) -> T:
    from wagate.cli import run_async, settings_or_exit
    from wagate.wiring import open_gateway

    settings = settings_or_exit()

    async def run() -> T:
        gateway = await open_gateway(settings, pool_size=2)
        try:
            return await action(gateway)
        finally:
            await gateway.close()

    try:
        return run_async(run())
    except ValueError as exc:  # AccountError, InvalidPhoneNumber, SendRejected
        typer.echo(f"wagate: {exc}", err=True)
        raise typer.Exit(code=1) from exc


def _show(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


@accounts_app.command("add")
def add(
    username: str,
    name: Annotated[str | None, typer.Option()] = None,
    role: Annotated[str, typer.Option()] = "user",
    email: Annotated[str | None, typer.Option()] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    approved: Annotated[bool, typer.Option("--approved/--pending")] = False,
) -> None:
    """Add an account."""
    record = _with_gateway(
        _audited(
            "account.created",
            lambda g: g.accounts.add(
                username=username, name=name, role=role, email=email, phone=phone, approved=approved
            ),
        )
    )
    _show(record.as_json())


@accounts_app.command("list")
def list_accounts() -> None:
    """List accounts."""
    _show([a.as_json() for a in _with_gateway(lambda g: g.accounts.list())])


@accounts_app.command("approve")
def approve(account: str, revoke: Annotated[bool, typer.Option("--revoke")] = False) -> None:
    """Approve an account (by id or username), or --revoke the approval."""
    action = "account.revoked" if revoke else "account.approved"
    _show(
        _with_gateway(_audited(action, lambda g: g.accounts.approve(account, not revoke))).as_json()
    )


@accounts_app.command("link")
def link(account: str, phone: str) -> None:
    """Link a phone number to an account directly (an operator vouches for it)."""
    _show(
        _with_gateway(
            _audited("account.linked", lambda g: g.accounts.link(account, phone))
        ).as_json()
    )


@accounts_app.command("unlink")
def unlink(account: str) -> None:
    """Remove an account's linked number."""
    _show(
        _with_gateway(_audited("account.unlinked", lambda g: g.accounts.unlink(account))).as_json()
    )


@accounts_app.command("import")
def import_csv(path: Path) -> None:
    """Import accounts from CSV: username,name,role,email,phone,approved."""
    added, updated = _with_gateway(
        _audited("accounts.imported", lambda g: g.accounts.import_csv(path))
    )
    typer.echo(f"added {added}, updated {updated}")


def send(
    target: str,
    message: str,
    provider: Annotated[Provider | None, typer.Option(help="meta or fonnte")] = None,
    key: Annotated[str | None, typer.Option(help="idempotency key")] = None,
) -> None:
    """Queue a WhatsApp message to TARGET (a worker delivers it)."""
    receipt = _with_gateway(
        lambda g: g.sender.send(
            target, message, provider=provider, key=f"cli:{key}" if key else None
        )
    )
    _show(
        {
            "queued": receipt.queued,
            "target": receipt.target,
            "provider": receipt.provider.value,
            "keys": list(receipt.idempotency_keys),
        }
    )


contacts_app = typer.Typer(no_args_is_help=True, help="A contact's data: export and erase.")


@contacts_app.command("export")
def export_contact(
    phone: str,
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """Everything held about the contact with this number, as JSON (UU PDP access right)."""

    async def run(gateway: Gateway) -> dict[str, Any]:
        data = await gateway.rights.export(phone)
        await gateway.audit.record(
            AuditEvent(
                action="contact.exported",
                actor="operator:cli",
                subject=None,
                details={"conversations": len(data["conversations"])},
            ),
            at=gateway.clock(),
        )
        return data

    text = json.dumps(_with_gateway(run), indent=2, ensure_ascii=False, default=str)
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

    async def run(gateway: Gateway) -> dict[str, int]:
        counts = await gateway.rights.erase(phone)
        await gateway.audit.record(
            AuditEvent(action="contact.erased", actor="operator:cli", subject=None, details=counts),
            at=gateway.clock(),
        )
        return counts

    _show(_with_gateway(run))


def retention_run() -> None:
    """Purge what is older than RETENTION_DAYS now (the worker also does this hourly)."""
    from wagate.jobs.worker import retention_once

    _show(_with_gateway(lambda g: retention_once(g.worker)))


keys_app = typer.Typer(no_args_is_help=True, help="Encryption keys: rotate, re-seal, status.")


@keys_app.command("status")
def keys_status() -> None:
    """How many sealed values each key (or plaintext) holds."""
    from wagate.storage.reseal import Resealer

    _show(
        _with_gateway(lambda g: Resealer(g.database, g.sealer, g.settings.wagate_tenant).status())
    )


@keys_app.command("reseal")
def keys_reseal() -> None:
    """Re-seal every value not sealed with the current key (safe while the gateway runs)."""
    from wagate.storage.reseal import Resealer

    async def run(gateway: Gateway) -> dict[str, int]:
        counts = await Resealer(
            gateway.database,
            gateway.sealer,
            gateway.settings.wagate_tenant,
        ).reseal()
        await gateway.audit.record(
            AuditEvent(action="keys.resealed", actor="operator:cli", subject=None, details=counts),
            at=gateway.clock(),
        )
        return counts

    _show(_with_gateway(run))


@keys_app.command("rotate")
def keys_rotate(
    reseal: Annotated[
        bool, typer.Option("--reseal/--no-reseal", help="Re-seal existing data now.")
    ] = True,
) -> None:
    """Add a new current key to the key file; running processes pick it up within a second.
    Old keys stay for reading until everything is re-sealed."""
    from wagate.cli import settings_or_exit
    from wagate.security.keys import add_key_to_file
    from wagate.wiring import keyfile_path

    path = keyfile_path(settings_or_exit())
    if path is None:
        typer.echo(
            "wagate: keys come from WAGATE_ENCRYPTION_KEYS: put a new id:base64 key "
            "first in that list, restart the processes, then run `wagate keys reseal`.",
            err=True,
        )
        raise typer.Exit(code=2)
    ring = add_key_to_file(path)
    typer.echo(f"current key is now {ring.current.key_id} (back up {path} again)")
    if reseal:
        keys_reseal()


dead_letters_app = typer.Typer(
    no_args_is_help=True, help="Messages that failed for good: list, show, replay."
)


@dead_letters_app.command("list")
def dead_letters_list(limit: Annotated[int, typer.Option()] = 100) -> None:
    """Failed outbound messages and dead-lettered inbound bursts, newest first."""
    _show(_with_gateway(lambda g: g.dead_letters.listing(limit=limit)))


@dead_letters_app.command("show")
def dead_letters_show(message_id: str) -> None:
    """One dead letter: a failed message (its text included) or an inbound burst (in-N)."""
    try:
        found = _with_gateway(lambda g: g.dead_letters.show(message_id))
    except NotADeadLetter as exc:
        typer.echo(f"wagate: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    if found is None:
        typer.echo(f"wagate: no dead letter {message_id}", err=True)
        raise typer.Exit(code=1)
    _show(found)


@dead_letters_app.command("replay")
def dead_letters_replay(
    message_id: Annotated[str | None, typer.Argument(help="123, or in-7 for a burst")] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Replay every dead letter.")] = False,
) -> None:
    """Put a failed message (or --all) back on the queue; it is never a duplicate of
    something delivered, since only failed messages can be replayed."""
    if (message_id is None) == (not replay_all):
        typer.echo("wagate: give a message id, or --all", err=True)
        raise typer.Exit(code=2)

    async def run(gateway: Gateway) -> list[int | str]:
        replayed = await gateway.dead_letters.replay(message_id, at=gateway.clock())
        if replayed:
            await gateway.audit.record(
                AuditEvent(
                    action="dead_letter.replayed",
                    actor="operator:cli",
                    subject=None,
                    details={"messages": len(replayed)},
                ),
                at=gateway.clock(),
            )
        return replayed

    try:
        replayed = _with_gateway(run)
    except NotADeadLetter as exc:
        typer.echo(f"wagate: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    if message_id is not None and not replayed:
        typer.echo(f"wagate: message {message_id} is not a dead letter", err=True)
        raise typer.Exit(code=1)
    _show({"replayed": replayed})
