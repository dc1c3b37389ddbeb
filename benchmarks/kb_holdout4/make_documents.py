"""Renders hold-out corpus 4's PDF and DOCX documents from their text in sources/.

The renderer is benchmarks/_kb_render.py (shared by corpora 3 to 7); this file names the
corpus's files, author and date. The text in sources/ is the source of truth, the rendered
files are committed.

    .venv/bin/python benchmarks/kb_holdout4/make_documents.py
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _kb_render import Stamp, render_corpus  # noqa: E402

TARGETS = {
    "waris_islam_dan_perdata.txt": "pdf",
    "pencatatan_nikah_isbat_dan_perjanjian_kawin.txt": "pdf",
    "pekerja_migran_pmi_dan_bp2mi.txt": "pdf",
    "sertifikat_tanah_ptsl_dan_ajb.txt": "docx",
    "utang_piutang_dan_gugatan_sederhana.txt": "docx",
}
STAMP = Stamp(author="LBH Nusantara Sejahtera", date=dt.datetime(2026, 12, 5, tzinfo=dt.UTC))

if __name__ == "__main__":
    render_corpus(HERE, TARGETS, STAMP, __doc__)
