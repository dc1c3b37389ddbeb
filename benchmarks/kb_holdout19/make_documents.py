"""Renders hold-out corpus 19's PDF and DOCX documents from their text in sources/.

The renderer is benchmarks/_kb_render.py (shared by the hold-out corpora); this file names the
corpus's files, author and date. The text in sources/ is the source of truth, the rendered
files are committed.

    .venv/bin/python benchmarks/kb_holdout19/make_documents.py
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _kb_render import Stamp, render_corpus  # noqa: E402

TARGETS = {
    "phk_dan_pesangon.txt": "pdf",
    "pekerja_tambang_dan_smelter_nikel.txt": "pdf",
    "hak_korban_bencana.txt": "pdf",
    "warisan_dan_harta_keluarga.txt": "docx",
    "penumpang_kapal_dan_kecelakaan_laut.txt": "docx",
    "tanah_adat_dan_desa_lingkar_tambang.txt": "docx",
}
STAMP = Stamp(author="LBH Kie Raha Ternate", date=dt.datetime(2027, 2, 7, tzinfo=dt.UTC))

if __name__ == "__main__":
    render_corpus(HERE, TARGETS, STAMP, __doc__)
