"""`wagate accounts …`: accounts and linked numbers (ID3), through the operator service."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wagate.cli.common import fail, operate, show
from wagate.domain.identity import LinkCheck
from wagate.pipeline.operator import CLI

accounts_app = typer.Typer(no_args_is_help=True, help="Manage accounts and linked numbers.")


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
    created = operate(
        lambda op: op.accounts.create(
            username=username,
            by=CLI,
            name=name,
            role=role,
            email=email,
            phone=phone,
            approved=approved,
        )
    )
    show(created.as_json())


@accounts_app.command("list")
def list_accounts() -> None:
    """List accounts."""
    show([a.as_json() for a in operate(lambda op: op.accounts.list(by=CLI))])


@accounts_app.command("approve")
def approve(account: str, revoke: Annotated[bool, typer.Option("--revoke")] = False) -> None:
    """Approve an account (by id or username), or --revoke the approval."""
    show(operate(lambda op: op.accounts.approve(account, by=CLI, approved=not revoke)).as_json())


@accounts_app.command("link")
def link(account: str, phone: str) -> None:
    """Link a phone number to an account directly (an operator vouches for it)."""
    show(operate(lambda op: op.accounts.link(account, phone, by=CLI)).as_json())


@accounts_app.command("send-code")
def send_code(account: str, phone: str) -> None:
    """Send a 6-digit link code to PHONE over WhatsApp; `accounts verify` checks it."""
    sent = operate(lambda op: op.accounts.send_link_code(account, phone, by=CLI))
    show(
        {
            "account": sent.account.id,
            "phone": sent.phone,
            "sent": True,
            "expiresInSeconds": sent.expires_in_seconds,
        }
    )


@accounts_app.command("verify")
def verify(account: str, code: str) -> None:
    """Check a link code the number received; on success the number is linked."""
    result, linked = operate(lambda op: op.accounts.verify(account, code, by=CLI))
    if result is not LinkCheck.OK:
        fail(f"link code: {result.value}")
    show({"linked": True, "account": linked.as_json()})


@accounts_app.command("unlink")
def unlink(account: str) -> None:
    """Remove an account's linked number."""
    show(operate(lambda op: op.accounts.unlink(account, by=CLI)).as_json())


@accounts_app.command("import")
def import_csv(path: Path) -> None:
    """Import accounts from CSV: username,name,role,email,phone,approved."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        fail(f"{path}: {exc.strerror}")
    added, updated = operate(lambda op: op.accounts.import_csv(text, by=CLI, source=str(path)))
    typer.echo(f"added {added}, updated {updated}")
