"""Synthetic documents for measuring search at scale (issue 13: p95 with 20,000 chunks).

`load_synthetic` fills a tenant's knowledge base with generated legal-style documents
("Pasal 1 … Pasal 200") whose text mixes real Indonesian legal words with invented ones, so the
full-text and trigram indexes see a realistic spread of common and rare words. The documents
go through the same path as real ones (chunker, one transaction each), so what is measured is
what runs in production. Deterministic for a seed.
"""

from __future__ import annotations

import random

from wagate.storage.knowledge import KnowledgeBase

_COMMON_TEXT = (
    "pasal ayat hukum perjanjian pihak pengadilan putusan hak kewajiban tanah sewa kontrak "
    "pembayaran bunga utang piutang jaminan saksi bukti sidang gugatan tergugat penggugat "
    "notaris akta perusahaan pekerja upah izin usaha pajak denda sanksi pidana perdata banding "
    "kasasi eksekusi lelang harta benda kendaraan bangunan warga desa kecamatan kabupaten "
    "kota provinsi negara dinas pejabat permohonan keberatan laporan polisi jaksa hakim"
)
_COMMON = _COMMON_TEXT.split()
# Consonants Indonesian hardly uses: an invented word never collides with a real one.
_SYLLABLES = [c + v for c in "qxzv" for v in "aeiou"]


def _invented(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def synthetic_document(rng: random.Random, number: int, sections: int) -> tuple[str, str]:
    """(title, text) of one generated document with `sections` Pasal of ~90 words each."""
    rare = [_invented(rng) for _ in range(60)]  # this document's own vocabulary
    lines = [f"Peraturan Contoh Nomor {number}", ""]
    for pasal in range(1, sections + 1):
        words = [rng.choice(rare) if rng.random() < 0.3 else rng.choice(_COMMON) for _ in range(90)]
        lines += [f"Pasal {pasal}", " ".join(words).capitalize() + ".", ""]
    return f"Peraturan Contoh Nomor {number}", "\n".join(lines)


async def load_synthetic(
    knowledge: KnowledgeBase, *, chunks: int = 20_000, per_document: int = 200, seed: int = 13
) -> int:
    """Adds about `chunks` chunks in documents of `per_document`; returns how many it added."""
    rng = random.Random(seed)
    added = 0
    number = 0
    while added < chunks:
        number += 1
        sections = min(per_document, chunks - added)
        title, text = synthetic_document(rng, number, sections)
        report = await knowledge.add_text(f"synthetic-{seed}-{number:04d}.txt", text, title=title)
        if not report.ok:
            raise RuntimeError(f"synthetic document {number} failed: {report.error}")
        added += report.chunks
    return added
