"""`wagate` — one command for everything an operator does (OB6). This module only assembles
the typer app from one module per command group; the groups share `common` and never import
each other."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
import typer.main

from wagate.cli import (
    accounts,
    audit,
    chat,
    common,
    contacts,
    conversations,
    dead_letters,
    doctor,
    fakes,
    intakes,
    kb,
    keys,
    review,
    send,
    server,
    smoke_test,
    tenants,
    users,
)
from wagate.cli.help_format import plain_help

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="wagate: a self-hosted WhatsApp AI gateway."
)


def show_version(asked: bool) -> None:
    if asked:
        from wagate import __version__

        typer.echo(f"wagate {__version__}")
        raise typer.Exit()


@app.callback()
def choose_tenant(
    tenant: Annotated[
        str | None,
        typer.Option(
            "--tenant",
            help="Act for this tenant (accounts, send, dead letters …); default: the default "
            "tenant (WAGATE_TENANT).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=show_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """wagate: a self-hosted WhatsApp AI gateway."""
    common.selection.tenant = tenant


for command in (server.serve, server.worker, server.migrate, chat.chat, send.send):
    app.command()(command)
app.command("send-template")(send.send_template)
app.command("retention")(contacts.retention_run)
app.command("doctor")(doctor.doctor)
app.command("smoke-test")(smoke_test.smoke_test)
for group, name in (
    (fakes.fake_app, "fake"),
    (accounts.accounts_app, "accounts"),
    (contacts.contacts_app, "contacts"),
    (conversations.conversations_app, "conversations"),
    (keys.keys_app, "keys"),
    (kb.kb_app, "kb"),
    (dead_letters.dead_letters_app, "dead-letters"),
    (tenants.tenants_app, "tenants"),
    (users.users_app, "users"),
    (audit.audit_app, "audit"),
    (review.review_app, "review"),
    (intakes.intakes_app, "intakes"),
):
    app.add_typer(group, name=name)


def cli() -> Any:
    """The click command tree `wagate` runs, its help texts tidied (see `help_format`)."""
    return plain_help(typer.main.get_command(app))


def main() -> None:
    try:
        cli()(prog_name="wagate")
    except Exception as exc:  # pragma: no cover - settings_or_exit reports these
        # Imported only now: loading the settings module costs `wagate --help` a lot.
        from wagate.settings import ConfigurationError

        if not isinstance(exc, ConfigurationError):
            raise
        typer.echo(f"wagate: {exc}", err=True)
        sys.exit(2)
