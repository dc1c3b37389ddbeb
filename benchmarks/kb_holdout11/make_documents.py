"""Renders hold-out corpus 11's PDF and DOCX documents from their text in sources/.

The renderer is benchmarks/_kb_render.py (shared by corpora 3 to 11); this file names the
corpus's files, author and date. The text in sources/ is the source of truth, the rendered
files are committed.

    .venv/bin/python benchmarks/kb_holdout11/make_documents.py
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _kb_render import Stamp, render_corpus  # noqa: E402

TARGETS = {
    "perceraian_cerai_gugat_talak.txt": "pdf",
    "waris_dan_surat_keterangan_ahli_waris.txt": "pdf",
    "phk_dan_pesangon.txt": "pdf",
    "kekerasan_dalam_rumah_tangga.txt": "docx",
    "sertifikat_dan_sengketa_tanah.txt": "docx",
    "hak_asuh_dan_nafkah_anak.txt": "docx",
}
STAMP = Stamp(author="LBH Batanghari Jambi", date=dt.datetime(2026, 12, 15, tzinfo=dt.UTC))

if __name__ == "__main__":
    render_corpus(HERE, TARGETS, STAMP, __doc__)
