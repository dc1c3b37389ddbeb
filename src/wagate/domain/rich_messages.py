"""Documents, images, interactive messages and reactions an operator sends (issue 16, OU1):
checked here against the limits of Meta's Cloud API description (v23.0), so a message that
would be refused is refused before it is queued. Pure: no I/O.

A rich message travels as a JSON document stored with its outbound row (`as_json`), like a
Flow message; `from_json` reads it back for delivery. A file the operator uploaded
(`FileMessage`) travels the same way, described only: its bytes are sealed in the object store
beside the row (`storage/outbound_files.py`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Limits from Meta's OpenAPI description (MediaObject, BodyObject, ActionObject, SectionObject).
CAPTION_LIMIT = 1024
BODY_LIMIT = 1024
FOOTER_LIMIT = 60
BUTTONS_MAX = 3
BUTTON_TITLE_LIMIT = 20
BUTTON_ID_LIMIT = 256
LIST_LABEL_LIMIT = 20
ROWS_MAX = 10
ROW_TITLE_LIMIT = 24
ROW_ID_LIMIT = 200
ROW_DESCRIPTION_LIMIT = 72
SECTION_TITLE_LIMIT = 24
LINK_LIMIT = 2048
FILENAME_LIMIT = 240
MEDIA_TYPES = ("document", "image")
SHA256_HEX = 64
MESSAGE_ID_LIMIT = 256  # a WhatsApp message id (wamid.…) is about 60 characters
EMOJI_LIMIT = 16  # one emoji, with its skin tone and joiners (👨‍👩‍👧‍👦 is 11 code points)


class InvalidRichMessage(ValueError):
    """The message breaks a rule; the text says which, for the operator."""


def _text(value: Any, what: str, limit: int, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            raise InvalidRichMessage(f"{what} is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidRichMessage(f"{what} must be non-empty text")
    if len(value) > limit:
        raise InvalidRichMessage(f"{what} is longer than {limit} characters")
    return value


def _https_link(value: Any) -> str:
    link = _text(value, "media link", LINK_LIMIT)
    assert link is not None
    parts = urlsplit(link)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in link):
        raise InvalidRichMessage("media link must be an https:// URL")
    return link


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaMessage:
    """A document or image fetched by the provider from an https link."""

    type: str  # document | image
    link: str
    caption: str | None = None
    filename: str | None = None  # documents only: the name the person sees

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> MediaMessage:
        kind = data.get("type")
        if kind not in MEDIA_TYPES:
            raise InvalidRichMessage("media type must be document or image")
        filename = _text(data.get("filename"), "filename", FILENAME_LIMIT, required=False)
        if filename is not None and kind != "document":
            raise InvalidRichMessage("only a document has a filename")
        if filename is not None and ("/" in filename or "\\" in filename):
            raise InvalidRichMessage("filename must not contain a path")
        return cls(
            type=str(kind),
            link=_https_link(data.get("link")),
            caption=_text(data.get("caption"), "caption", CAPTION_LIMIT, required=False),
            filename=filename,
        )

    def summary(self) -> str:
        """What the conversation shows, and what stands for it where nothing richer goes."""
        name = self.filename or self.link
        return f"[{self.type} {name}]" + (f" {self.caption}" if self.caption else "")

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"media": {"type": self.type, "link": self.link}}
        if self.caption is not None:
            shown["media"]["caption"] = self.caption
        if self.filename is not None:
            shown["media"]["filename"] = self.filename
        return shown


@dataclass(frozen=True, slots=True, kw_only=True)
class FileMessage:
    """A document or image the operator uploaded, as its outbound row describes it: what the
    person sees (type, file name, caption) and what identifies the stored bytes (their sniffed
    MIME type, size and SHA-256: a replay of the same request names the same file)."""

    type: str  # document | image
    filename: str  # the name the person sees (documents); the upload's name (images)
    mime_type: str
    size: int
    sha256: str
    caption: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> FileMessage:
        kind = data.get("type")
        if kind not in MEDIA_TYPES:
            raise InvalidRichMessage("media type must be document or image")
        filename = _text(data.get("filename"), "filename", FILENAME_LIMIT)
        assert filename is not None
        if "/" in filename or "\\" in filename:
            raise InvalidRichMessage("filename must not contain a path")
        mime = _text(data.get("mimeType"), "mimeType", 255)
        size = data.get("size")
        digest = data.get("sha256")
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise InvalidRichMessage("size must be a positive number of bytes")
        if not isinstance(digest, str) or len(digest) != SHA256_HEX or not _hex(digest):
            raise InvalidRichMessage("sha256 must be 64 hexadecimal digits")
        assert mime is not None
        return cls(
            type=str(kind),
            filename=filename,
            mime_type=mime,
            size=size,
            sha256=digest,
            caption=_text(data.get("caption"), "caption", CAPTION_LIMIT, required=False),
        )

    def summary(self) -> str:
        return f"[{self.type} {self.filename}]" + (f" {self.caption}" if self.caption else "")

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "type": self.type,
            "filename": self.filename,
            "mimeType": self.mime_type,
            "size": self.size,
            "sha256": self.sha256,
        }
        if self.caption is not None:
            shown["caption"] = self.caption
        return {"upload": shown}


def _hex(value: str) -> bool:
    return all(c in "0123456789abcdef" for c in value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """A reply button or a list row: the id comes back in the person's reply."""

    id: str
    title: str
    description: str | None = None  # list rows only


