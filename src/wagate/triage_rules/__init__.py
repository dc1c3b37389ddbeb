"""The triage rules a gateway runs with (AI7): the packaged defaults, `default.toml`, extended
or overridden by the firm's TRIAGE_RULES_FILE.

Reading files is this module's job; what the tables mean, and every check on them, is the
domain's (`domain/triage_rules.parse_rules`), so a bad file fails the same way at start (the
settings check calls `load_rule_set`) as anywhere else — never at message time.

`default.toml` ships in the wheel as package data (pyproject.toml), and so does
`triage_model.json`, the learned detector's weights (written by
benchmarks/train_triage_model.py; read once per process by `load_triage_model`).
"""

from __future__ import annotations

import json
import tomllib
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from wagate.domain.triage_model import TriageModel, TriageModelError
from wagate.domain.triage_rules import RuleSet, TriageRulesError, parse_rules

__all__ = [
    "MODEL_FILE",
    "TriageModelError",
    "TriageRulesError",
    "default_rules_text",
    "load_rule_set",
    "load_triage_model",
]

MODEL_FILE = "triage_model.json"


def default_rules_text() -> str:
    return (files(__name__) / "default.toml").read_text(encoding="utf-8")


def load_rule_set(path: Path | None = None) -> RuleSet:
    """The default rules, then (when `path` is given) the firm's file over them.

    Raises TriageRulesError (a ValueError) naming the file and every problem in it."""
    try:
        defaults = parse_rules(tomllib.loads(default_rules_text()), source="default.toml")
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - a packaging mistake
        raise TriageRulesError(f"default.toml: {exc}") from exc
    if path is None:
        return defaults
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TriageRulesError(f"{path}: cannot read ({exc})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TriageRulesError(f"{path}: not valid TOML ({exc})") from exc
    return parse_rules(data, base=defaults, source=str(path))


@lru_cache(maxsize=1)
def load_triage_model() -> TriageModel:
    """The learned detector's shipped weights, parsed once per process (a few hundred kB of
    JSON: every tenant and every run shares the one read-only model).

    Raises TriageModelError (a ValueError) when the file is missing or not a model this
    gateway reads."""
    try:
        text = (files(__name__) / MODEL_FILE).read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TriageModelError(f"{MODEL_FILE}: cannot read ({exc})") from exc
    return TriageModel.from_mapping(data)
