"""`wagate tenants …`: the firms this gateway serves (MT1) — add, list, show, set, disable,
enable, erase; their channels and API tokens — and a tenant's channels' health and tokens
(OU7). Platform actions go through the operator service's `TenantAdmin`; `status` and
`set-token` act for the selected tenant (`wagate --tenant T tenants status`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from wagate.cli.common import administer, fail, operate, selection, show, with_gateway
from wagate.domain.messages import Provider
from wagate.pipeline.operator import CLI, Rejected

tenants_app = typer.Typer(
    no_args_is_help=True,
    help="Tenants (firms) on this gateway, their channels and tokens; channel health.",
)

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="A setting KEY=VALUE (repeatable); VALUE is read as JSON when it parses "
        "(true, 10, [..]), else as text. Keys: the environment names, lower-case "
        "(system_prompt, ai_disclaimer_text, consent_required, rate_limit_per_minute, "
        "retention_days, whatsapp_templates …).",
    ),
]
FileOption = Annotated[
    Path | None,
    typer.Option("--settings-file", help="A JSON object of settings (applied before --set)."),
]


def _settings(
    pairs: list[str] | None, file: Path | None, unset: list[str] | None = None
) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if file is not None:
        try:
            loaded = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            fail(f"--settings-file: {exc}", code=2)
        if not isinstance(loaded, dict):
            fail("--settings-file must hold a JSON object", code=2)
        settings.update(loaded)
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--set {pair!r}: expected KEY=VALUE", code=2)
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        settings[key.strip().lower()] = value
    for key in unset or []:
        settings[key.strip().lower()] = None
    return settings


@tenants_app.command("add")
def add(
    tenant: Annotated[str, typer.Argument(help="The tenant id: lower-case letters, digits, - _")],
    name: Annotated[str | None, typer.Option(help="A display name")] = None,
    set_: SetOption = None,
    settings_file: FileOption = None,
) -> None:
    """Add a tenant (it gets its own data key); give it channels with `channel-add`."""
    settings = _settings(set_, settings_file)
    show(administer(lambda admin: admin.add(tenant, name=name, settings=settings, by=CLI)))


@tenants_app.command("list")
def list_tenants() -> None:
    """Every tenant: status, settings, channels (never a secret)."""
    show(administer(lambda admin: admin.list()))


@tenants_app.command("show")
def show_tenant(tenant: str) -> None:
    """One tenant: status, settings, channels (never a secret)."""
    show(administer(lambda admin: admin.show(tenant)))


@tenants_app.command("set")
def set_tenant(
    tenant: str,
    name: Annotated[str | None, typer.Option(help="A new display name")] = None,
    set_: SetOption = None,
    unset: Annotated[
        list[str] | None, typer.Option("--unset", help="Back to the platform's value")
    ] = None,
    settings_file: FileOption = None,
) -> None:
    """Change a tenant's name or settings (merged into what it has)."""
    settings = _settings(set_, settings_file, unset)
    show(administer(lambda admin: admin.set(tenant, name=name, settings=settings, by=CLI)))


@tenants_app.command("disable")
def disable(tenant: str) -> None:
    """Stop answering for the tenant; its webhooks are still stored."""
    show(administer(lambda admin: admin.disable(tenant, by=CLI)))


@tenants_app.command("enable")
def enable(tenant: str) -> None:
    """Answer again (messages stored meanwhile are answered)."""
    show(administer(lambda admin: admin.enable(tenant, by=CLI)))


@tenants_app.command("erase")
def erase(
    tenant: str,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone")] = False,
) -> None:
    """Crypto-shred a tenant: its data key is destroyed, so everything it stored becomes
    unreadable at once; its channels and tokens are removed."""
    if not yes:
        fail("erasing a tenant cannot be undone: add --yes", code=2)
    show(administer(lambda admin: admin.erase(tenant, by=CLI)))


@tenants_app.command("channel-add")
def channel_add(
    tenant: str,
    provider: Annotated[Provider, typer.Option(help="meta or fonnte")],
    channel: Annotated[str, typer.Option(help="Meta: the phone number id; Fonnte: the device")],
    account: Annotated[str | None, typer.Option(help="Meta: the WABA id")] = None,
    token: Annotated[
        str | None, typer.Option(help="The access token; omit it to read it from stdin")
    ] = None,
    webhook_secret: Annotated[
        str | None,
        typer.Option(help="Fonnte: the secret in the device's webhook URL (16+ characters)"),
    ] = None,
) -> None:
    """Give a tenant a channel, with its own credentials (stored sealed)."""
    value = (token if token is not None else sys.stdin.readline()).strip()
    show(
        administer(
            lambda admin: admin.add_channel(
                tenant,
                provider=provider,
                channel_id=channel,
                token=value,
                account_id=account,
                webhook_secret=webhook_secret,
                by=CLI,
            )
        )
    )


@tenants_app.command("channel-remove")
def channel_remove(
    tenant: str,
    provider: Annotated[Provider, typer.Option(help="meta or fonnte")],
    channel: Annotated[str, typer.Option(help="Meta: the phone number id; Fonnte: the device")],
) -> None:
    """Take a channel, and its credentials, from a tenant."""
    show(
        administer(
            lambda admin: admin.remove_channel(
                tenant, provider=provider, channel_id=channel, by=CLI
            )
        )
    )


@tenants_app.command("token")
def issue_token(
    tenant: Annotated[str | None, typer.Argument(help="The tenant; omit with --platform")] = None,
    name: Annotated[str, typer.Option(help="What the token is for")] = "api",
    platform: Annotated[
        bool, typer.Option("--platform", help="A platform administrator's token")
    ] = False,
) -> None:
    """Issue an operator API token (printed once; only its digest is kept)."""
    if (tenant is None) == (not platform):
        fail("give a tenant, or --platform", code=2)
    show(administer(lambda admin: admin.issue_token(tenant, name=name, by=CLI)))


@tenants_app.command("tokens")
def list_tokens(tenant: Annotated[str | None, typer.Argument()] = None) -> None:
    """A tenant's API tokens (without a tenant: the platform's)."""
    show(administer(lambda admin: admin.list_tokens(tenant)))


@tenants_app.command("revoke-token")
def revoke_token(
    token_id: int,
    tenant: Annotated[str | None, typer.Option(help="Its tenant (omit: a platform token)")] = None,
) -> None:
    """Revoke an operator API token by its id (from `wagate tenants tokens`)."""
    administer(lambda admin: admin.revoke_token(tenant, token_id, by=CLI))
    typer.echo(json.dumps({"revoked": token_id}))


@tenants_app.command("status")
def status() -> None:
    """The selected tenant's channels (closed = sending; open = breaker; degraded = token
    refused)."""
    states = with_gateway(
        lambda g: g.services(selection.tenant).status.channel_states(with_ids=True)
    )
    typer.echo(json.dumps(states, indent=2))


@tenants_app.command("set-token")
def set_token(
    provider: Annotated[Provider, typer.Argument(help="meta or fonnte")],
    token: Annotated[
        str | None,
        typer.Option(help="The new token; omit it to read it from standard input."),
    ] = None,
) -> None:
    """Replace the selected tenant's provider token for every running process: it is stored
    sealed, the channel leaves its degraded state, and paused messages resume."""
    value = (token if token is not None else sys.stdin.readline()).strip()
    if not value:
        fail("empty token", code=2)
    version = operate(
        lambda op: op.channels.set_token(provider, value, by=CLI), usage_errors=(Rejected,)
    )
    typer.echo(json.dumps({"provider": provider.value, "version": version}))
