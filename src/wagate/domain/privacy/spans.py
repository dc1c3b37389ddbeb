"""What a recogniser reports, and how overlapping reports are settled (CP1).

A `Span` is a half-open slice `[start, end)` of the text with the entity it holds. Recognisers
may disagree about the same digits (a NIK is also a long number near "rek."), so `resolve`
keeps one span per stretch of text by a fixed ranking; the result never depends on the order
the recognisers ran in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class EntityType(StrEnum):
    """Kinds of personal data we mask; the value is the placeholder's prefix (`[NIK_1]`)."""

    NIK = "NIK"
    NPWP = "NPWP"
    TELEPON = "TELEPON"
    EMAIL = "EMAIL"
    REKENING = "REKENING"
    NAMA = "NAMA"
    ALAMAT = "ALAMAT"
    TGL_LAHIR = "TGL_LAHIR"
    PLAT = "PLAT"
    PASPOR = "PASPOR"
    KK = "KK"
    BPJS = "BPJS"
    SIM = "SIM"
    KARTU = "KARTU"


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """`text[start:end] == value`, which is personal data of kind `kind`."""

    start: int
    end: int
    kind: EntityType
    value: str

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


# Lower wins. An e-mail address swallows the name and digits inside it; NPWP spans only exist
# when the text says "NPWP" or uses the NPWP layout, so they beat the NIK reading of the same
# 16 digits; so do the card numbers (KK, BPJS, SIM, credit card, passport), which exist only
# after their own word ("No KK 3174…"); a structurally valid NIK beats a phone or account
# reading; phones beat accounts because the account recogniser accepts any long number near
# a bank word. A birth date beats a phone reading of "17-04-1995"; plates and dates beat the
# address around them only where they overlap it, and an address beats the street's name
# ("Jl. Ahmad Yani").
RANK: dict[EntityType, int] = {
    EntityType.EMAIL: 0,
    EntityType.KK: 1,
    EntityType.BPJS: 1,
    EntityType.SIM: 1,
    EntityType.KARTU: 1,
    EntityType.PASPOR: 1,
    EntityType.NPWP: 2,
    EntityType.NIK: 3,
    EntityType.TGL_LAHIR: 4,
    EntityType.TELEPON: 5,
    EntityType.REKENING: 6,
    EntityType.PLAT: 7,
    EntityType.ALAMAT: 8,
    EntityType.NAMA: 9,
}


def resolve(candidates: Iterable[Span]) -> list[Span]:
    """Non-overlapping spans in text order: by rank, then longer first, then leftmost first.

    Deterministic for any input order, since (rank, -length, start, end) orders candidates
    totally apart from exact duplicates, which collapse into one.
    """
    chosen: list[Span] = []
    ordered = sorted(set(candidates), key=lambda s: (RANK[s.kind], s.start - s.end, s.start, s.end))
    for candidate in ordered:
        if not any(candidate.overlaps(kept) for kept in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda s: s.start)
