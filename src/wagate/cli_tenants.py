"""`wagate tenants`: the provider channels' health, and replacing an expired token (OU7)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from wagate.cli_accounts import _with_gateway
from wagate.domain.audit import AuditEvent
from wagate.domain.messages import Provider
from wagate.wiring import Gateway

tenants_app = typer.Typer(
    no_args_is_help=True, help="Provider channels of this tenant: health and tokens."
)


@tenants_app.command("status")
def status() -> None:
    """Each channel's state (closed = sending; open = breaker; degraded = token refused)."""
    states = _with_gateway(lambda g: g.status.channel_states(with_ids=True))
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
        typer.echo("wagate: empty token", err=True)
        raise typer.Exit(code=2)

    async def run(gateway: Gateway) -> dict[str, Any]:
        s = gateway.settings
        configured = s.meta_configured if provider is Provider.META else s.fonnte_configured
        if not configured:
            raise typer.BadParameter(f"{provider.value} is not configured on this gateway")
        now = gateway.clock()
        version = await gateway.credentials.set(provider, value, at=now)
        await gateway.audit.record(
            AuditEvent(
                action="credentials.replaced",
                actor="operator:cli",
                subject=f"channel:{provider.value}",
                details={"version": version},
            ),
            at=now,
        )
        return {"provider": provider.value, "version": version}

    typer.echo(json.dumps(_with_gateway(run)))
