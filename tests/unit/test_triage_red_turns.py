"""A session's earlier turns read once (issue 18, p18steps): `classify` with the verdicts
remembered (`RedTurns`) gives what it gives reading every turn afresh, run after run, and the
memory stays bounded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wagate.domain.triage_rules import FOLLOW_UP_RULE, RedTurns, classify, is_red_turn
from wagate.domain.zones import Zone
from wagate.triage_rules import load_rule_set

RULES = load_rule_set()
DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "triage_data"
SETS = sorted(DATA.glob("*.jsonl"))


def _texts(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]


@pytest.mark.parametrize("path", SETS, ids=[p.stem for p in SETS])
def test_a_set_told_as_one_session_gets_the_verdicts_read_afresh(path: Path) -> None:
    known = RedTurns(RULES, size=8)  # small: texts leave the memory and are read again
    texts = _texts(path)
    follow_ups = 0
    for index, text in enumerate(texts):
        history = texts[max(0, index - 4) : index]
        remembered = classify(text, history, RULES, known=known)
        assert remembered == classify(text, history, RULES), text
        follow_ups += remembered.rules == (FOLLOW_UP_RULE,)
        # A short follow-up after the same turns, as the next run would read them.
        after = [*history, text]
        assert classify("dia masih di sana", after, RULES, known=known) == classify(
            "dia masih di sana", after, RULES
        )
    assert len(known) <= 8


def test_the_sets_hold_follow_ups_kept_red() -> None:
    red = next(t for p in SETS for t in _texts(p) if is_red_turn(t, RULES))
    known = RedTurns(RULES)
    call = classify("dia masih di sana", [red], RULES, known=known)
    assert call.zone is Zone.RED and call.rules == (FOLLOW_UP_RULE,)
    assert known.knows(red) is True
    assert classify("dia masih di sana", [red], RULES, known=known) == call  # remembered


def test_the_message_read_is_remembered_for_the_next_run() -> None:
    known = RedTurns(RULES)
    classify("suami saya memukul saya tadi malam", [], RULES, known=known)
    classify("kantor buka jam berapa", [], RULES, known=known)
    assert known.knows("suami saya memukul saya tadi malam") is True
    assert known.knows("kantor buka jam berapa") is False
    assert known.knows("halo") is None


def test_verdicts_of_another_rule_set_are_refused() -> None:
    with pytest.raises(ValueError):
        classify("halo", [], RULES, known=RedTurns(load_rule_set()))
