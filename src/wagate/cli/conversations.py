"""`wagate conversations …`: take a conversation from the AI, reply as a human, release it
(AI7), and list the held ones."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from wagate.cli.common import fail, operate, show
from wagate.pipeline.operator import CLI

conversations_app = typer.Typer(
    no_args_is_help=True,
    help="Take-over: a human takes a conversation from the AI, replies, and releases it.",
)


@conversations_app.command("take")
def conversations_take(conversation_id: int) -> None:
    """Pause the AI for CONVERSATION_ID: you hold it until you release it (or are idle for
    TAKEOVER_IDLE_MINUTES)."""
    show(operate(lambda op: op.conversations.take(conversation_id, by=CLI)))


@conversations_app.command("release")
def conversations_release(conversation_id: int) -> None:
    """Give CONVERSATION_ID back to the AI."""
    show(operate(lambda op: op.conversations.release(conversation_id, by=CLI)))


@conversations_app.command("reply")
def conversations_reply(
    conversation_id: int,
    text: Annotated[
        str | None, typer.Option("--text", help="the reply; without it, read from stdin")
    ] = None,
    key: Annotated[str | None, typer.Option(help="idempotency key")] = None,
) -> None:
    """Send a human reply in CONVERSATION_ID (taking it if nobody holds it): delivered like
    every message, without AI disclosure or disclaimer."""
    body = text if text is not None else sys.stdin.read()
    if not body.strip():
        fail("give the reply with --text or on stdin", code=2)
    receipt = operate(lambda op: op.conversations.reply(conversation_id, body, by=CLI, key=key))
    show(receipt.as_json())


@conversations_app.command("held")
def conversations_held(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The conversations a human (or the gateway, after a red message) holds now."""
    holds = operate(lambda op: op.conversations.list(by=CLI))
    if as_json:
        show(holds)
        return
    if not holds:
        typer.echo("no conversation is held")
        return
    for hold in holds:
        lapses = hold["lapsesAt"] or "when released"
        typer.echo(
            f"{hold['conversationId']}\t{hold['heldBy']}\t{hold['reason']}\t"
            f"since {hold['takenAt']}\tlapses {lapses}"
        )
