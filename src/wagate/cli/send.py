"""`wagate send` and `wagate send-template`: queue a message to a number (OU8, TP1)."""

from __future__ import annotations

from typing import Annotated

import typer

from wagate.cli.common import operate, show
from wagate.domain.messages import Provider
from wagate.pipeline.operator import CLI


def send(
    target: str,
    message: str,
    provider: Annotated[Provider | None, typer.Option(help="meta or fonnte")] = None,
    key: Annotated[str | None, typer.Option(help="idempotency key")] = None,
) -> None:
    """Queue a WhatsApp message to TARGET (a worker delivers it)."""
    receipt = operate(
        lambda op: op.sending.send(target, message, by=CLI, provider=provider, key=key)
    )
    show(
        {
            "queued": receipt.queued,
            "target": receipt.target,
            "provider": receipt.provider.value,
            "keys": list(receipt.idempotency_keys),
        }
    )


def send_template(
    target: str,
    template: str,
    parameters: Annotated[list[str] | None, typer.Argument(help="the template's values")] = None,
    language: Annotated[str | None, typer.Option(help="e.g. id, en_US")] = None,
    key: Annotated[str | None, typer.Option(help="idempotency key")] = None,
) -> None:
    """Queue a configured WhatsApp template to TARGET (allowed outside the 24-hour window)."""
    receipt = operate(
        lambda op: op.sending.send_template(
            target, template, parameters or [], by=CLI, language=language, key=key
        )
    )
    show(receipt.as_json() | {"template": template})
