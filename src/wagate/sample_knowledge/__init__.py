"""The sample knowledge base the sandbox loads when KB_DIR is empty (issue 13, AI4).

Five short Markdown documents for an Indonesian legal-aid office, written so a newcomer's first
question ("jam buka kantor?", "biaya konsultasi berapa?", "cara cerai gimana?") gets a real
answer: office hours, the fee of a first consultation, divorce, the heir certificate and
severance. Each title ends in "(contoh)", so an answer citing one says it is sample data.

They live in `documents/`, apart from this module: the folder is handed whole to
`KnowledgeBase.refresh_folder`, which would report a .py file as an unsupported document. They
ship in the wheel as package data (pyproject.toml).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def sample_knowledge_dir() -> Path:
    """The folder holding the sample documents (only *.md files), for `refresh_folder`.

    A package installed from a wheel or in editable mode lives on the file system, where
    importlib.resources gives a real path; a zipped install (zipimport) has no folder to read,
    so it gets a clear error rather than a path that does not exist.
    """
    folder = files(__name__) / "documents"
    if not isinstance(folder, Path) or not folder.is_dir():
        raise RuntimeError(f"the sample knowledge base is not on the file system: {folder}")
    return folder


def sample_documents() -> list[Path]:
    """The sample documents, sorted by name."""
    return sorted(sample_knowledge_dir().glob("*.md"))
