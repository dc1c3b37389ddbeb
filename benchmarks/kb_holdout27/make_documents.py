"""Renders hold-out corpus 27's PDF and DOCX documents from their text in sources/.

The renderer is benchmarks/_kb_render.py (shared by the hold-out corpora); this file names the
corpus's files, author and date. The text in sources/ is the source of truth, the rendered
files are committed.

    .venv/bin/python benchmarks/kb_holdout27/make_documents.py
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _kb_render import Stamp, render_corpus  # noqa: E402

TARGETS = {
    "panduan_perceraian.txt": "pdf",
    "awig_awig_dan_sanksi_adat.txt": "pdf",
    "sewa_motor_dan_kecelakaan_lalu_lintas.txt": "pdf",
    "phk_dan_pesangon.txt": "docx",
    "pekerja_pariwisata_dan_service_charge.txt": "docx",
    "tanah_orang_asing_dan_nominee.txt": "docx",
}
STAMP = Stamp(author="LBH Catur Warga Denpasar", date=dt.datetime(2027, 3, 15, tzinfo=dt.UTC))

if __name__ == "__main__":
    render_corpus(HERE, TARGETS, STAMP, __doc__)
