"""The assistant used when no AI endpoint is configured (AI4): it answers from the firm's
documents, or says honestly, in Indonesian, that it cannot.

The conversation puts the best passages in the system turn (`domain.knowledge_context`); this
assistant reads them back and answers with the best one, trimmed to the sentences that speak
to the question (the conversation adds the sources line, compose the disclaimer). Without
passages it says the AI is not configured. It works on the masked prompt like any model: the
placeholders it copies from a passage are restored before the user sees the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

from wagate.domain.chat import AssistantReply, ChatTurn, Role
from wagate.domain.knowledge import questions_of
from wagate.domain.knowledge_context import Reference, read_references
from wagate.domain.small_talk import is_small_talk

OFFLINE_MODEL = "offline"

DEFAULT_MESSAGE = (
    "Maaf, asisten AI belum dikonfigurasi di gateway ini, jadi pesan Anda belum bisa dijawab "
    "otomatis. Silakan hubungi kami lagi nanti atau tunggu balasan dari petugas kami."
)

# A passage longer than this is trimmed to its sentences that share the most words with the
# question; shorter ones are sent whole (they are already one section of a document).
MAX_ANSWER_CHARS = 900
# The runner-up passage is added when it is another part of the answer, not a near repeat.
SECOND_PASSAGE_MIN_OVERLAP = 2

INTRO = "Berdasarkan dokumen kami:"

GREETING = (
    "Halo! Saya asisten otomatis kami. Silakan tulis pertanyaan Anda; saya menjawab dari "
    "dokumen panduan kami, dan petugas kami membantu bila dokumen belum membahasnya."
)

_WORD = re.compile(r"[0-9a-zA-Z\u00c0-\u024f]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")  # within one line: `_trimmed` splits lines first
# A full stop that ends an abbreviation, not a sentence: "Jl. Gatot Subroto", "No. 12",
# "Rp. 50.000", "dr. Sari", an initial ("H. Ahmad", "M. Yusuf"). Only abbreviations that
# never end a sentence: "dll.", "dst." often do. Matched against a piece's last characters.
_ABBREVIATION = re.compile(
    r"(?:\b(?i:jl|jln|no|rp|dr|drs|ir|prof|kab|kec|kel|ds|rt|rw|hlm|telp|tlp|ny|sdr|bpk|"
    r"st|sh|mh|a\.n|u\.p|psl)|\b[A-Z])\.$"
)
# What follows an abbreviation's full stop: a name or a number, not a new sentence's verb.
_AFTER_ABBREVIATION = re.compile(r"^[A-Z0-9]")
_ABBREVIATION_TAIL = 8  # "a.n." and "prof." fit; the regex never reads a whole passage

# Words too common to say whether a sentence answers the question.
_STOPWORDS = frozenset(
    {
        "yang",
        "dan",
        "di",
        "ke",
        "dari",
        "untuk",
        "dengan",
        "atau",
        "ini",
        "itu",
        "ada",
        "apa",
        "apakah",
        "bagaimana",
        "gimana",
        "gmn",
        "gmna",
        "berapa",
        "brp",
        "kapan",
        "dimana",
        "mana",
        "siapa",
        "saya",
        "sy",
        "aku",
        "kami",
        "kita",
        "anda",
        "kamu",
        "bisa",
        "boleh",
        "harus",
        "akan",
        "sudah",
        "udah",
        "belum",
        "tidak",
        "tdk",
        "nggak",
        "ga",
        "gak",
        "enggak",
        "mau",
        "ingin",
        "pak",
        "bu",
        "ibu",
        "bapak",
        "mas",
        "mbak",
        "kak",
        "tolong",
        "mohon",
        "dong",
        "ya",
        "yah",
        "kah",
        "nya",
        "pun",
        "juga",
        "saja",
        "aja",
        "jika",
        "kalau",
        "kalo",
        "klo",
        "bila",
        "maka",
        "karena",
        "krn",
        "oleh",
        "pada",
        "dalam",
        "adalah",
        "ialah",
        "the",
        "a",
        "an",
        "is",
        "of",
        "to",
        "and",
        "or",
        "what",
        "how",
    }
)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _stems(text: str) -> set[str]:
    """Crude but language-neutral: the first five letters stand for a word, so "cerai",
    "perceraian" and "bercerai" do not all meet, but "gugatan"/"gugat" and "syarat"/"syaratnya"
    do; enough to choose sentences inside a passage already found relevant."""
    return {w[:5] for w in _words(text) if w not in _STOPWORDS and len(w) > 1}


class OfflineAssistant:
    def __init__(self, *, message: str | None = None) -> None:
        # An empty override would send a blank WhatsApp message; fall back to the default.
        self._message = (message or "").strip() or DEFAULT_MESSAGE

    async def reply(self, turns: Sequence[ChatTurn]) -> AssistantReply:
        references = _references(turns)
        question = next((t.content for t in reversed(turns) if t.role is Role.USER), "")
        if not references:
            # A greeting or thanks gets a greeting back, not "the AI is not configured".
            text = GREETING if question and is_small_talk(question) else self._message
            return AssistantReply(text=text, model=OFFLINE_MODEL)
        return AssistantReply(text=answer_from(references, question), model=OFFLINE_MODEL)

    async def aclose(self) -> None:
        return None


def _references(turns: Sequence[ChatTurn]) -> list[Reference]:
    for turn in turns:
        if turn.role is Role.SYSTEM:
            found = read_references(turn.content)
            if found:
                return found
    return []


def answer_from(references: Sequence[Reference], question: str) -> str:
    """The best reference trimmed to the question, and the runner-up when it adds to it. A
    burst of several questions ("jam buka? / biaya berapa?") gets, for each question, the
    reference that shares most words with it."""
    per_question = _answers_per_question(references, question)
    if per_question:
        return "\n\n".join([INTRO, *per_question])
    asked = _stems(question)
    best = _trimmed(references[0].text, asked)
    parts = [best]
    for other in references[1:2]:
        extra = _trimmed(other.text, asked, budget=MAX_ANSWER_CHARS - len(best))
        if extra and len(_stems(extra) & asked) >= SECOND_PASSAGE_MIN_OVERLAP and extra != best:
            parts.append(extra)
    return "\n\n".join([INTRO, *(p for p in parts if p)])


def _answers_per_question(references: Sequence[Reference], question: str) -> list[str]:
    """One trimmed reference per question of a burst; [] when the burst asks one thing (or
    its questions all point to the same reference)."""
    parts = [p for p in questions_of(question) if _stems(p)]
    if len(parts) < 2:
        return []
    chosen: list[tuple[Reference, set[str]]] = []
    for part in parts:
        asked = _stems(part)
        best = max(references, key=lambda reference: len(_stems(reference.text) & asked))
        if not _stems(best.text) & asked:
            continue  # a greeting or a question no reference speaks to
        if all(best is not reference for reference, _ in chosen):
            chosen.append((best, asked))
    if len(chosen) < 2:
        return []
    return [_trimmed(reference.text, asked) for reference, asked in chosen]


def _sentences(line: str) -> list[str]:
    """The line's sentences; a piece that ends in an abbreviation joins the next one."""
    sentences: list[str] = []
    for piece in (p.strip() for p in _SENTENCE_END.split(line)):
        if not piece:
            continue
        if (
            sentences
            and _ABBREVIATION.search(sentences[-1][-_ABBREVIATION_TAIL:])
            and _AFTER_ABBREVIATION.match(piece)
        ):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def _trimmed(text: str, asked: set[str], *, budget: int = MAX_ANSWER_CHARS) -> str:
    """The passage itself when it fits; else its sentences ranked by words shared with the
    question, kept in the passage's own order, within `budget` characters."""
    text = text.strip()
    if budget <= 0:
        return ""
    if len(text) <= budget:
        return text
    # Sentences, each with the line it is on: a table row or a list item is a line of its
    # own and stays one in the answer (WhatsApp shows "- " items as a list).
    units = [
        (line_number, sentence)
        for line_number, line in enumerate(text.splitlines())
        for sentence in _sentences(line)
    ]
    sentences = [sentence for _, sentence in units]
    shared = [len(_stems(sentence) & asked) for sentence in sentences]
    # Sentences that share words with the question, best first; none share any (a question
    # in other words than the document's): the passage's opening, in order.
    ranked = sorted((i for i in range(len(sentences)) if shared[i]), key=lambda i: -shared[i])
    if not ranked:
        ranked = list(range(len(sentences)))
    chosen: list[int] = []
    used = 0
    for index in ranked:
        length = len(sentences[index]) + 1
        if used + length > budget:
            continue
        chosen.append(index)
        used += length
    if not chosen:  # one sentence longer than the budget: cut it at a word
        return sentences[ranked[0]][:budget].rsplit(" ", 1)[0] + " …"
    kept = sorted(chosen)
    parts = [sentences[kept[0]]]
    for before, index in pairwise(kept):
        parts.append(("\n" if units[index][0] != units[before][0] else " ") + sentences[index])
    return "".join(parts)
