"""CP1 goals as a regression gate: on the labelled corpora, exact-span recall >= 0.99 for NIK,
NPWP, phone and e-mail, >= 0.90 for names, and precision >= 0.95 overall (the same numbers
`benchmarks/pii_eval.py` prints); and the generated corpus is what its generator makes."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).parent.parent.parent
PII_DATA = ROOT / "tests" / "data" / "pii"


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


pii_eval = _load(ROOT / "benchmarks" / "pii_eval.py")
generator = _load(PII_DATA / "generate_corpus.py")


def _lines(name: str) -> list[dict[str, Any]]:
    text = (PII_DATA / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_generated_corpus_is_reproducible() -> None:
    expected = generator.render(generator.generate())
    assert (PII_DATA / "corpus.jsonl").read_text(encoding="utf-8") == expected


def test_corpus_shape() -> None:
    generated, handwritten = _lines("corpus.jsonl"), _lines("handwritten.jsonl")
    assert len(generated) >= 300
    assert len(handwritten) >= 40
    negative_or_mixed = [
        line
        for line in generated
        if not line["entities"] or len({e["type"] for e in line["entities"]}) > 1
    ]
    assert len(negative_or_mixed) >= 0.3 * len(generated)
    types = {e["type"] for line in generated for e in line["entities"]}
    assert types == {"NIK", "NPWP", "TELEPON", "EMAIL", "REKENING", "NAMA"}


@pytest.mark.parametrize("corpus", ["generated", "handwritten", "combined"])
def test_recognition_meets_the_goals(corpus: str) -> None:
    examples = {name: pii_eval.load(path) for name, path in pii_eval.CORPORA.items()}
    examples["combined"] = [e for name in pii_eval.CORPORA for e in examples[name]]
    report = pii_eval.evaluate(examples[corpus])
    failed = [goal for goal, ok in report.verdicts().items() if not ok]
    assert failed == [], "\n".join(report.errors)
