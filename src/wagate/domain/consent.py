"""Consent (CP4): SETUJU opts in, BERHENTI opts out; nothing reaches the AI before consent, and
after an opt-out nothing is sent but one confirmation. Pure; time is passed in."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

PROMPT_INTERVAL = timedelta(days=1)
# The kind of the one message an opted-out contact still receives: the confirmation.
OPTOUT_CONFIRMATION_KIND = "optout_confirmed"
# Why a message to a number is refused (the recipient check's answer, the dead letter's code).
OPTED_OUT = "opted_out"
_EDGES = re.compile(r"^[\s\W_]+|[\s\W_]+$")


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

    def classify(self, text: str | None) -> ConsentState | None:
        if not text:
            return None
        word = normalise_keyword(text)
        if word == normalise_keyword(self.optout):
            return ConsentState.WITHDRAWN
        if word == normalise_keyword(self.consent):
            return ConsentState.GRANTED
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentOutcome:
    changes: tuple[tuple[ConsentState, int], ...]  # new state and the burst index that said so
    notices: tuple[Notice, ...]
    answerable: tuple[int, ...]  # burst indices that may go on to the AI, in order


def evaluate(
    texts: Sequence[str | None],
    *,
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
    for consent, and the consent keyword matters only as the way back after an opt-out."""
    state = current
    changes: list[tuple[ConsentState, int]] = []
    notices: list[Notice] = []
    answerable: list[int] = []
    for index, text in enumerate(texts):
        said = keywords.classify(text)
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
