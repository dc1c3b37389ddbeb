"""A WhatsApp Flow message (FL1): the interactive message whose button opens a Flow (a form
WhatsApp shows inside the chat). Pure values: the provider adapter turns one into its request.

A Flow is designed once (Flow JSON, see `wagate/flows/case_intake.json`) and published at Meta,
which gives it an id; a message then names that id, the first screen to open and a token of
ours that comes back in the completion (`nfm_reply.response_json.flow_token`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FLOW_MESSAGE_VERSION = "3"  # the only version Meta accepts in `flow_message_version`
# Meta's limits on the message around the button (the button's label: 20 in the guides, 30 in
# the OpenAPI description; the stricter one holds for both).
MAX_CTA_CHARS = 20
MAX_BODY_CHARS = 1024
MAX_HEADER_CHARS = 60
MAX_FOOTER_CHARS = 60
MODES = ("published", "draft")  # `draft` lets a firm try a Flow before publishing it
FLOW_TOKEN_PREFIX = "wagate-intake-"  # noqa: S105 - a marker, not a secret


class FlowError(ValueError):
    """A Flow message that Meta would refuse: the message says which part."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowMessage:
    """What one Flow message says: the Flow (by Meta's id), the screen it opens on, our token,
    the button's label and the text above it."""

    flow_id: str
    flow_token: str
    cta: str
    body: str
    screen: str
    header: str | None = None
    footer: str | None = None
    mode: str = "published"

    def __post_init__(self) -> None:
        problems = flow_message_problems(self)
        if problems:
            raise FlowError("; ".join(problems))

    def as_json(self) -> dict[str, Any]:
        """As stored with the outbound message (sealed), and read back by `from_json`."""
        return {
            "flowId": self.flow_id,
            "flowToken": self.flow_token,
            "cta": self.cta,
            "body": self.body,
            "screen": self.screen,
            "header": self.header,
            "footer": self.footer,
            "mode": self.mode,
        }

    @classmethod
    def from_json(cls, value: Any) -> FlowMessage | None:
        """The stored form back; None when it is not one (a row of an older shape)."""
        if not isinstance(value, Mapping):
            return None
        texts = {k: value.get(k) for k in ("flowId", "flowToken", "cta", "body", "screen")}
        if not all(isinstance(v, str) and v for v in texts.values()):
            return None
        try:
            return cls(
                flow_id=str(texts["flowId"]),
                flow_token=str(texts["flowToken"]),
                cta=str(texts["cta"]),
                body=str(texts["body"]),
                screen=str(texts["screen"]),
                header=_optional(value.get("header")),
                footer=_optional(value.get("footer")),
                mode=str(value.get("mode") or "published"),
            )
        except FlowError:
            return None


def flow_message_problems(message: FlowMessage) -> list[str]:
    """What Meta would refuse in this message (empty: nothing)."""
    problems = []
    if not message.flow_id.strip():
        problems.append("the Flow id is empty")
    if not message.screen.strip():
        problems.append("the first screen is empty")
    if not message.flow_token.strip():
        problems.append("the flow token is empty")
    if not 0 < len(message.cta) <= MAX_CTA_CHARS:
        problems.append(f"the button label must be 1 to {MAX_CTA_CHARS} characters")
    elif any(_is_emoji(c) for c in message.cta):
        problems.append("the button label may not contain emoji")
    if not 0 < len(message.body) <= MAX_BODY_CHARS:
        problems.append(f"the message text must be 1 to {MAX_BODY_CHARS} characters")
    if message.header is not None and not 0 < len(message.header) <= MAX_HEADER_CHARS:
        problems.append(f"the header must be 1 to {MAX_HEADER_CHARS} characters")
    if message.footer is not None and not 0 < len(message.footer) <= MAX_FOOTER_CHARS:
        problems.append(f"the footer must be 1 to {MAX_FOOTER_CHARS} characters")
    if message.mode not in MODES:
        problems.append(f"the mode must be one of {', '.join(MODES)}")
    return problems


def flow_token(key: str) -> str:
    """Our token for the Flow message queued under idempotency key `key`: stable (a retried
    run queues the same message), and telling Meta nothing about the conversation."""
    return FLOW_TOKEN_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:24]


def _optional(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _is_emoji(char: str) -> bool:
    # Pictographs, dingbats, flags and the variation selector that turns a sign into emoji.
    code = ord(char)
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2600 <= code <= 0x27BF
        or code == 0xFE0F
        or 0x1F1E6 <= code <= 0x1F1FF
    )
