"""Renders hold-out corpus 25's PDF and DOCX documents from their text in sources/.

The renderer is benchmarks/_kb_render.py (shared by the hold-out corpora); this file names the
corpus's files, author and date. The text in sources/ is the source of truth, the rendered
files are committed.

    .venv/bin/python benchmarks/kb_holdout25/make_documents.py
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _kb_render import Stamp, render_corpus  # noqa: E402

TARGETS = {
    "perceraian_di_mahkamah_syariyah.txt": "pdf",
    "qanun_jinayat_dan_uqubat_cambuk.txt": "pdf",
    "nelayan_dan_hukum_adat_laot.txt": "pdf",
    "phk_dan_pesangon.txt": "docx",
    "tanah_pascatsunami_dan_rumah_bantuan.txt": "docx",
    "pekerja_warung_kopi.txt": "docx",
}
STAMP = Stamp(
    author="LBH Seulanga Keadilan Banda Aceh", date=dt.datetime(2027, 2, 14, tzinfo=dt.UTC)
)

if __name__ == "__main__":
    render_corpus(HERE, TARGETS, STAMP, __doc__)
