"""The per-conversation mapping between personal data and its placeholders (CP1, CP2).

The same value always gets the same placeholder in a conversation, so the AI can tell that
two messages mention the same person or number, and numbering is per type (`[NIK_1]`,
`[NAMA_1]`, `[NAMA_2]`). "Same value" means the same digits for numbers (0812-3456-7890 and
+62 812 3456 7890 are one phone number), and case- and spacing-insensitive text for names
and e-mail addresses; the placeholder is restored to the form first seen.

This is the one mutable object of the package: a ledger that grows with the conversation.
The caller loads it with `from_dict`, masks and unmasks a turn with it, and stores
`to_dict()` encrypted; it holds the very data masking hides, so it must never be logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from wagate.domain.privacy.digits import digits_of
from wagate.domain.privacy.spans import EntityType

FORMAT_VERSION = 1
_PLACEHOLDER = re.compile(r"\[(?P<kind>[A-Z_]+?)_(?P<number>[1-9]\d*)\]")


@dataclass(frozen=True, slots=True, kw_only=True)
class VaultEntry:
    """`placeholder` stands for `value` (as first written) of kind `kind`."""

    kind: EntityType
    number: int
    value: str

    @property
    def placeholder(self) -> str:
        return placeholder(self.kind, self.number)


def placeholder(kind: EntityType, number: int) -> str:
    """`[NIK_1]`: the type's name and its 1-based number within the conversation."""
    return f"[{kind.value}_{number}]"


def canonical(kind: EntityType, value: str) -> str:
    """The identity of `value` for reuse of placeholders (see module doc)."""
    if kind is EntityType.TELEPON:
        digits = digits_of(value)
        if digits.startswith("00"):
            return digits[2:]
        if digits.startswith("620"):  # "+62 (0)812…": the trunk 0 kept by mistake
            return "62" + digits[3:]
        return "62" + digits[1:] if digits.startswith("0") else digits
    if kind in _DIGIT_KINDS:
        return digits_of(value)
    if kind in (EntityType.PLAT, EntityType.PASPOR):  # "B 1234 XYZ" is "b1234xyz"
        return "".join(value.casefold().split())
    return " ".join(value.casefold().split())


_DIGIT_KINDS = frozenset(
    {
        EntityType.NIK,
        EntityType.NPWP,
        EntityType.REKENING,
        EntityType.KK,
        EntityType.BPJS,
        EntityType.SIM,
        EntityType.KARTU,
    }
)


# Every kind at 0, copied by each new vault: iterating the enum itself costs more than the
# copy, and a run makes several vaults (the AI call's, its answer's, the classifier's).
_NO_COUNTS: dict[EntityType, int] = dict.fromkeys(EntityType, 0)


class PlaceholderVault:
    """value ↔ placeholder for one conversation, stable across calls; see module doc."""

    __slots__ = ("_by_key", "_by_slot", "_counts")

    def __init__(self) -> None:
        self._by_key: dict[tuple[EntityType, str], VaultEntry] = {}
        self._by_slot: dict[tuple[EntityType, int], VaultEntry] = {}
        self._counts: dict[EntityType, int] = _NO_COUNTS.copy()

    def placeholder_for(self, kind: EntityType, value: str) -> str:
        """The placeholder for `value`, allocating the next number of `kind` if it is new."""
        key = (kind, canonical(kind, value))
        entry = self._by_key.get(key)
        if entry is None:
            entry = VaultEntry(kind=kind, number=self._counts[kind] + 1, value=value)
            self._add(entry)
        return entry.placeholder

    def value_of(self, kind: EntityType, number: int) -> str | None:
        """The value behind `[KIND_number]`, or None if this conversation has no such one."""
        entry = self._by_slot.get((kind, number))
        return None if entry is None else entry.value

    def entries(self) -> Iterator[VaultEntry]:
        """All entries, in the order they were allocated."""
        return iter(self._by_slot.values())

    def names(self) -> tuple[str, ...]:
        """Every name this conversation has masked so far, as first written: the masker looks
        for them (and their words) in every later text, in any case (issue 11)."""
        return tuple(e.value for e in self._by_slot.values() if e.kind is EntityType.NAMA)

    def __len__(self) -> int:
        return len(self._by_slot)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready snapshot; `from_dict(to_dict())` is an equal vault."""
        entries = [{"placeholder": e.placeholder, "value": e.value} for e in self.entries()]
        return {"version": FORMAT_VERSION, "entries": entries}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> PlaceholderVault:
        """The vault `to_dict` described. Raises ValueError on any other shape; messages never
        contain a stored value, so they are safe to log."""
        entries = data.get("entries")
        if data.get("version") != FORMAT_VERSION or not isinstance(entries, list):
            raise ValueError("not a placeholder vault snapshot")
        vault = cls()
        for item in entries:
            vault._add(_entry_from(item))
        return vault

    def _add(self, entry: VaultEntry) -> None:
        slot = (entry.kind, entry.number)
        if slot in self._by_slot:
            raise ValueError(f"placeholder {entry.placeholder} given twice")
        self._by_slot[slot] = entry
        self._by_key.setdefault((entry.kind, canonical(entry.kind, entry.value)), entry)
        self._counts[entry.kind] = max(self._counts[entry.kind], entry.number)


def _entry_from(item: object) -> VaultEntry:
    if not isinstance(item, Mapping):
        raise ValueError("vault entry is not a mapping")
    text, value = item.get("placeholder"), item.get("value")
    match = _PLACEHOLDER.fullmatch(text) if isinstance(text, str) else None
    if match is None or match["kind"] not in EntityType.__members__ or not isinstance(value, str):
        raise ValueError("malformed vault entry")
    return VaultEntry(kind=EntityType(match["kind"]), number=int(match["number"]), value=value)
