"""Masking before text leaves for the AI, and restoring the AI's answer after (CP1).

`mask` replaces each piece of personal data with its conversation-stable placeholder;
`unmask` puts the values back into the answer the user will see. Models copy placeholders
imperfectly, so `unmask` also accepts `[nik_1]`, `[ NIK_1 ]`, `[NIK 1]`, `[NIK-1]`, the
Markdown-escaped `NIK\\_1` and the bare `NIK_1`. A placeholder the vault does not know (the
model made it up) is left as written rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from wagate.domain.privacy.recognizers import Recognizer, find_pii, find_structured_pii
from wagate.domain.privacy.spans import EntityType, Span
from wagate.domain.privacy.vault import PlaceholderVault

# "TGL_LAHIR" may come back as "TGL LAHIR" or "TGL-LAHIR"; longest first so "KK" never cuts
# a longer kind short.
_KINDS = "|".join(
    kind.value.replace("_", r"[_\s-]?")
    for kind in sorted(EntityType, key=lambda k: len(k.value), reverse=True)
)
_BY_LETTERS = {re.sub(r"[^A-Z]", "", kind.value): kind for kind in EntityType}
_WRITTEN_PLACEHOLDER = re.compile(
    rf"\[\s*(?P<kind>(?i:{_KINDS}))\s*(?:\\?_|-|\s)?\s*(?P<number>\d{{1,6}})\s*\]"
    rf"|(?<![\w\[])(?P<bare_kind>{_KINDS})\\?_(?P<bare_number>\d{{1,6}})(?!\w)"
)


def mask(
    text: str,
    *,
    vault: PlaceholderVault,
    known_names: Sequence[str] = (),
    stages: Sequence[Recognizer] = (),
) -> str:
    """`text` with every span `find_pii` reports replaced by its placeholder from `vault`.

    Every name `vault` already holds counts as known (issue 11): a name found once in a
    conversation, and each of its words, is masked at every later mention, in any case.
    `stages` are optional extra recognisers (a named-entity model, see `model_stage`).
    New values are added to `vault` (the only side effect); `unmask(mask(t, vault=v), v)`
    gives back `t` whenever no value occurs in two spellings (see `vault.canonical`).
    """
    known = (*known_names, *vault.names())
    return _replaced(text, find_pii(text, known_names=known, stages=stages), vault)


def _replaced(text: str, spans: Sequence[Span], vault: PlaceholderVault) -> str:
    """`text` with each of `spans` (in text order, not overlapping) replaced by its
    placeholder from `vault`."""
    if not spans:
        return text
    pieces: list[str] = []
    position = 0
    for span in spans:
        pieces.append(text[position : span.start])
        pieces.append(vault.placeholder_for(span.kind, span.value))
        position = span.end
    pieces.append(text[position:])
    return "".join(pieces)


def mask_turns(
    texts: Sequence[str],
    *,
    vault: PlaceholderVault,
    known_names: Sequence[str] = (),
    stages: Sequence[Recognizer] = (),
) -> list[str]:
    """`mask` for the turns one AI call sends (history and question), taken together: a name
    first recognised in a later turn ("… namanya Pak Budiman") is also hidden where an
    earlier turn mentioned it without a cue ("tadi budiman datang"), already in this call
    rather than from the next one on. Same vault side effect as masking each turn."""
    scanned: list[tuple[tuple[str, ...], list[Span]]] = []
    for text in texts:
        known = (*known_names, *vault.names())
        spans = find_pii(text, known_names=known, stages=stages)
        for span in spans:
            vault.placeholder_for(span.kind, span.value)
        scanned.append((known, spans))
    masked: list[str] = []
    for text, (known_then, spans) in zip(texts, scanned, strict=True):
        known = (*known_names, *vault.names())
        # `find_pii` is pure: with the same names known as at the first scan (the usual case:
        # no new name turned up in a later turn), the first scan's spans are the answer, and
        # the recognisers, the costliest part of an AI call's own work, run once per turn.
        if known != known_then:
            spans = find_pii(text, known_names=known, stages=stages)
        masked.append(_replaced(text, spans, vault))
    return masked


def mask_reference(text: str, *, vault: PlaceholderVault) -> str:
    """A knowledge-base passage block, masked for the model: structured personal data only
    (see `find_structured_pii`). Pass a copy of the conversation's vault: placeholders keep
    counting from the conversation's, and nothing found in the firm's documents becomes a
    "known name" of the conversation (which would hide that word in every later turn)."""
    pieces: list[str] = []
    position = 0
    for span in find_structured_pii(text):
        pieces.append(text[position : span.start])
        pieces.append(vault.placeholder_for(span.kind, span.value))
        position = span.end
    pieces.append(text[position:])
    return "".join(pieces)


def unmask(text: str, vault: PlaceholderVault) -> str:
    """`text` with the placeholders `vault` knows replaced by their values (see module doc)."""
    return _WRITTEN_PLACEHOLDER.sub(lambda match: _restore(match, vault), text)


def _restore(match: re.Match[str], vault: PlaceholderVault) -> str:
    kind = match["kind"] or match["bare_kind"]
    number = match["number"] or match["bare_number"]
    value = vault.value_of(_BY_LETTERS[re.sub(r"[^A-Z]", "", kind.upper())], int(number))
    return match[0] if value is None else value
