"""Street addresses (issue 11): "Jl. Kenanga No. 14 RT 02/RW 07, Kel. Sukamaju, Kec.
Cilodong, Kota Depok", "Perum Griya Asri Blok C3 No. 8", "alamat sy jl. mawar gg. 3 no 21".

An address starts at a street or housing word (Jl., Jalan, Gg., Perum, Komplek, Dusun,
Kp., …) or right after "alamat …:", and runs over the words of its clause: capitalised or
lower-case place words, numbers, "No.", "RT 02/RW 07", "Blok C3". After a comma it goes on
only into the next part of an address (Kel./Desa, Kec., Kab./Kota, RT, Blok, …) or a place
name that closes the sentence (", Surabaya."). It must hold a detail that points at one
house or plot — a number, RT/RW, Blok, Gang, a village or district — so "kantor pusatnya
di Jalan Sudirman" and "Jalan keluarnya" stay: the city alone is left for the AI (which
court, which office).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from wagate.domain.privacy.spans import EntityType, Span

_STREET = (
    r"jl\.?|jln\.?|jalan|gg\.?|gang|perum|perumahan|komplek|kompleks|komp\.?|dusun|dsn\.?"
    r"|kp\.?|kampung|apartemen|apt\.?|cluster|griya|residence|blok"
)
_START = re.compile(
    rf"(?<![\w.])(?:(?i:{_STREET})(?=[ \t.]+\w)|(?i:rt)(?=[ \t.]*\d)"
    r"|(?:Desa|Ds\.|Kel\.|Kelurahan|Dusun|Kampung)(?=[ \t]+[A-Z][a-z]+[^,.\n]{0,30}?\b(?i:rt|rw)\b)"
    r"|(?<=[Aa]lamat)(?i:(?:[ \t]+(?:rumah|saya|sy|kami|lengkap|tinggal|ktp|domisili|kantor|nya))*"
    r"[ \t]*(?::|di)?[ \t]*))",
)
# Parts of an address after a comma, and the words that make one precise.
_PART = (
    r"kel\.?|kelurahan|desa|ds\.?|kec\.?|kecamatan|kab\.?|kabupaten|kota|kodya|prov\.?"
    r"|provinsi|rt\.?|rw\.?|blok|no\.?|nomor|gg\.?|gang|dusun|dsn\.?|km|kode[ \t]+pos"
)
_NEXT_PART = re.compile(rf"[ \t]*,[ \t]*(?=(?i:{_PART})(?![a-z]))")
_CLOSING_PLACE = re.compile(
    r"(?:[ \t]*,[ \t]*[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+){0,2}){1,3}(?:[ \t]+\d{5})?"
    r"(?=[ \t]*(?:[.!?\n]|$))"
)
_DETAIL = re.compile(
    r"\d|(?<![a-z])(?i:rt|rw|blok|gg|gang|kel|kelurahan|desa|kec|kecamatan|dusun|dsn)(?![a-z])"
)
# One token of an address clause: a word (with an abbreviation dot), a number with its
# letters or slashes ("C3", "02/RW", "14A"), or "RT.04/RW.09".
_TOKEN = re.compile(r"[ \t]*(?:[A-Za-z]+\.?(?:/[A-Za-z]+\.?)*|\d+[A-Za-z]?(?:[/.-]\w+)*)")
# Words that end the clause: what the writer goes on to say is no longer the address.
_STOP = frozenset({
    "dan", "yang", "sudah", "udah", "sdh", "saya", "sy", "aku", "itu", "ini", "tapi",
    "padahal", "kalau", "kalo", "untuk", "utk", "karena", "krn", "dengan", "dgn", "di", "ke",
    "dari", "atas", "mau", "akan", "sejak", "selama", "pada", "tolong", "mohon", "sekarang",
    "dulu", "juga", "masih", "belum", "blm", "sampai", "hingga", "tetapi", "namun",
    "sedangkan", "rumah", "tanah", "milik", "pemilik", "yg", "ya", "atau", "adalah",
    "sebagai", "bersama", "lalu", "kemudian", "tidak", "tdk", "bukan", "ada",
})  # fmt: skip
MAX_TOKENS = 24


def find_addresses(text: str) -> Iterator[Span]:
    """Every address in `text` (see module doc)."""
    position = 0
    while (start := _START.search(text, position)) is not None:
        begin = start.end() if start[0].strip() == "" or not _street_at(start) else start.start()
        if _street_at(start) and not _street_named(text, start):
            position = start.end()
            continue
        end = _extent(text, begin)
        if end > begin and _DETAIL.search(text, begin, end):
            yield Span(start=begin, end=end, kind=EntityType.ALAMAT, value=text[begin:end])
            position = end
        else:
            position = max(start.end(), start.start() + 1)


def _street_at(match: re.Match[str]) -> bool:
    return bool(re.match(rf"(?i:{_STREET}|rt|desa|ds\.|kel\.|kelurahan)", match[0]))


_SPELLED_OUT = frozenset({
    "jalan", "gang", "perum", "perumahan", "komplek", "kompleks", "dusun", "kampung",
    "apartemen", "cluster", "griya", "residence", "blok",
})  # fmt: skip
_NAME_OR_NUMBER = re.compile(r"[ \t.]*[A-Z0-9]")


def _street_named(text: str, match: re.Match[str]) -> bool:
    """A spelled-out street word in lower case is an address only before a capitalised name
    or a number ("jalan Melati 5", not "kampung kami", "jalan keluarnya")."""
    word = match[0]
    if not word.islower() or word.rstrip(".") not in _SPELLED_OUT:
        return True
    return _NAME_OR_NUMBER.match(text, match.end()) is not None


def _extent(text: str, position: int) -> int:
    """End of the address that starts at `position`."""
    end = _clause(text, position)
    while end > position:
        joint = _NEXT_PART.match(text, end)
        if joint is not None:
            following = _clause(text, joint.end())
            if following == joint.end():
                break
            end = following
            continue
        closing = _CLOSING_PLACE.match(text, end)
        if closing is not None:
            end = closing.end()
        break
    return end


def _clause(text: str, position: int) -> int:
    """End of the run of address tokens from `position` (no comma, no stop word)."""
    end = position
    for _ in range(MAX_TOKENS):
        token = _TOKEN.match(text, end)
        if token is None:
            break
        word = token[0].strip()
        if word.rstrip(".").lower() in _STOP and end > position:
            break
        if word.endswith(".") and _sentence_ends(text, token.end(), word):
            return token.end() - 1
        end = token.end()
    return end


_ABBREVIATIONS = frozenset({
    "jl", "jln", "gg", "no", "kel", "kec", "kab", "komp", "kp", "dsn", "ds", "prov", "rt",
    "rw", "apt", "blk",
})  # fmt: skip


def _sentence_ends(text: str, after: int, word: str) -> bool:
    """The dot after `word` closes the sentence rather than an abbreviation ("No.", "Kec.")."""
    if word.rstrip(".").lower() in _ABBREVIATIONS:
        return False
    rest = text[after : after + 2]
    return rest == "" or rest[0] in "\n" or (rest[0] == " " and rest[1:2].isupper())
