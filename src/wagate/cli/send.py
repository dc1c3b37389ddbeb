"""`wagate send` and `wagate send-template`: queue a message to a number (OU8, TP1)."""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import typer

from wagate.cli.common import operate, show
from wagate.domain.messages import Provider
from wagate.domain.rich_messages import InvalidRichMessage, RichMessage, rich_message
from wagate.pipeline.operator import CLI


def send(
    target: str,
    message: Annotated[
        str | None, typer.Argument(help="the text; with a file its caption, with buttons the body")
    ] = None,
    provider: Annotated[Provider | None, typer.Option(help="meta or fonnte")] = None,
    key: Annotated[str | None, typer.Option(help="idempotency key")] = None,
    document: Annotated[str | None, typer.Option(help="https link of a document")] = None,
    image: Annotated[str | None, typer.Option(help="https link of an image")] = None,
    filename: Annotated[str | None, typer.Option(help="the document's name")] = None,
    button: Annotated[
        list[str] | None, typer.Option(help="a reply button's title (1-3, repeat)")
    ] = None,
    row: Annotated[list[str] | None, typer.Option(help="a list row's title (up to 10)")] = None,
    list_button: Annotated[str | None, typer.Option(help="the label that opens the list")] = None,
    react: Annotated[
        str | None, typer.Option(help="react to this message id with the emoji MESSAGE")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            help="a document or image to upload (checked by its bytes)",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    caption: Annotated[str | None, typer.Option(help="the file's caption")] = None,
    send_as: Annotated[
        str | None, typer.Option(help="document or image (default: by the file's bytes)")
    ] = None,
) -> None:
    """Queue a WhatsApp message to TARGET (a worker delivers it): text, a document or image
    by link (--document/--image) or uploaded from this machine (--file PATH, --caption), reply
    buttons (--button), a list (--row, --list-button) or a reaction (--react MESSAGE_ID,
    MESSAGE the emoji)."""
    if file is not None:
        if document or image or button or row or react:
            raise typer.BadParameter("send one thing: --file alone, with its --caption")
        if caption is not None and message is not None:
            raise typer.BadParameter("give the caption once: MESSAGE or --caption")
        local = LocalFile(file)
        said = caption if caption is not None else message
        receipt = operate(
            lambda op: op.sending.send_file(
                target,
                local,
                by=CLI,
                caption=said,
                kind=send_as,
                filename=filename,
                provider=provider,
                key=key,
            )
        )
        show(
            {
                "queued": receipt.queued,
                "target": receipt.target,
                "provider": receipt.provider.value,
                "keys": list(receipt.idempotency_keys),
            }
        )
        return
    rich = _rich(message, document, image, filename, button or [], row or [], list_button, react)
    if rich is None:
        if message is None:
            raise typer.BadParameter("give a MESSAGE, --document, --image, --button or --row")
        text = message
        receipt = operate(
            lambda op: op.sending.send(target, text, by=CLI, provider=provider, key=key)
        )
    else:
        chosen = rich
        receipt = operate(
            lambda op: op.sending.send_rich(target, chosen, by=CLI, provider=provider, key=key)
        )
    show(
        {
            "queued": receipt.queued,
            "target": receipt.target,
            "provider": receipt.provider.value,
            "keys": list(receipt.idempotency_keys),
        }
    )


class LocalFile:
    """A file on this machine as the operator service reads it (`IncomingFile`): its size
    taken once, its bytes read in pieces off the event loop, from the start each time."""

    _PIECE = 64 * 1024

    def __init__(self, path: Path) -> None:
        self._path = path
        self.filename: str | None = path.name
        self.content_type: str | None = mimetypes.guess_type(path.name)[0]
        self.size = path.stat().st_size

    async def chunks(self) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self._path.open, "rb")
        try:
            while piece := await asyncio.to_thread(handle.read, self._PIECE):
                yield piece
        finally:
            handle.close()


def _rich(
    message: str | None,
    document: str | None,
    image: str | None,
    filename: str | None,
    buttons: list[str],
    rows: list[str],
    list_button: str | None,
    react: str | None = None,
) -> RichMessage | None:
    """The options as one rich message (checked as the API checks it), or None for text."""
    media: dict[str, Any] | None = None
    interactive: dict[str, Any] | None = None
    reaction = {"messageId": react, "emoji": message} if react else None
    if document or image:
        media = {"type": "document" if document else "image", "link": document or image}
        media |= {"caption": message} if message else {}
        media |= {"filename": filename} if filename else {}
    if buttons:
        interactive = {"type": "button", "body": message, "buttons": buttons}
    elif rows:
        interactive = {"type": "list", "body": message, "rows": rows, "button": list_button}
    given = [part for part in (media, interactive, reaction) if part]
    if not given:
        return None
    if (document and image) or len(given) > 1:
        raise typer.BadParameter(
            "send one thing: a document, an image, buttons, a list or a reaction"
        )
    try:
        return rich_message(media=media, interactive=interactive, reaction=reaction)
    except InvalidRichMessage as exc:
        raise typer.BadParameter(str(exc)) from exc


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
