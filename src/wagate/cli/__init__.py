"""The `wagate` command line (see `main`)."""

from wagate.cli.main import app, main

__all__ = ["app", "main"]
