"""The sample knowledge base (issue 13, AI4): present, shaped for retrieval, in the wheel."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

from wagate.sample_knowledge import sample_documents, sample_knowledge_dir

ROOT = Path(__file__).resolve().parents[2]


def test_the_folder_holds_three_to_five_markdown_documents_and_nothing_else() -> None:
    """The folder is loaded whole: any other file would show up as a failed document."""
    folder = sample_knowledge_dir()
    assert folder.is_dir()
    documents = sample_documents()
    assert 3 <= len(documents) <= 5
    assert sorted(folder.iterdir()) == documents


def test_titles_say_it_is_sample_data() -> None:
    for path in sample_documents():
        assert path.read_text(encoding="utf-8").splitlines()[0].endswith("(contoh)"), path.name


def test_each_document_has_a_title_and_sections_with_text() -> None:
    for path in sample_documents():
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# "), path.name
        sections = re.split(r"^## .+$", text, flags=re.MULTILINE)[1:]
        assert len(sections) >= 2, path.name
        assert all(len(body.split()) >= 15 for body in sections), path.name


def test_a_newcomers_first_questions_are_covered() -> None:
    text = " ".join(p.read_text(encoding="utf-8").casefold() for p in sample_documents())
    for words in (
        "jam buka",
        "biaya konsultasi",
        "cerai gugat",
        "cerai talak",
        "surat keterangan waris",
        "pesangon",
    ):
        assert words in text, words


def test_every_sample_document_is_package_data() -> None:
    """A document the wheel would leave out would be missing from every installed sandbox."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["wagate"]
    package = ROOT / "src" / "wagate"
    for path in sample_documents():
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch(relative, p) for p in patterns), relative
