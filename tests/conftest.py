"""Shared test configuration: the data files every suite reads."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"
