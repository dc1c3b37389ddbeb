"""Renders hold-out corpus 26's PDF and DOCX documents from their text in sources/.

The renderer is benchmarks/_kb_render.py (shared by the hold-out corpora); this file names the
corpus's files, author and date. The text in sources/ is the source of truth, the rendered
files are committed.

    .venv/bin/python benchmarks/kb_holdout26/make_documents.py
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
    "tanah_ulayat_dan_pagang_gadai.txt": "pdf",
    "sengketa_adat_kerapatan_adat_nagari.txt": "pdf",
    "phk_dan_pesangon.txt": "docx",
    "harta_pusako_tinggi_dan_rendah.txt": "docx",
    "rumah_rusak_gempa_dan_asuransi.txt": "docx",
}
STAMP = Stamp(
    author="LBH Bundo Kanduang Keadilan Padang", date=dt.datetime(2027, 2, 15, tzinfo=dt.UTC)
)

if __name__ == "__main__":
    render_corpus(HERE, TARGETS, STAMP, __doc__)
