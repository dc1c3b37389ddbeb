"""`find_pii`: every recogniser over one text, overlaps settled (CP1).

Recognisers only propose spans; `spans.resolve` decides. So a recogniser can stay simple and
eager (the account recogniser proposes every long number near "BCA") and precision comes
from the ranking: a valid NIK or phone number at the same place wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import chain

from wagate.domain.privacy.accounts import find_accounts
from wagate.domain.privacy.addresses import find_addresses
from wagate.domain.privacy.birthdates import find_birth_dates
from wagate.domain.privacy.identifiers import find_identifiers
from wagate.domain.privacy.known_names import find_known
from wagate.domain.privacy.names import cued_names
from wagate.domain.privacy.nik import find_niks
from wagate.domain.privacy.npwp import find_npwps
from wagate.domain.privacy.phones import find_phones
from wagate.domain.privacy.spans import EntityType, Span, resolve

# Practical, not RFC 5322: dots, plus and dashes in the local part, any number of labels in
# the domain (kemenkumham.go.id, ui.ac.id) and a letters-only TLD, so "a@b.c." keeps its
# sentence-final dot out of the address.
_EMAIL = re.compile(
    r"(?<![\w.+%-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63}[A-Za-z0-9_-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)


def find_emails(text: str) -> Iterator[Span]:
    """E-mail addresses in `text`."""
    if "@" not in text:
        return
    for match in _EMAIL.finditer(text):
        yield Span(start=match.start(), end=match.end(), kind=EntityType.EMAIL, value=match[0])


# The recogniser port: any function from a text to the spans it proposes. The built-in
# recognisers are such functions; an optional model stage (see `model_stage`) is another.
Recognizer = Callable[[str], Iterable[Span]]


def find_pii(
    text: str, *, known_names: Sequence[str] = (), stages: Sequence[Recognizer] = ()
) -> list[Span]:
    """Personal data in `text`, as non-overlapping spans in text order.

    `known_names` are names we know belong to people in this conversation: the contact's
    WhatsApp profile name, the account's name and the names masked in earlier turns.
    `stages` are extra recognisers run after the built-in ones; the names they find are
    looked for at their other mentions too. Pure and deterministic whenever the stages are:
    the same text and names always give the same spans.
    """
    extra = [span for stage in stages for span in stage(text)]
    extra_names = tuple(s.value for s in extra if s.kind is EntityType.NAMA)
    proposed, cued = _text_proposals(text)
    return resolve(
        chain(
            proposed,
            cued,  # with the known names' mentions below: `find_names`
            find_known(text, (*known_names, *(s.value for s in cued))),
            extra,
            find_known(text, extra_names) if extra_names else (),
        )
    )


# The proposals that depend on the text alone, kept for the last few texts: every AI call
# masks the same system prompt (the firm's instructions: ~0.2 ms of recognisers for the
# default one) and again the history turns it masked before. Only in this process's memory,
# and only as long as a few newer texts have not pushed them out.
@lru_cache(maxsize=16)
def _text_proposals(text: str) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
    return (*_structured(text), *find_addresses(text)), tuple(cued_names(text))


def find_structured_pii(text: str) -> list[Span]:
    """The recognisers that need no conversational cue: e-mails, tax and ID numbers, phone
    numbers, bank accounts, other identifiers, birth dates. For the firm's own documents
    (knowledge-base passages): the name and address heuristics read chat, and in a legal guide
    they take headings ("Cerai Gugat dan Cerai Talak") for people."""
    return resolve(_structured(text))


def _structured(text: str) -> Iterator[Span]:
    """The proposals of every recogniser that needs no cue from the conversation."""
    return chain(
        find_emails(text),
        find_npwps(text),
        find_niks(text),
        find_phones(text),
        find_accounts(text),
        find_identifiers(text),
        find_birth_dates(text),
    )
