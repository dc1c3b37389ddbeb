"""`wagate users …`: the operator users of the selected tenant (`wagate --tenant T users …`),
their roles, passwords and personal API tokens (issue 14), through the operator service as
`operator:cli`.

A password is never an argument (it would sit in the shell's history and in `ps`): on a
terminal it is asked twice without echo; otherwise the first line of standard input is read,
so `printf '%s\\n' "$PASSWORD" | wagate users add budi --role lawyer` works in scripts.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from wagate.cli.common import fail, operate, show
from wagate.domain.operators import Role
from wagate.pipeline.operator import CLI

users_app = typer.Typer(
    no_args_is_help=True,
    help="Operator users (people who sign in), their roles, passwords and personal tokens.",
)

RoleOption = Annotated[
    Role, typer.Option("--role", help="admin, lawyer, staff or viewer", case_sensitive=False)
]


def read_password(prompt: str = "Password") -> str:
    """From the terminal (hidden, twice), or the first line of standard input."""
    if sys.stdin.isatty():
        first = typer.prompt(prompt, hide_input=True)
        again = typer.prompt(f"{prompt} (again)", hide_input=True)
        if first != again:
            fail("the two passwords differ", code=2)
        return str(first)
    line = sys.stdin.readline()
    if not line:
        fail("no password on standard input (give it as the first line)", code=2)
    return line.removesuffix("\n").removesuffix("\r")


@users_app.command("add")
def add(name: str, role: RoleOption) -> None:
    """Add a user with a role; the password is read from standard input."""
    password = read_password()
    show(operate(lambda op: op.users.add(name, role=role, password=password, by=CLI)).as_json())


@users_app.command("list")
def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """Every user of the tenant: name, role, disabled, last sign-in."""
    users = operate(lambda op: op.users.list(by=CLI))
    if as_json:
        show([u.as_json() for u in users])
        return
    if not users:
        typer.echo("no users (add one with `wagate users add NAME --role admin`)")
        return
    for user in users:
        state = "disabled" if user.disabled else "active"
        last = user.last_sign_in_at.isoformat(timespec="seconds") if user.last_sign_in_at else "-"
        typer.echo(f"{user.name:<32} {user.role.value:<8} {state:<9} last sign-in {last}")


@users_app.command("show")
def show_user(name: str) -> None:
    """One user."""
    show(operate(lambda op: op.users.show(name, by=CLI)).as_json())


@users_app.command("passwd")
def passwd(name: str) -> None:
    """Set a user's password (read from standard input); failed sign-ins are forgotten."""
    password = read_password("New password")
    operate(lambda op: op.users.passwd(name, password=password, by=CLI))
    typer.echo(f"password of {name} changed")


@users_app.command("role")
def role(
    name: str,
    new_role: Annotated[Role, typer.Argument(help="admin, lawyer, staff or viewer")],
) -> None:
    """Give a user another role (it applies to their next request)."""
    show(operate(lambda op: op.users.set_role(name, new_role, by=CLI)).as_json())


@users_app.command("disable")
def disable(name: str) -> None:
    """The user can no longer sign in, and their tokens are refused, until enabled."""
    show(operate(lambda op: op.users.disable(name, by=CLI)).as_json())


@users_app.command("enable")
def enable(name: str) -> None:
    """Let a disabled user sign in again (their tokens work again too)."""
    show(operate(lambda op: op.users.enable(name, by=CLI)).as_json())


@users_app.command("token")
def token(
    name: str,
    label: Annotated[str | None, typer.Option("--label", help="What the token is for")] = None,
) -> None:
    """Issue a personal API token acting as the user; it is printed once, never again."""
    issued = operate(lambda op: op.users.issue_token(name, label=label, by=CLI))
    show(issued)


@users_app.command("tokens")
def tokens(name: str) -> None:
    """A user's personal tokens (ids, labels, revoked or not; never the tokens)."""
    show(operate(lambda op: op.users.tokens(name, by=CLI)))


@users_app.command("revoke-token")
def revoke_token(token_id: int) -> None:
    """Revoke a personal token by its id (from `wagate users tokens NAME`)."""
    operate(lambda op: op.users.revoke_token(token_id, by=CLI))
    typer.echo(f"token {token_id} revoked")
