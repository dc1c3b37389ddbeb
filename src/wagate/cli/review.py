"""`wagate review …`: drafts waiting for a lawyer (AI7) — list, show, approve (as is or
edited), reject with a reason, take over. A shell on the host acts as an administrator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wagate.cli.common import fail, operate, show
from wagate.domain.review import DraftStatus
from wagate.pipeline.operator import CLI

if TYPE_CHECKING:
    from wagate.pipeline.operator import OperatorService
    from wagate.pipeline.operator.reviews import Reviews

STATUSES = tuple(status.value for status in DraftStatus)

review_app = typer.Typer(
    no_args_is_help=True,
    help="Drafts waiting for a lawyer: list, show, approve, reject, take over.",
)


def _reviews(op: OperatorService) -> Reviews:
    if op.reviews is None:
        fail("reviews are not configured for this tenant")
    return op.reviews


def _table(items: list[dict[str, Any]]) -> None:
    if not items:
        typer.echo("no drafts")
        return
    typer.echo(f"{'ID':>6}  {'STATUS':<10}  {'ZONE':<6}  {'CONV':>6}  {'DEADLINE':<20}  RULES")
    for d in items:
        typer.echo(
            f"{d['id']:>6}  {d['status']:<10}  {d['zone']:<6}  {d['conversation']:>6}  "
            f"{_minute(d['deadline']):<20}  {','.join(d['rules'])}"
        )


def _minute(when: Any) -> str:
    """A deadline to the minute in UTC (`2026-12-06 05:58 UTC`): the column's width; the
    full instant is in `--json`."""
    if isinstance(when, datetime):
        return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(when)


@review_app.command("list")
def review_list(
    status: Annotated[
        str | None, typer.Option(help=f"Only drafts in this status ({', '.join(STATUSES)}).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
) -> None:
    """Drafts, newest first."""
    items = operate(lambda op: _reviews(op).listing(by=CLI, status=status, limit=limit, offset=0))
    if as_json:
        show(items)
    else:
        _table(items)


@review_app.command("show")
def review_show(draft_id: int) -> None:
    """One draft: the masked question and draft, its sources, deadline and window."""
    show(operate(lambda op: _reviews(op).show(draft_id, by=CLI)))


@review_app.command("approve")
def review_approve(
    draft_id: int,
    text: Annotated[
        str | None, typer.Option(help="The edited answer to send instead of the draft.")
    ] = None,
) -> None:
    """Approve the draft (or your edit of it): it is queued for delivery at once."""
    show(operate(lambda op: _reviews(op).approve(draft_id, by=CLI, text=text)))


@review_app.command("reject")
def review_reject(
    draft_id: int,
    reason: Annotated[
        str, typer.Option(help="Why (kept sealed; the person gets the rejection text).")
    ],
) -> None:
    """Reject the draft; the person gets REVIEW_REJECT_TEXT."""
    show(operate(lambda op: _reviews(op).reject(draft_id, by=CLI, reason=reason)))


@review_app.command("take")
def review_take(draft_id: int) -> None:
    """Take the conversation over: the draft closes, a human answers instead."""
    show(operate(lambda op: _reviews(op).take(draft_id, by=CLI)))
