"""Issue 11 sets as a regression gate: the rendered JSON lines are what markup.py makes of
the marked-up text, and both splits meet the issue's goals as benchmarks/pii_eval.py scores
them (one vault per conversation). The untuned split is never tuned on; this only keeps a
later change from silently losing what it measured."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).parent.parent.parent
PII_DATA = ROOT / "tests" / "data" / "pii"


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


markup = _load(PII_DATA / "markup.py")
pii_eval = _load(ROOT / "benchmarks" / "pii_eval.py")


@pytest.mark.parametrize("name", markup.SETS)
def test_rendered_split_matches_its_source(name: str) -> None:
    source = (PII_DATA / f"{name}.txt").read_text(encoding="utf-8")
    rendered = markup.render(markup.parse(source, name=name))
    assert (PII_DATA / f"{name}.jsonl").read_text(encoding="utf-8") == rendered


def test_markup_keeps_offsets_conversations_and_line_breaks() -> None:
    source = (
        "## self_intro\nSaya, {NAMA:Yosef Mbulu}.\\n- {NAMA:Y. M.}\nkosong\n\n"
        "known: Wati\n{NAMA:Wati} di sini\nnomor {TELEPON:0812}\n"
    )
    lines = markup.parse(source, name="t")
    assert [line["conversation"] for line in lines] == ["t-1", "t-2", "t-3", "t-3"]
    assert lines[0]["text"] == "Saya, Yosef Mbulu.\n- Y. M."
    assert lines[0]["entities"][1] == {"start": 21, "end": 26, "type": "NAMA", "value": "Y. M."}
    assert lines[2]["known_names"] == ["Wati"] and lines[3]["turn"] == 2


@pytest.mark.parametrize("name", ["tuning", "untuned"])
def test_split_meets_the_issue_goals(name: str) -> None:
    report = pii_eval.evaluate_split(pii_eval.load(pii_eval.SPLITS[name]))
    failed = [goal for goal, ok in report.verdicts().items() if not ok]
    assert failed == [], "\n".join(report.errors)
