"""The command line has no cycles: `cli/main.py` assembles the command modules, which share
`cli/common.py` and never import each other; the operator service imports only the domain
and itself."""

from __future__ import annotations

import ast
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
            if node.module == "wagate.cli":
                names.update(f"wagate.cli.{alias.name}" for alias in node.names)
    return names


COMMAND_MODULES = sorted(
    p for p in (SRC / "cli").glob("*.py") if p.stem not in {"__init__", "main", "common"}
)


@pytest.mark.parametrize("path", COMMAND_MODULES, ids=lambda p: p.name)
def test_command_modules_import_only_the_shared_module_of_the_cli(path: Path) -> None:
    own_helpers = {"wagate.cli.chat_client"} if path.stem == "chat" else set()
    cli = {name for name in _imports(path) if name.startswith("wagate.cli")}
    assert cli <= {"wagate.cli.common"} | own_helpers


def test_the_shared_module_imports_no_command_module() -> None:
    assert {n for n in _imports(SRC / "cli" / "common.py") if n.startswith("wagate.cli")} == set()


@pytest.mark.parametrize(
    "path", sorted((SRC / "pipeline" / "operator").glob("*.py")), ids=lambda p: p.name
)
def test_the_operator_service_imports_only_the_domain_its_ports_and_itself(path: Path) -> None:
    """The pipeline's shared ports (the recipient check delivery uses too) are allowed."""
    wagate = {name for name in _imports(path) if name.startswith("wagate")}
    allowed = ("wagate.domain", "wagate.pipeline.operator", "wagate.pipeline.ports")
    assert all(n.startswith(allowed) for n in wagate)


def test_web_and_cli_reach_operator_actions_only_through_the_service() -> None:
    adapters = ("wagate.storage.accounts", "wagate.storage.dead_letters", "wagate.storage.rights")
    for path in [*(SRC / "cli").glob("*.py"), SRC / "web" / "admin_api.py"]:
        assert not {n for n in _imports(path) if n.startswith(adapters)}, path.name
