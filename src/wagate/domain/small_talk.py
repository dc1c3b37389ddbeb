"""Is a message small talk — a greeting, thanks, an acknowledgement — rather than a question?
(AI3) A strict knowledge base declines what its documents do not cover; "halo, apa kabar?" or
"makasih kak" is not a question to decline, the assistant answers it as it always did."""

from __future__ import annotations

import re

from wagate.domain.chat_words import content_words

# Chatter: greetings, thanks, acknowledgements, test pings, goodbyes and the words that
# address someone. A message of these alone asks nothing, not even as a follow-up: "makasih
# kak" after an answer on divorce is not a second question on divorce.
_CHATTER_TEXT = """
halo hallo helo hello hai hi hey hay pagi siang sore malam selamat kabar sehat
terima kasih makasih mksh trims thanks thank thx tq ok oke okay okey sip siap mantap mantab
sipp noted permisi maaf assalamualaikum assalamu alaikum salam waalaikumsalam wassalam shalom
tes test testing p ping kak kakak min admin staf tim pak bu bang mas mbak om tante dik semua sampai
online aktif
jumpa dah bye banyak sekali semoga selalu sangat amin aamiin sukses berkah
good morning night afternoon evening nuwun matur suwun sugeng enjing hatur nuhun punten
bapak ibu sekalian seluruh segenap dibantu membantu bantuannya infonya informasinya penjelasannya
atas jawabannya balasannya responnya tanggapannya terbantu berguna bermanfaat
idul fitri adha hari raya lebaran natal imlek lahir batin minal aidin walfaidzin
nyuwun pangapunten sedaya lepat kalepatan nggih
wk wkwk wkwkwk wkwkwkwk haha hahaha hehe hehehe
"""
# Answer words: alone they are no question either, but they answer the assistant's last one
# ("belum" after "sudah punya akta nikah?"), so the conversation reads them with the
# question before them.
_ANSWER_TEXT = """
baik iya ya yaa yup yes no tidak nggak gak ga enggak sudah udah so belum sama
jelas paham faham mengerti ngerti
"""
CHATTER: frozenset[str] = frozenset(_CHATTER_TEXT.split())
SMALL_TALK: frozenset[str] = CHATTER | frozenset(_ANSWER_TEXT.split())

_LETTERS = re.compile(r"[a-z]+")


def is_small_talk(message: str) -> bool:
    """True when every word that carries meaning is a greeting, thanks, acknowledgement or a
    bare answer (or there is none): "Halo, apa kabar?", "ok siap", "makasih banyak kak", "P",
    "belum". A short question made of small words ("kapan?", "caranya?") is not."""
    return _made_of(message, SMALL_TALK)


def is_chatter(message: str) -> bool:
    """Small talk that answers nothing either: greetings, thanks, pings ("halo kak",
    "makasih", "tes"), not "ya" or "belum"."""
    return _made_of(message, CHATTER)


# "Mohon" asks for something ("mohon bantuan"), except in the greeting of the feast days.
_FORGIVENESS = re.compile(r"\bmohon maaf\b", re.IGNORECASE)
# A New Year's or birthday wish names a year ("Selamat tahun baru 2027, kak!"), which alone
# would be a word to look up: the wish is one greeting.
_WISH = re.compile(r"\bselamat (?:tahun baru|ulang tahun)(?: \d{4})?\b", re.IGNORECASE)


# A wish ends a greeting: "…, semoga LBH Teluk Tomini semakin sukses melayani masyarakat."
# wishes the office well whatever it names, up to the clause's end — unless the message
# asks something.
_GOOD_WISH = re.compile(r"\bsemoga\b[^.,;!?]*", re.IGNORECASE)


def _made_of(message: str, words_allowed: frozenset[str]) -> bool:
    message = _WISH.sub("selamat", _FORGIVENESS.sub("maaf", message))
    if "?" not in message:
        message = _GOOD_WISH.sub("semoga", message)
    words = content_words(message) or _LETTERS.findall(message.lower())
    if all(word in words_allowed for word in words):
        return True
    # The normaliser may have rewritten a greeting as a verb ("matur" → "mematur"): judge
    # each word as typed too. A word with no meaning of its own ("apa", "kapan") passes only
    # beside others that make the message small talk, never by itself. Stops at the first
    # word that means something else: most messages are questions, and this runs on each.
    allowed_seen = False
    for word in _LETTERS.findall(message.lower()):
        if word in words_allowed:
            allowed_seen = True
            continue
        meant = content_words(word)
        if not meant:
            continue
        if not all(w in words_allowed for w in meant):
            return False
        allowed_seen = True
    return allowed_seen
