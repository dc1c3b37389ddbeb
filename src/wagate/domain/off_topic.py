"""Is a message plainly about something no legal-aid knowledge base answers — the time now,
the weather, a recipe, a football score, a ferry's timetable, a translation, an advert? (AI3)

A WhatsApp number gets these every day. The lexical evidence cannot always turn them away:
"jam berapa sekarang di Ambon, WIT?" shares "jam" and "WIT" with the office hours, "besok
hujan di Kuala Tungkal?" names the office's own town. So before any look-up, a few phrases
that only such requests use decline them, as `KB_STRICT` asks. Each pattern is a *request*
("jam berapa sekarang", "resep …", "jadwal kapal"), never a single topic word a client's
legal question may hold ("menang" in court, "bus" in an accident, "tiket" of the bus the
insurer covers, "lagu" in a copyright case, "vs" between two contracts, "harga" of land).

Pure: it reads the normalised words (chat abbreviations expanded: "jam brp skrg" →
"jam berapa sekarang").
"""

from __future__ import annotations

import re

from wagate.domain.chat_words import normalise

_VEHICLE = (
    r"(?:kapal|kapal cepat|pesawat|kereta|kereta api|krl|mrt|bus|bis|damri|ferry|feri|"
    r"speedboat|pelni)"
)
_GOODS = (
    r"(?:emas|perak|cabai|cabe|bawang|beras|minyak goreng|sawit|tbs|karet|kopra|cengkeh|"
    r"bensin|pertalite|pertamax|solar|bitcoin|kripto|saham|ponsel|laptop|tiket)"
)

_PATTERNS = (
    # The time or date now.
    r"\b(?:jam|pukul) berapa (?:sekarang|skrg|saat ini)\b",
    r"\bsekarang (?:jam|pukul) berapa\b",
    r"\b(?:hari ini|sekarang) (?:tanggal|hari) (?:berapa|apa)\b",
    # Weather.
    r"\b(?:cuaca|prakiraan cuaca|ramalan cuaca)\b",
    r"\b(?:besok|nanti|hari ini|malam ini|sore ini)\b[^.?!]{0,40}\bhujan\b",
    r"\bhujan (?:besok|nanti|hari ini|malam ini|sore ini|tidak|kah)\b",
    # Timetables and prayer times.
    rf"\bjadwal (?:keberangkatan )?{_VEHICLE}\b",
    rf"\b{_VEHICLE}\b[^.?!]{{0,50}}\bberangkat (?:jam|pukul) berapa\b",
    r"\b(?:jadwal|jam|waktu) (?:sholat|salat|shalat|imsak|imsakiyah|buka puasa|berbuka)\b",
    # Food and cooking.
    r"\bresep (?!dokter|obat)[a-z]+",
    r"\b(?:paling|yang|yg) enak\b",
    r"\b(?:tempat|rumah|warung) makan\b",
    # Sport.
    r"\b(?:skor|klasemen|sepak bola|sepakbola|timnas|liga [a-z]+|piala dunia)\b",
    # Translation, trivia, jokes.
    r"\bterjemah(?:kan|an|in)?\b",
    r"\bbahasa (?!hukum)[a-z]+nya\b",
    r"\bibu ?kota (?:provinsi|negara|kabupaten)\b",
    r"\b(?:pantun|tebak tebakan|lelucon|lawakan)\b",
    # Prices of goods and money, adverts, outings.
    rf"\bharga {_GOODS}\b",
    r"\b(?:kurs|nilai tukar)\b",
    r"\b(?:dijual|jual)\b[^?]{0,80}\b(?:minat|hubungi|hub)\b",
    r"\b(?:tempat|objek|destinasi) wisata\b",
    r"\bbioskop\b",
)
_OFF_TOPIC = re.compile("|".join(_PATTERNS))


def is_off_topic(message: str) -> bool:
    """True when the message asks for something everyday that a legal-aid office's documents
    never hold: "jam brp skrg di Ambon?", "cuaca besok?", "resep rendang", "jadwal kapal Pelni
    minggu ini", "skor semalam", "terjemahkan good morning", "dijual kavling, minat hub".
    A legal question that only mentions such a thing ("kecelakaan bus, tiketnya ditanggung
    Jasa Raharja?") is not."""
    return _OFF_TOPIC.search(normalise(message)) is not None
