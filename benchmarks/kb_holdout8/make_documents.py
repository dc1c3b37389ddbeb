"""Renders hold-out corpus 8's PDF and DOCX documents from their text in sources/.

The renderer is benchmarks/_kb_render.py (shared by corpora 3 to 8); this file names the
corpus's files, author and date. The text in sources/ is the source of truth, the rendered
files are committed.

    .venv/bin/python benchmarks/kb_holdout8/make_documents.py
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _kb_render import Stamp, render_corpus  # noqa: E402

TARGETS = {
    "peradilan_pidana_anak.txt": "pdf",
    "kekerasan_seksual_uu_tpks.txt": "pdf",
    "fidusia_dan_penarikan_kendaraan.txt": "pdf",
    "asuransi_jiwa_dan_klaim.txt": "docx",
    "izin_usaha_mikro.txt": "docx",
    "dispensasi_kawin.txt": "docx",
}
STAMP = Stamp(author="LBH Pela Gandong", date=dt.datetime(2026, 12, 10, tzinfo=dt.UTC))

if __name__ == "__main__":
    render_corpus(HERE, TARGETS, STAMP, __doc__)
