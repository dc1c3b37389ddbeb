"""Dependencies point inward: the domain imports nothing but the standard library and itself,
and the pipeline never reaches for web, settings or concrete provider clients."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src" / "wagate"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((SRC / "domain").glob("*.py")), ids=lambda p: p.name)
def test_domain_modules_import_only_the_standard_library(path: Path) -> None:
    foreign = {
        name
        for name in _imports(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not name.startswith("wagate.domain")
        and name != "__future__"
    }
    assert foreign == set()


@pytest.mark.parametrize("path", sorted((SRC / "pipeline").glob("*.py")), ids=lambda p: p.name)
def test_pipeline_modules_do_not_import_edges_or_adapters(path: Path) -> None:
    forbidden = (
        "wagate.web",
        "wagate.settings",
        "wagate.wiring",
        "wagate.cli",
        "wagate.providers.meta",
        "wagate.providers.fonnte",
        "fastapi",
        "httpx",
        "psycopg",
        "sqlalchemy",
        "wagate.storage",
        "wagate.jobs",
        "wagate.notify",
        "aiosmtplib",
    )
    assert {name for name in _imports(path) if name.startswith(forbidden)} == set()
