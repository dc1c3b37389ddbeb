"""How `wagate … --help` reads: whole sentences, no type tags.

typer's default ("rich" markup) keeps the docstrings' line breaks, so a sentence wrapped in the
source is cut in the middle on the screen, and every option gets a type column (`--help
<bool>`, `--port <int>`) that says nothing its sentence does not. Markdown mode reflows the
paragraphs; the type column is emptied on every parameter of the built command tree (the help
option included, which click makes only when help is asked for).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MARKUP = "markdown"


def plain_help(command: Any) -> Any:
    """`command` (a built click command or group) and every command under it, tidied."""
    command.rich_markup_mode = MARKUP
    params_of: Callable[[Any], list[Any]] = command.get_params

    def get_params(ctx: Any) -> list[Any]:
        params = params_of(ctx)
        for param in params:
            _hide_type(param)
        return params

    # An instance attribute: only this command tree changes, not typer's classes.
    setattr(command, "get_params", get_params)  # noqa: B010
    for sub in (getattr(command, "commands", None) or {}).values():
        plain_help(sub)
    return command


def _no_type(ctx: Any = None) -> None:
    return None


def _hide_type(param: Any) -> None:
    setattr(param, "display_type_rich", _no_type)  # noqa: B010
    if param.param_type_name == "argument" and param.metavar is None:
        # Usage reads `wagate tenants show TENANT`, as the help sentences name arguments.
        param.metavar = param.name.upper()
