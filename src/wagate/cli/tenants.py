"""`wagate tenants`: the provider channels' health, and replacing an expired token (OU7)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from wagate.cli.common import fail, operate, with_gateway
from wagate.domain.messages import Provider
from wagate.pipeline.operator import CLI, Rejected

tenants_app = typer.Typer(
    no_args_is_help=True, help="Provider channels of this tenant: health and tokens."
)


@tenants_app.command("status")
def status() -> None:
    """Each channel's state (closed = sending; open = breaker; degraded = token refused)."""
    states = with_gateway(lambda g: g.status.channel_states(with_ids=True))
    typer.echo(json.dumps(states, indent=2))


@tenants_app.command("set-token")
def set_token(
    provider: Annotated[Provider, typer.Argument(help="meta or fonnte")],
    token: Annotated[
        str | None,
        typer.Option(help="The new token; omit it to read it from standard input."),
    ] = None,
) -> None:
    """Replace the provider's access token for every running process: it is stored sealed,
    the channel leaves its degraded state, and paused messages resume."""
    value = (token if token is not None else sys.stdin.readline()).strip()
    if not value:
        fail("empty token", code=2)
    version = operate(
        lambda op: op.channels.set_token(provider, value, by=CLI), usage_errors=(Rejected,)
    )
    typer.echo(json.dumps({"provider": provider.value, "version": version}))
