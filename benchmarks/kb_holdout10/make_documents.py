"""Renders hold-out corpus 10's PDF and DOCX documents from their text in sources/.

The renderer is benchmarks/_kb_render.py (shared by corpora 3 to 10); this file names the
corpus's files, author and date. The text in sources/ is the source of truth, the rendered
files are committed.

    .venv/bin/python benchmarks/kb_holdout10/make_documents.py
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _kb_render import Stamp, render_corpus  # noqa: E402

TARGETS = {
    "sengketa_ternak.txt": "pdf",
    "tenun_ikat_kekayaan_intelektual.txt": "pdf",
    "keberatan_pajak_bumi_bangunan.txt": "pdf",
    "sengketa_kepegawaian_asn.txt": "docx",
    "perlindungan_saksi_dan_korban.txt": "docx",
    "pendirian_rumah_ibadah.txt": "docx",
}
STAMP = Stamp(author="LBH Sasando Kupang", date=dt.datetime(2026, 12, 14, tzinfo=dt.UTC))

if __name__ == "__main__":
    render_corpus(HERE, TARGETS, STAMP, __doc__)
