"""Renders hold-out corpus 5's PDF and DOCX documents from their text in sources/.

The renderer is benchmarks/_kb_render.py (shared by corpora 3 to 7); this file names the
corpus's files, author and date. The text in sources/ is the source of truth, the rendered
files are committed.

    .venv/bin/python benchmarks/kb_holdout5/make_documents.py
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _kb_render import Stamp, render_corpus  # noqa: E402

TARGETS = {
    "perselisihan_hubungan_industrial.txt": "pdf",
    "pendampingan_keluarga_tersangka_dan_tahanan.txt": "pdf",
    "perceraian_dan_hak_asuh_anak.txt": "pdf",
    "sewa_rumah_kos_dan_kios.txt": "docx",
    "pencemaran_dan_sengketa_lahan_dengan_perusahaan.txt": "docx",
}
STAMP = Stamp(author="LBH Pandu Keadilan", date=dt.datetime(2026, 12, 7, tzinfo=dt.UTC))

if __name__ == "__main__":
    render_corpus(HERE, TARGETS, STAMP, __doc__)
