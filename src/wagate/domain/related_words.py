"""Words that name the same thing, for a question word the documents never use (issue 13).

A client writes "tabrakan" and the traffic guide says "kecelakaan"; "karyawan" where the
labour guide says "pekerja"; "bos" for "pengusaha", "cicilan" for "angsuran". Lexical search
cannot see that these are one thing, and the scope model then reads the client's word as
something the documents never mention — the question is declined or ranked on its other
words. Embeddings would see it; without them this short list of groups does, for the
everyday, regional and formal names of what a legal-aid office is asked about.

Each group holds words (roots, or the forms clients and documents write) that mean the same
in a question to a law office. A question word matches a member when it is the member or an
affixed form of it ("ditabrak" → "tabrak"); a document word only when it is the member (or
with "-nya"). A group adds the document words of its other members only for a question word
the documents use in no form: their own word is always preferred, and a word they use is
never widened (the search stays as sharp as the documents are). Like a spelling correction
(`domain.spelling`), the related word is searched beside the typed one, never instead of it.

Kept to words that name one thing: no word with a second everyday meaning a law office also
sees ("laki" is husband in Pontianak and male elsewhere; "bapak" and "kakak" are how a
client addresses the office), no broader term for a narrower one ("kendaraan" is not
"motor"; "online" → "daring" was tried and made a passport and an Instagram question look
answerable), nothing taken from a test set's questions. Checked against the vocabularies of
every corpus in benchmarks/: affixed forms would reach words of another meaning there
("gaji" in "pengajian"), hence the documents' side reads members as written.

Pure: the standard library and `chat_words`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache

from wagate.domain.chat_words import affix_stems, word_forms

# fmt: off
GROUPS: tuple[str, ...] = (
    # accidents, injuries, health
    "tabrak tabrakan kecelakaan",
    "disabilitas difabel",
    "lansia manula",
    "persalinan melahirkan bersalin",
    # work
    "karyawan pekerja buruh",
    "majikan pengusaha bos",
    "gaji upah",
    "resign mengundurkan pengunduran",
    "telat terlambat keterlambatan",
    # family
    "wafat meninggal almarhum almarhumah mendiang",
    "ayah abah",
    # land and buildings
    "lahan tanah",
    "gedung bangunan",
    "ijin izin",
    "kontrakan sewa",
    # money, debts, consumer
    "cicilan angsuran",
    "leasing pembiayaan",
    "penagih penagihan kolektor",
    "ponsel handphone",
    # crime and courts
    "maling curi mencuri pencurian",
    "begal rampok perampokan",
    "narkoba narkotika",
    "ciduk tangkap ditangkap penangkapan",
    "bui penjara",
    "pengacara advokat",
    "murid siswa",
)
# fmt: on
MIN_STEM = 4  # a shorter stem hides in unrelated words ("bos" in "bosan")
# Affixed forms whose meaning is not their member's: a job, a recitation, leaving someone.
NOT_A_FORM = frozenset(
    {"pekerjaan", "pekerjaannya", "pengajian", "mengaji", "meninggalkan", "ditinggalkan",
     "perlahan", "pembangunan", "memalingkan", "pelajaran"}
)  # fmt: skip
MAX_RELATED = 3  # document words searched beside one question word


def _members(word: str) -> frozenset[str]:
    """The members a question word is, or is an affixed form of ("ditabrak" → "tabrak")."""
    table = _index()
    found = {word} if word in table else set()
    if word not in NOT_A_FORM:
        found.update(s for s in affix_stems(word) if len(s) >= MIN_STEM and s in table)
    return frozenset(found)


def _document_member(word: str) -> str | None:
    """The member a document word is: itself or with "-nya" only. Affixes change meaning
    in documents' formal words ("pengajian" is no salary, "persaudaraan" no sibling,
    "pembangunan" no building), so the groups list the forms documents write."""
    table = _index()
    if word in table:
        return word
    if word.endswith("nya") and word[:-3] in table:
        return word[:-3]
    return None


@cache
def _index() -> Mapping[str, frozenset[int]]:
    table: dict[str, set[int]] = {}
    for number, group in enumerate(GROUPS):
        for member in group.split():
            table.setdefault(member, set()).add(number)
    return {member: frozenset(groups) for member, groups in table.items()}


def _groups_of(members: Iterable[str]) -> frozenset[int]:
    table = _index()
    return frozenset(g for m in members for g in table[m])


def document_members(words: Iterable[str]) -> dict[str, list[str]]:
    """Group member → the document words that are it (or it with "-nya"), in the order
    given, for a tenant's vocabulary (computed once per vocabulary, not per question)."""
    found: dict[str, list[str]] = {}
    for word in words:
        if (member := _document_member(word)) is not None:
            found.setdefault(member, []).append(word)
    return found


def related_document_words(word: str, in_documents: Mapping[str, Sequence[str]]) -> list[str]:
    """The document words that name what `word` names, one per member of its group (the
    first `in_documents` lists: `document_members` keeps the vocabulary's order), when no
    document uses `word`'s own member; [] otherwise. `Vocabulary.related_words` checks
    first that no document word at all is `word` in another form."""
    own = _members(word)
    if not own or any(in_documents.get(member) for member in own):
        return []
    mine = word_forms(word)
    related: list[str] = []
    for group in sorted(_groups_of(own)):
        for member in GROUPS[group].split():
            document_words = in_documents.get(member, ())
            if not document_words:
                continue
            if any(word_forms(w) & mine for w in document_words):
                return []  # "penangkapan" for "ditangkap": the stemmer finds it as typed
            related.append(document_words[0])
    return related[:MAX_RELATED]
