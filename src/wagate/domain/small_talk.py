"""Is a message small talk — a greeting, thanks, an acknowledgement — rather than a question?
(AI3) A strict knowledge base declines what its documents do not cover; "halo, apa kabar?" or
"makasih kak" is not a question to decline, the assistant answers it as it always did."""

from __future__ import annotations

import re

from wagate.domain.chat_words import content_words

_SMALL_TALK_TEXT = """
halo hallo helo hello hai hi hey hay pagi siang sore malam selamat kabar baik sehat
terima kasih makasih mksh trims thanks thank thx tq ok oke okay okey sip siap mantap mantab
sipp noted baik iya ya yaa yup yes no tidak nggak gak ga enggak sudah udah belum permisi
maaf assalamualaikum assalamu alaikum salam waalaikumsalam wassalam shalom tes test testing
p ping kak kakak min admin pak bu bang mas mbak om tante dik semua sama sampai jumpa dah bye
banyak sekali
good morning night afternoon evening nuwun matur suwun sugeng enjing hatur nuhun punten
"""
SMALL_TALK: frozenset[str] = frozenset(_SMALL_TALK_TEXT.split())

_LETTERS = re.compile(r"[a-z]+")


def is_small_talk(message: str) -> bool:
    """True when every word that carries meaning is a greeting, thanks or acknowledgement
    (or there is none): "Halo, apa kabar?", "ok siap", "makasih banyak kak", "P"."""
    words = content_words(message) or _LETTERS.findall(message.lower())
    if all(word in SMALL_TALK for word in words):
        return True
    # The normaliser may have rewritten a greeting as a verb ("matur" → "mematur"): judge
    # each word as typed too, keeping the words that carry no meaning out of it.
    return all(
        word in SMALL_TALK or all(w in SMALL_TALK for w in content_words(word))
        for word in _LETTERS.findall(message.lower())
    )
