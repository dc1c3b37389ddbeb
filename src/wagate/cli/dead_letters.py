"""`wagate dead-letters …`: messages and bursts that failed for good (OU3)."""

from __future__ import annotations

from typing import Annotated

import typer

from wagate.cli.common import fail, operate, show
from wagate.pipeline.operator import CLI

dead_letters_app = typer.Typer(
    no_args_is_help=True, help="Messages that failed for good: list, show, replay."
)


@dead_letters_app.command("list")
def dead_letters_list(limit: Annotated[int, typer.Option()] = 100) -> None:
    """Failed outbound messages and dead-lettered inbound bursts, newest first."""
    show(operate(lambda op: op.dead_letters.listing(by=CLI, limit=limit)))


@dead_letters_app.command("show")
def dead_letters_show(message_id: str) -> None:
    """One dead letter: a failed message (its text included) or an inbound burst (in-N)."""
    show(operate(lambda op: op.dead_letters.show(message_id, by=CLI)))


@dead_letters_app.command("replay")
def dead_letters_replay(
    message_id: Annotated[str | None, typer.Argument(help="123, or in-7 for a burst")] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Replay every dead letter.")] = False,
) -> None:
    """Put a failed message (or --all) back on the queue; it is never a duplicate of
    something delivered, since only failed messages can be replayed."""
    if (message_id is None) == (not replay_all):
        fail("give a message id, or --all", code=2)
    if message_id is None:
        replayed = operate(lambda op: op.dead_letters.replay_all(by=CLI))
    else:
        replayed = operate(lambda op: op.dead_letters.replay(message_id, by=CLI))
    show({"replayed": replayed})
