"""`wagate keys rotate`: the per-tenant data-key form is refused when given halfway, before
anything is opened."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from wagate.cli.keys import keys_app


@pytest.mark.parametrize("args", [["--tenant", "acme"], ["--data-key"]])
def test_tenant_and_data_key_go_together(args: list[str]) -> None:
    result = CliRunner().invoke(keys_app, ["rotate", *args])
    assert result.exit_code == 2
    assert "--tenant and --data-key go together" in result.output


def test_the_commands_are_listed() -> None:
    result = CliRunner().invoke(keys_app, ["--help"])
    assert result.exit_code == 0
    for command in ("status", "data-keys", "reseal", "rotate"):
        assert command in result.output
