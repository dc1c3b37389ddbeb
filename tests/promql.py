"""Reading the PromQL the shipped dashboards and alert rules hold: which metrics a query names
(tests/e2e/test_metrics_seed.py checks them against a running gateway, tests/unit/
test_grafana_dashboard.py against what the gateway records)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana").glob("*.json"))


def dashboard_queries(path: Path) -> Iterator[str]:
    """Every panel target's `expr` and every templating variable's query."""

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str) and (key == "expr" or (key == "query" and "(" in value)):
                    yield value
                elif key == "query" and isinstance(value, dict) and "query" in value:
                    yield str(value["query"])
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    yield from walk(json.loads(path.read_text()))


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_RANGE = re.compile(r"\[[^\]]*\]")
_WORD = re.compile(r"(?<![A-Za-z0-9_:.$])[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "group_left", "group_right"}
_KEYWORDS |= {"inf", "nan"}


def metric_names(query: str) -> set[str]:
    """The metric names a PromQL (or Grafana `label_values`) query reads: what is left once
    strings, label matchers, groupings and ranges are gone, minus functions and keywords."""
    rest = _RANGE.sub("", _GROUPING.sub("", _MATCHERS.sub("", _STRING.sub('""', query))))
    names = set()
    for match in _WORD.finditer(rest):
        word = match.group(0)
        if rest[match.end() :].lstrip().startswith("(") or word.lower() in _KEYWORDS:
            continue  # a function, or an operator
        names.add(word)
    # label_values(metric, label): the label is not a metric.
    for inner in re.findall(r"label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,\s*(\w+)", query):
        names.discard(inner[1])
    return names
