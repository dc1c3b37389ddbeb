"""The triage rules' cheap screens (issue 18) never change a verdict: a phrase list's
first-word screen rejects only texts its pattern does not match, and a root phrase's
"every part somewhere" screen only readings it is not in."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wagate.domain.triage_rules import (
    Phrases,
    RuleSet,
    _root_phrase_in,
    danger_score,
    matched_rules,
    read,
)
from wagate.triage_rules import load_rule_set

RULES = load_rule_set()
DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "triage_data"


def _phrase_lists(rules: RuleSet) -> Iterator[Phrases]:
    yield from (rules.general, rules.personal, rules.frame)
    for rule in rules.rules:
        yield from (rule.phrases, rule.with_any, rule.unless)
    for cue in rules.score.cues if rules.score else ():
        yield from (cue.phrases, cue.unless)


PHRASES = [p for p in _phrase_lists(RULES) if p.pattern is not None]
ROOT_PHRASES = [p for cue in (RULES.score.cues if RULES.score else ()) for p in cue.root_phrases]
MESSAGES = sorted(
    {
        json.loads(line)["text"]
        for path in DATA.glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
)
# The phrases' own words, so generated texts hit the lists often, with affixes around them.
WORDS = sorted(
    {w.strip("*") for p in PHRASES for t in p.texts for w in t.split() if w.strip("*^.")}
)


def _screened_as_unscreened(phrases: Phrases, text: str) -> None:
    assert phrases.first_words is not None
    unscreened = dataclasses.replace(phrases, first_words=None)
    assert phrases.found_in(text) == unscreened.found_in(text), (phrases.texts[:3], text)


def test_the_corpus_and_the_lists_are_there() -> None:
    assert len(MESSAGES) > 1000 and len(PHRASES) > 40 and ROOT_PHRASES


@pytest.mark.parametrize("start", range(0, 2000, 250))
def test_every_list_finds_what_its_pattern_finds_in_the_labelled_messages(start: int) -> None:
    for message in MESSAGES[start : start + 250]:
        reading = read(message, RULES.words, RULES.restorable)
        for text in (reading.text, message):  # the rules read the reading; raw text too
            for phrases in PHRASES:
                _screened_as_unscreened(phrases, text)


def _made_up_words(most: int) -> st.SearchStrategy[list[tuple[str, str, str]]]:
    """Up to `most` of the rules' own words, each with a prefix and a suffix around it."""
    return st.lists(
        st.tuples(
            st.sampled_from(["", "me", "di", "ber", "_", "x"]),
            st.sampled_from(WORDS),
            st.sampled_from(["", "nya", "kan", "_", "2", "an"]),
        ),
        min_size=1,
        max_size=most,
    )


_GAPS = st.sampled_from([" ", "  ", " | ", ", ", "\n"])


@settings(max_examples=300, deadline=None)
@given(_made_up_words(6), _GAPS)
def test_every_list_finds_what_its_pattern_finds_in_made_up_texts(
    words: list[tuple[str, str, str]], gap: str
) -> None:
    text = gap.join(f"{before}{word}{after}" for before, word, after in words)
    for phrases in PHRASES:
        _screened_as_unscreened(phrases, text)


def test_a_root_phrase_is_found_in_a_reading_as_without_the_screen() -> None:
    found = 0
    for message in MESSAGES:
        reading = read(message, RULES.words, RULES.restorable)
        bare = dataclasses.replace(reading, any_word=frozenset(), any_root=frozenset())
        for parts in ROOT_PHRASES:
            here = _root_phrase_in(parts, reading)
            assert here == _root_phrase_in(parts, bare), (parts, message)
            found += here
    assert found > 0  # the corpus holds root phrases, so the screen was also passed


# The rule set's screen (issue 18, p18steps): the lists it names for a text include every
# list with a phrase there, and the rules' verdicts are those of the unscreened rule set.
UNSCREENED = dataclasses.replace(RULES, screen=None)


def _screen_names_every_list_found(text: str) -> None:
    assert RULES.screen is not None
    lists = RULES.screen.lists_in(text)
    for phrases in PHRASES:
        if phrases.found_in(text):
            assert phrases.key in lists, (phrases.texts[:3], text)


def test_the_rule_set_is_screened_and_its_lists_have_keys_of_their_own() -> None:
    assert RULES.screen is not None
    keys = [p.key for p in PHRASES]
    assert len(set(keys)) == len(keys) and min(keys) >= 0


@pytest.mark.parametrize("start", range(0, 2000, 500))
def test_the_screened_rules_give_the_unscreened_verdicts_on_the_labelled_messages(
    start: int,
) -> None:
    for message in MESSAGES[start : start + 500]:
        reading = read(message, RULES.words, RULES.restorable)
        _screen_names_every_list_found(reading.text)
        assert matched_rules(message, RULES) == matched_rules(message, UNSCREENED), message
        assert danger_score(message, RULES) == danger_score(message, UNSCREENED), message


@settings(max_examples=300, deadline=None)
@given(_made_up_words(8), _GAPS)
def test_the_screen_names_every_list_found_in_made_up_texts(
    words: list[tuple[str, str, str]], gap: str
) -> None:
    text = gap.join(f"{before}{word}{after}" for before, word, after in words)
    _screen_names_every_list_found(text)
    assert matched_rules(text, RULES) == matched_rules(text, UNSCREENED), text


def test_lists_rules_and_cues_stay_hashable_and_equal_when_loaded_again() -> None:
    again = load_rule_set()
    assert again.rules == RULES.rules and again.general == RULES.general
    assert {hash(r) for r in again.rules} == {hash(r) for r in RULES.rules}
    assert RULES.score is not None and again.score is not None
    assert {hash(c) for c in again.score.cues} == {hash(c) for c in RULES.score.cues}


def test_a_set_made_from_another_screens_its_new_lists() -> None:
    """`dataclasses.replace` with a new rule or a new guard list must not keep a screen that
    never indexed it: the new list would be skipped as absent (a missed red)."""
    from wagate.domain.triage_rules import Rule
    from wagate.domain.zones import Zone

    added = dataclasses.replace(
        RULES,
        rules=(
            *RULES.rules,
            Rule("extra_red", Zone.RED, Phrases.of(["zzkata bahaya"]), guarded=False),
        ),
    )
    assert matched_rules("zzkata bahaya", added) == (Zone.RED, ("extra_red",))
    assert matched_rules("zzkata bahaya", dataclasses.replace(added, screen=None)) == (
        Zone.RED,
        ("extra_red",),
    )
    framed = dataclasses.replace(RULES, frame=Phrases.of(["zzbukan kisah nyata"]))
    text = "suami saya mau membunuh saya zzbukan kisah nyata"
    assert matched_rules(text, framed) == matched_rules(
        text, dataclasses.replace(framed, screen=None)
    )


def test_the_screen_is_not_part_of_a_sets_identity() -> None:
    assert load_rule_set() == load_rule_set()
