"""Renders hold-out corpus 3's PDF and DOCX documents from their text in sources/.

The renderer is benchmarks/_kb_render.py (shared by corpora 3 to 7); this file names the
corpus's files, author and date. The text in sources/ is the source of truth, the rendered
files are committed.

    .venv/bin/python benchmarks/kb_holdout3/make_documents.py
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _kb_render import Stamp, render_corpus  # noqa: E402

TARGETS = {
    "cerai_muslim_dan_non_muslim.txt": "pdf",
    "rumah_sewa_penggusuran_dan_girik.txt": "pdf",
    "hak_pekerja_upah_pkwt_bpjs.txt": "docx",
    "dipanggil_polisi_penahanan_dan_bantuan_hukum.txt": "docx",
}
STAMP = Stamp(author="Posbakum Cahaya Adil", date=dt.datetime(2026, 12, 5, tzinfo=dt.UTC))

if __name__ == "__main__":
    render_corpus(HERE, TARGETS, STAMP, __doc__)
