"""Renders hold-out corpus 9's PDF and DOCX documents from their text in sources/.

The renderer is benchmarks/_kb_render.py (shared by corpora 3 to 9); this file names the
corpus's files, author and date. The text in sources/ is the source of truth, the rendered
files are committed.

    .venv/bin/python benchmarks/kb_holdout9/make_documents.py
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _kb_render import Stamp, render_corpus  # noqa: E402

TARGETS = {
    "rehabilitasi_pengguna_narkotika.txt": "pdf",
    "pelindungan_data_pribadi.txt": "pdf",
    "gugatan_sederhana.txt": "pdf",
    "izin_poligami.txt": "docx",
    "kemitraan_plasma_sawit.txt": "docx",
    "perjalanan_umrah_dan_haji.txt": "docx",
}
STAMP = Stamp(author="LBH Intan Banua", date=dt.datetime(2026, 12, 11, tzinfo=dt.UTC))

if __name__ == "__main__":
    render_corpus(HERE, TARGETS, STAMP, __doc__)
