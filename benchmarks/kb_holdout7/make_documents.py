"""Renders hold-out corpus 7's PDF and DOCX documents from their text in sources/.

The renderer is benchmarks/_kb_render.py (shared by corpora 3 to 7); this file names the
corpus's files, author and date. The text in sources/ is the source of truth, the rendered
files are committed.

    .venv/bin/python benchmarks/kb_holdout7/make_documents.py
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _kb_render import Stamp, render_corpus  # noqa: E402

TARGETS = {
    "malpraktik_dan_hak_pasien.txt": "pdf",
    "pekerja_migran_di_luar_negeri.txt": "pdf",
    "rumah_kpr_dan_pengembang.txt": "pdf",
    "isbat_nikah_dan_pengadilan_agama.txt": "docx",
    "pupuk_subsidi_dan_hak_petani.txt": "docx",
    "dokumen_kependudukan.txt": "docx",
}
STAMP = Stamp(author="LBH Sasando Keadilan", date=dt.datetime(2026, 12, 9, tzinfo=dt.UTC))

if __name__ == "__main__":
    render_corpus(HERE, TARGETS, STAMP, __doc__)
