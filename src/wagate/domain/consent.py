"""Consent (CP4): SETUJU opts in, BERHENTI opts out; nothing reaches the AI before consent, and
after an opt-out nothing is sent but one confirmation. Pure; time is passed in.

Where the channel sends reply buttons (Meta), the consent request carries two, whose ids stand
for the two keywords (`CONSENT_BUTTON_ID`, `OPTOUT_BUTTON_ID`): a tap is understood by its id,
so a button sent before the keywords were renamed still counts. A template's quick-reply
button counts by its payload (our id, or the keyword itself) or its label."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from wagate.domain.rich_messages import InteractiveMessage, InvalidRichMessage

PROMPT_INTERVAL = timedelta(days=1)
# The kind of the one message an opted-out contact still receives: the confirmation.
OPTOUT_CONFIRMATION_KIND = "optout_confirmed"
# Why a message to a number is refused (the recipient check's answer, the dead letter's code).
OPTED_OUT = "opted_out"
_EDGES = re.compile(r"^[\s\W_]+|[\s\W_]+$")
# The ids of the consent request's reply buttons; a tap comes back with one of them.
CONSENT_BUTTON_ID = "wagate:consent"
OPTOUT_BUTTON_ID = "wagate:optout"


class ConsentState(StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class Notice(StrEnum):
    REQUEST = "consent_request"  # disclosure + "reply SETUJU"
    RECORDED = "consent_recorded"
    OPTED_OUT = "optout_confirmed"


def normalise_keyword(text: str) -> str:
    """Case-, whitespace- and edge-punctuation-insensitive: ` setuju! ` is `SETUJU`."""
    return _EDGES.sub("", " ".join(text.split())).casefold()


@dataclass(frozen=True, slots=True, kw_only=True)
class Keywords:
    consent: str = "SETUJU"
    optout: str = "BERHENTI"

    def classify(self, text: str | None, reply_id: str | None = None) -> ConsentState | None:
        """What a message says about consent: a tapped button by its id (ours, or a quick
        reply whose payload is a keyword), else the words written or the button's label."""
        if reply_id == OPTOUT_BUTTON_ID:
            return ConsentState.WITHDRAWN
        if reply_id == CONSENT_BUTTON_ID:
            return ConsentState.GRANTED
        return self._word(reply_id) or self._word(text)

    def _word(self, text: str | None) -> ConsentState | None:
        if not text:
            return None
        word = normalise_keyword(text)
        if word == normalise_keyword(self.optout):
            return ConsentState.WITHDRAWN
        if word == normalise_keyword(self.consent):
            return ConsentState.GRANTED
        return None

    def buttons(self, body: str) -> dict[str, Any] | None:
        """The consent request as reply buttons (what `InteractiveMessage.parse` reads): `body` with
        one button per keyword. None when it cannot be one (a body over the 1,024 characters
        a button message allows, a keyword too long for a button's title): the text goes."""
        try:
            message = InteractiveMessage.parse(
                {
                    "type": "button",
                    "body": body,
                    "buttons": [
                        {"id": CONSENT_BUTTON_ID, "title": self.consent},
                        {"id": OPTOUT_BUTTON_ID, "title": self.optout},
                    ],
                }
            )
        except InvalidRichMessage:
            return None
        shown: dict[str, Any] = message.as_json()["interactive"]
        return shown


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentOutcome:
    changes: tuple[tuple[ConsentState, int], ...]  # new state and the burst index that said so
    notices: tuple[Notice, ...]
    answerable: tuple[int, ...]  # burst indices that may go on to the AI, in order


def evaluate(
    texts: Sequence[str | None],
    *,
    replies: Sequence[str | None] = (),
    current: ConsentState | None,
    prompted_at: datetime | None,
    now: datetime,
    keywords: Keywords,
    required: bool = True,
) -> ConsentOutcome:
    """Walk a burst in order. Keyword messages change the state and never reach the AI; other
    messages may, only while consent is granted.

    With `required` False (CONSENT_REQUIRED off) only opting out is enforced, because it is a
    right, not a setting: messages reach the AI unless the contact opted out, nobody is asked
    for consent, and the consent keyword matters only as the way back after an opt-out.

    `replies` holds, beside each text, the id of the button the message tapped (if any)."""
    state = current
    changes: list[tuple[ConsentState, int]] = []
    notices: list[Notice] = []
    answerable: list[int] = []
    for index, text in enumerate(texts):
        said = keywords.classify(text, replies[index] if index < len(replies) else None)
        if not required and said is ConsentState.GRANTED and state is not ConsentState.WITHDRAWN:
            said = None  # nothing to come back from: an ordinary message
        if said is not None:
            if said is not state:
                state = said
                changes.append((said, index))
                notices.append(
                    Notice.RECORDED if said is ConsentState.GRANTED else Notice.OPTED_OUT
                )
            continue
        if state is ConsentState.GRANTED or (not required and state is None):
            answerable.append(index)
    never_asked = required and state is None and not changes
    if never_asked and (prompted_at is None or now - prompted_at >= PROMPT_INTERVAL):
        notices.append(Notice.REQUEST)
    return ConsentOutcome(
        changes=tuple(changes), notices=tuple(notices), answerable=tuple(answerable)
    )
