"""Can the best passage answer the KIND of question asked? (issue 13, branch kb10)

The scope model's other features count words: how much of the question the best passage
holds. A near miss holds the words too ("berapa biaya isbat nikah" against a passage on
divorce fees that names "biaya" and "nikah"). What words do not say is whether the passage
gives the kind of answer asked for: "berapa" wants an amount (the passage has numbers, money,
durations), "kapan" / "berapa lama" a time, "di mana" a place, "siapa" a person or an office;
and whether what the question asks ABOUT — its focus, the words right after the question
word ("berapa *biaya isbat*", "syarat *adopsi anak* apa saja") — is what the passage is
about.

Features (shapes, no word of any document): whether the question asks for a kind, whether
the passage lacks any sign of that kind, and the share of the focus words the passage and
its heading hold (a word is held when it or one of its roots is, `word_roots`).

Pure: the standard library and the domain's word modules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wagate.domain.chat_words import STOPWORDS, content_words, normalise, topic_weight
from wagate.domain.word_roots import candidate_roots

FOCUS_WORDS = 3  # topic words after the question word that name what it asks about

# Question words (after `chat_words.normalise`: "brp" → "berapa", "dmn" → "dimana") and the
# kind of answer each wants. Two-word forms first: "berapa lama" asks a time, not an amount.
_KINDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("berapa", "lama"), "time"),
    (("jam", "berapa"), "time"),
    (("tanggal", "berapa"), "time"),
    (("berapa",), "amount"),
    (("kapan",), "time"),
    (("dimana",), "place"),
    (("di", "mana"), "place"),
    (("kemana",), "place"),
    (("ke", "mana"), "place"),
    (("siapa",), "person"),
)
_QUESTION_WORDS = frozenset(
    {"apa", "apakah", "bagaimana", "gimana", "kenapa", "mengapa", "bisa", "boleh", "bisakah"}
    | {w for words, _ in _KINDS for w in words if w not in {"di", "ke", "jam", "tanggal"}}
)

_NUMBER_WORDS = (
    r"satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|belas|puluh|"
    r"ratus|ribu|juta|miliar|seratus|seribu|sejuta|persen|setengah|separuh"
)
_TIME_WORDS = (
    r"hari|minggu|bulan|tahun|jam|pukul|menit|tanggal|senin|selasa|rabu|kamis|jumat|sabtu|"
    r"pagi|siang|sore|malam|sebelum|sesudah|setelah|paling lambat|selambat|sejak|sampai|"
    r"hingga|batas waktu|jangka waktu|tenggat"
)
_PLACE_WORDS = (
    r"jalan|jl|alamat|kantor|gedung|lantai|ruang|loket|kota|kabupaten|kecamatan|kelurahan|"
    r"desa|provinsi|pengadilan|kepolisian|polres|polsek|polda|rumah sakit|puskesmas|dinas|"
    r"balai|lembaga|website|situs|online|aplikasi|melalui|lokasi|tempat"
)
_PERSON_WORDS = (
    r"pihak|orang|petugas|pejabat|hakim|jaksa|polisi|penyidik|advokat|pengacara|notaris|"
    r"kepala|ketua|pengurus|pemilik|ahli waris|wali|pengampu|suami|istri|anak|orang tua|"
    r"majikan|pengusaha|pekerja|pegawai|karyawan|korban|pelaku|saksi|lembaga|dinas|kantor|"
    r"instansi|badan|komisi|pengadilan|kepolisian|bank|perusahaan|wajib|berhak|dapat"
)
_SIGNS = {
    "amount": re.compile(rf"\d|rp\b|\b(?:{_NUMBER_WORDS})\b"),
    "time": re.compile(rf"\d|\b(?:{_TIME_WORDS})\b"),
    "place": re.compile(rf"\b(?:{_PLACE_WORDS})\b"),
    "person": re.compile(rf"\b(?:{_PERSON_WORDS})\b"),
}


@dataclass(frozen=True, slots=True)
class Asked:
    """What a question asks for: the kind of answer (None: any) and its focus words."""

    kind: str | None
    focus: tuple[str, ...]


def asked_of(question: str) -> Asked:
    """The first question word's kind and the topic words after it (or, without a question
    word, the question's first topic words)."""
    words = normalise(question).split()
    kind: str | None = None
    start: int | None = None
    for i in range(len(words)):
        for pattern, pattern_kind in _KINDS:
            if tuple(words[i : i + len(pattern)]) == pattern:
                kind, start = pattern_kind, i + len(pattern)
                break
        if kind is not None:
            break
        if start is None and words[i] in _QUESTION_WORDS:
            start = i + 1
    after = words[start:] if start is not None else []
    focus = _topic_words(after) or _topic_words(words)
    if start is not None and kind is None:
        # "biaya nya berapa": the question word comes last; the focus is before it
        before = _topic_words(words[: start - 1][-FOCUS_WORDS:])
        focus = focus or before
    return Asked(kind, tuple(focus[:FOCUS_WORDS]))


def _topic_words(words: list[str]) -> list[str]:
    out = []
    for word in words:
        if word in STOPWORDS or word in _QUESTION_WORDS or topic_weight(word) <= 0:
            continue
        if word not in out:
            out.append(word)
        if len(out) >= FOCUS_WORDS:
            break
    return out


_SENTENCE = re.compile(r"[.!?;:\n]+")


def answer_features(
    question: str, heading: str, passage: str
) -> tuple[float, float, float, float, float]:
    """(asks a kind, the passage shows no sign of it, share of the focus words the passage
    holds, share its heading holds, the most of the question's topic one sentence of the
    passage holds)."""
    asked = asked_of(question)
    text = normalise(passage)
    head = normalise(heading)
    asks = 1.0 if asked.kind is not None else 0.0
    lacks = 1.0 if asked.kind is not None and not _SIGNS[asked.kind].search(text) else 0.0
    return (
        asks,
        lacks,
        _held(asked.focus, text + " " + head),
        _held(asked.focus, head),
        sentence_cover(question, passage),
    )


def sentence_cover(question: str, passage: str) -> float:
    """The largest share of the question's topic (its content words by topic weight) that
    one sentence of the passage holds: an answer says what was asked in one place; a near
    miss has the words scattered over a passage about something else."""
    words = [(w, topic_weight(w)) for w in content_words(question)]
    total = sum(weight for _, weight in words)
    if total <= 0:
        return 0.0
    best = 0.0
    for sentence in _SENTENCE.split(passage):
        present = set(normalise(sentence).split())
        if not present:
            continue
        roots: set[str] = set()
        for word in present:
            roots |= candidate_roots(word)
        held = sum(wt for w, wt in words if w in present or candidate_roots(w) & roots)
        best = max(best, held / total)
    return best


def _held(focus: tuple[str, ...], text: str) -> float:
    if not focus:
        return 1.0
    roots: set[str] = set()
    words = set(text.split())
    for word in words:
        roots |= candidate_roots(word)
    held = sum(1 for w in focus if w in words or candidate_roots(w) & roots)
    return held / len(focus)
