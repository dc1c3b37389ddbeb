"""Renders hold-out corpus 6's PDF and DOCX documents from their text in sources/.

The renderer is benchmarks/_kb_render.py (shared by corpora 3 to 7); this file names the
corpus's files, author and date. The text in sources/ is the source of truth, the rendered
files are committed.

    .venv/bin/python benchmarks/kb_holdout6/make_documents.py
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _kb_render import Stamp, render_corpus  # noqa: E402

TARGETS = {
    "nelayan_dan_wilayah_pesisir.txt": "pdf",
    "hibah_dan_wasiat.txt": "pdf",
    "pengaduan_dana_desa.txt": "pdf",
    "tanah_ulayat_dan_masyarakat_adat.txt": "docx",
    "pekerja_rumah_tangga.txt": "docx",
    "notaris_dan_ppat.txt": "docx",
}
STAMP = Stamp(author="LBH Lontara Keadilan", date=dt.datetime(2026, 12, 8, tzinfo=dt.UTC))

if __name__ == "__main__":
    render_corpus(HERE, TARGETS, STAMP, __doc__)
