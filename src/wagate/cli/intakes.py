"""`wagate intakes …`: case intakes from WhatsApp Flows (FL1) — send the Flow to a number, list,
show, mark reviewed, and print the shipped Flow JSON to upload to Meta. A shell on the host
acts as an administrator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from wagate.cli.common import fail, operate, show
from wagate.domain.case_intake import STATUSES
from wagate.flows import case_intake_flow_text
from wagate.pipeline.operator import CLI

if TYPE_CHECKING:
    from wagate.pipeline.operator import OperatorService
    from wagate.pipeline.operator.case_intakes import CaseIntakes

intakes_app = typer.Typer(
    no_args_is_help=True,
    help="Case intakes from WhatsApp Flows: send the Flow, list, show, mark reviewed.",
)


def _intakes(op: OperatorService) -> CaseIntakes:
    if op.intakes is None:
        fail("case intake is not configured for this tenant")
    return op.intakes


def _table(items: list[dict[str, Any]]) -> None:
    if not items:
        typer.echo("no intakes")
        return
    typer.echo(f"{'ID':>6}  {'STATUS':<9}  {'CONV':>6}  {'COMPLETE':<8}  {'DOCS':>4}  CASE TYPE")
    for i in items:
        typer.echo(
            f"{i['id']:>6}  {i['status']:<9}  {i['conversation']:>6}  "
            f"{'yes' if i['complete'] else 'no':<8}  {i['documentCount']:>4}  "
            f"{i.get('caseType') or '-'}"
        )


@intakes_app.command("send")
def intakes_send(
    target: str,
    key: Annotated[str | None, typer.Option(help="idempotency key")] = None,
) -> None:
    """Send the case-intake Flow to TARGET (a worker delivers it; INTAKE_FLOW_ID must be set)."""
    receipt = operate(lambda op: _intakes(op).send(target, by=CLI, key=key))
    show(receipt.as_json())


@intakes_app.command("list")
def intakes_list(
    status: Annotated[
        str | None, typer.Option(help=f"Only intakes in this status ({', '.join(STATUSES)}).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
) -> None:
    """Intakes, newest first (no answers but the name and case type: see `show`)."""
    items = operate(lambda op: _intakes(op).listing(by=CLI, status=status, limit=limit))
    if as_json:
        show(items)
    else:
        _table(items)


@intakes_app.command("show")
def intakes_show(intake_id: int) -> None:
    """One intake with every answer and document (audited as viewed)."""
    show(operate(lambda op: _intakes(op).show(intake_id, by=CLI)))


@intakes_app.command("review")
def intakes_review(intake_id: int) -> None:
    """Mark an intake reviewed (a lawyer has looked at it)."""
    show(operate(lambda op: _intakes(op).review(intake_id, by=CLI)))


@intakes_app.command("flow")
def intakes_flow() -> None:
    """Print the shipped case-intake Flow JSON (upload it at Meta; its id is INTAKE_FLOW_ID)."""
    typer.echo(case_intake_flow_text(), nl=False)
