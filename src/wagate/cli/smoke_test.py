"""`wagate smoke-test NUMBER`: one real message to NUMBER through the running gateway, watched
until the provider reports it delivered, with the time each step took. Exit 0 when it was
delivered (or read), 1 when it failed or nothing final came within --wait."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from wagate.cli.common import fail, selection, with_gateway
from wagate.domain.messages import Provider
from wagate.pipeline.operator import CLI

if TYPE_CHECKING:
    from wagate.pipeline.smoke_test import Milestone, SmokeResult


def smoke_test(
    number: Annotated[str, typer.Argument(help="The phone number to write to (yours).")],
    template: Annotated[
        str | None,
        typer.Option(help="Send this configured template (allowed at any time)."),
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="A template value (repeat for more).")
    ] = None,
    language: Annotated[str | None, typer.Option(help="The template's language, e.g. id.")] = None,
    text: Annotated[
        str,
        typer.Option(
            help="The text to send without --template (Meta: within 24 hours of "
            "the number's last message)."
        ),
    ] = "Tes wagate: pesan ini boleh diabaikan. (wagate smoke test)",
    provider: Annotated[str | None, typer.Option(help="meta or fonnte, for a text.")] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the delivery status.")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Send one message to NUMBER and wait for its delivery status: the check after going
    live. The gateway must be running (its worker sends; its webhook takes the status)."""
    # Imported here: `wagate --help` must not load the operator service (the first hour).
    from wagate.pipeline.smoke_test import Message, SmokeTest

    try:
        chosen = Provider(provider) if provider else None
    except ValueError as exc:
        fail(str(exc), code=2)
    message = Message(
        template=template,
        parameters=param or [],
        language=language,
        text=None if template else text,
        provider=chosen,
    )
    shown = None if as_json else _show_milestone
    if not as_json:
        kind = f"template {template}" if template else "a text"
        typer.echo(f"sending {kind} to {number}, waiting up to {wait:g} s for its delivery …")
    result = with_gateway(
        lambda gateway: SmokeTest(operator=gateway.services(selection.tenant).operator, by=CLI).run(
            number, message, wait_seconds=wait, progress=shown
        )
    )
    if as_json:
        typer.echo(json.dumps(as_dict(result), indent=2))
    else:
        _show_outcome(result)
    raise typer.Exit(code=0 if result.delivered else 1)


def _show_milestone(milestone: Milestone) -> None:
    line = f"  {milestone.status:<10} {milestone.seen_after:6.1f} s"
    if milestone.webhook_after is not None:
        line += f"   (status webhook {milestone.webhook_after:.1f} s after queueing)"
    typer.echo(line)


def _show_outcome(result: SmokeResult) -> None:
    if result.delivered:
        last = result.milestones[-1]
        typer.secho(
            f"delivered: {last.status} after {last.seen_after:.1f} s via {result.provider}",
            fg="green",
            bold=True,
        )
        return
    typer.secho(f"not delivered: {result.problem}", fg="red", bold=True, err=True)
    if result.hint:
        typer.echo(f"  → {result.hint}", err=True)


def as_dict(result: SmokeResult) -> dict[str, object]:
    delivery = result.delivery
    return {
        "delivered": result.delivered,
        "provider": str(result.provider),
        "target": result.target,
        "key": result.key,
        "status": delivery.status if delivery else None,
        "providerMessageId": delivery.provider_message_id if delivery else None,
        "problem": result.problem or None,
        "hint": result.hint or None,
        "milestones": [
            {"status": m.status, "seenAfter": m.seen_after, "webhookAfter": m.webhook_after}
            for m in result.milestones
        ],
    }