def _choices(
    items: Any, what: str, *, most: int, title_limit: int, id_limit: int, described: bool
) -> tuple[Choice, ...]:
    if not isinstance(items, Sequence) or isinstance(items, str) or not items:
        raise InvalidRichMessage(f"at least one {what} is required")
    if len(items) > most:
        raise InvalidRichMessage(f"at most {most} {what}s")
    choices = []
    for index, item in enumerate(items, start=1):
        entry = {"title": item} if isinstance(item, str) else item
        if not isinstance(entry, Mapping):
            raise InvalidRichMessage(f"{what} {index} must be a title or an object")
        title = _text(entry.get("title"), f"{what} {index} title", title_limit)
        assert title is not None
        ident = _text(entry.get("id") or f"{what}-{index}", f"{what} {index} id", id_limit)
        assert ident is not None
        if ident != ident.strip():
            raise InvalidRichMessage(f"{what} {index} id must not start or end with spaces")
        description = None
        if described:
            description = _text(
                entry.get("description"),
                f"{what} {index} description",
                ROW_DESCRIPTION_LIMIT,
                required=False,
            )
        choices.append(Choice(id=ident, title=title, description=description))
    if len({c.title for c in choices}) != len(choices) or len({c.id for c in choices}) != len(
        choices
    ):
        raise InvalidRichMessage(f"{what} titles and ids must be unique")
    return tuple(choices)


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractiveMessage:
    """Reply buttons (1–3) or a list (one section, up to 10 rows)."""

    type: str  # button | list
    body: str
    choices: tuple[Choice, ...]
    footer: str | None = None
    label: str | None = None  # a list's button, which opens it
    section: str | None = None  # a list's section title

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> InteractiveMessage:
        kind = data.get("type")
        body = _text(data.get("body"), "interactive body", BODY_LIMIT)
        assert body is not None
        footer = _text(data.get("footer"), "footer", FOOTER_LIMIT, required=False)
        if kind == "button":
            return cls(
                type="button",
                body=body,
                footer=footer,
                choices=_choices(
                    data.get("buttons"),
                    "button",
                    most=BUTTONS_MAX,
                    title_limit=BUTTON_TITLE_LIMIT,
                    id_limit=BUTTON_ID_LIMIT,
                    described=False,
                ),
            )
        if kind == "list":
            label = _text(data.get("button"), "list button", LIST_LABEL_LIMIT)
            return cls(
                type="list",
                body=body,
                footer=footer,
                label=label,
                section=_text(
                    data.get("section"), "section title", SECTION_TITLE_LIMIT, required=False
                ),
                choices=_choices(
                    data.get("rows"),
                    "row",
                    most=ROWS_MAX,
                    title_limit=ROW_TITLE_LIMIT,
                    id_limit=ROW_ID_LIMIT,
                    described=True,
                ),
            )
        raise InvalidRichMessage("interactive type must be button or list")

    def summary(self) -> str:
        return f"{self.body} [{' | '.join(c.title for c in self.choices)}]"

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"type": self.type, "body": self.body}
        if self.footer is not None:
            shown["footer"] = self.footer
        key = "buttons" if self.type == "button" else "rows"
        shown[key] = [
            {"id": c.id, "title": c.title}
            | ({"description": c.description} if c.description is not None else {})
            for c in self.choices
        ]
        if self.type == "list":
            shown["button"] = self.label
            if self.section is not None:
                shown["section"] = self.section
        return {"interactive": shown}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionMessage:
    """An emoji on a message the person sent (`message_id`: its WhatsApp id, as the
    conversation's messages show it): a light "seen, on it" without a message of its own."""

    message_id: str
    emoji: str

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> ReactionMessage:
        message_id = _text(data.get("messageId"), "reaction messageId", MESSAGE_ID_LIMIT)
        emoji = _text(data.get("emoji"), "reaction emoji", EMOJI_LIMIT)
        assert message_id is not None and emoji is not None
        if any(c.isspace() for c in message_id):
            raise InvalidRichMessage("reaction messageId must not contain spaces")
        # An emoji, not a word: WhatsApp shows a reaction as one symbol.
        if any(c.isspace() or (c.isascii() and c.isalnum()) for c in emoji):
            raise InvalidRichMessage("reaction emoji must be an emoji, not text")
        return cls(message_id=message_id, emoji=emoji)

    def summary(self) -> str:
        return f"[reaction {self.emoji}]"

    def as_json(self) -> dict[str, Any]:
        return {"reaction": {"messageId": self.message_id, "emoji": self.emoji}}


RichMessage = MediaMessage | InteractiveMessage | ReactionMessage | FileMessage


def rich_message(
    *,
    media: Mapping[str, Any] | None = None,
    interactive: Mapping[str, Any] | None = None,
    reaction: Mapping[str, Any] | None = None,
    upload: Mapping[str, Any] | None = None,
) -> RichMessage:
    """The one rich part of a request, checked; InvalidRichMessage says what is wrong.
    (`upload` is never taken from a caller: the operator service writes it for a file it
    stored; it is read back here for delivery.)"""
    given = [part for part in (media, interactive, reaction, upload) if part is not None]
    if len(given) != 1:
        raise InvalidRichMessage("give one of media, interactive or reaction")
    if upload is not None:
        return FileMessage.parse(upload)
    if media is not None:
        return MediaMessage.parse(media)
    if reaction is not None:
        return ReactionMessage.parse(reaction)
    assert interactive is not None
    return InteractiveMessage.parse(interactive)


def from_json(document: Mapping[str, Any]) -> RichMessage:
    """Read back what `as_json` stored (checked again: a row is never trusted blindly)."""
    return rich_message(
        media=document.get("media"),
        interactive=document.get("interactive"),
        reaction=document.get("reaction"),
        upload=document.get("upload"),
    )
