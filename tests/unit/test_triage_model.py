"""The learned triage detector (AI7): hashed features that are the same in every process,
deterministic training on a tiny set, scoring, the weights file's checks, the shipped weights,
and how the detector combines with the rules (rules' red wins; the detector may add red or
yellow; TRIAGE_MODEL=off leaves the rules alone)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from wagate.domain.policy import PHOTO_ATTACHED, document_block, own_words_of
from wagate.domain.triage_model import (
    CLASSES,
    FORMAT,
    VERSION,
    FeatureConfig,
    TrainingConfig,
    TriageModel,
    TriageModelError,
    bucket_of,
    combine,
    features,
    hashed,
    train,
)
from wagate.domain.zones import Zone
from wagate.pipeline.zone_triage import MODEL_RULE, RulesAndModelTriage
from wagate.triage_rules import load_rule_set, load_triage_model
from wagate.triage_rules.factory import build_zone_triage

ROOT = Path(__file__).resolve().parent.parent.parent
RULES = load_rule_set()
SMALL = FeatureConfig(buckets=1 << 12)
TINY_SET = [
    ("jam buka kantor kapan", Zone.GREEN),
    ("biaya konsultasi berapa", Zone.GREEN),
    ("alamat kantor di mana", Zone.GREEN),
    ("suami saya mau cerai, hak asuh anak saya gimana", Zone.YELLOW),
    ("saya di-PHK tanpa pesangon, apa yang harus saya lakukan", Zone.YELLOW),
    ("tanah warisan saya diserobot saudara", Zone.YELLOW),
    ("tolong suami saya sedang memukul saya sekarang", Zone.RED),
    ("dia bawa pisau di depan rumah mau bunuh saya", Zone.RED),
    ("saya mau bunuh diri malam ini", Zone.RED),
]


def _model(red: float = 0.5, yellow: float = 0.5) -> TriageModel:
    return TriageModel(
        config=SMALL, bias=(0.0, 0.0, 0.0), weights={}, red_threshold=red, yellow_threshold=yellow
    )


# ------------------------------------------------------------------ features


def test_features_read_chat_words_roots_pairs_and_pieces() -> None:
    found = features("sy dipukulin", FeatureConfig(char_max=5))
    assert "w:saya" in found  # the chat word expanded
    assert "r:pukul" in found  # the root of "dipukulin"
    assert any(f.startswith("b:saya_") for f in found)  # the pair of words
    assert "c:<sy>" in found and "c:pukul" in found  # pieces of the words as typed
    assert not any(f.startswith("c:") for f in features("sy dipukulin", FeatureConfig()))
    assert features("sy dipukulin", FeatureConfig(roots=False, bigrams=False)) == [
        f for f in found if f.startswith("w:")
    ]


def test_numbers_are_not_features() -> None:
    found = features("umur sy 15 thn, utang 2500000 di no 0812, inv123", FeatureConfig(cues=True))
    assert not any(any(ch in "123456789" for ch in f) for f in found)
    assert "w:inv0" in found  # digits in a word are one "0"
    assert "w:umur" in found and "b:saya_tahun" in found  # the words around them still pair


def test_a_list_of_numbered_lines_is_not_a_danger() -> None:
    # burst.py's synthetic text: its numbers once hit buckets that red messages trained.
    model = load_triage_model()
    for first in range(0, 500, 37):
        for line in ("pertanyaan q-{}", "order INV{}"):
            text = "\n".join(line.format(first + 500 * k) for k in range(25))
            assert model.raise_zone(Zone.GREEN, text) is Zone.GREEN, text


def test_cue_features_mark_the_time_a_clause_speaks_of_and_what_is_negated() -> None:
    cues = FeatureConfig(cues=True)
    past = features("dulu sy dipukul mantan suami, skrg udah pisah", cues)
    assert "tp:dipukul" in past and "tp:pukul" in past  # violence in a long-past clause
    now = features("barusan sy dipukul", cues)
    assert "tn:pukul" in now and "tp:pukul" not in now  # the same violence, now
    assert "tp:dipukul" not in features("tahun depan sy dipukul", cues)  # no cue: no mark
    assert "tp:tanah" in features("tanah itu dijual tahun lalu", cues)  # a two-word cue
    negated = features("kemarin ribut mulut tp ga ada yg mukul", cues)
    assert "n:memukul" in negated and "n:pukul" in negated  # within three words of "ga"
    assert "n:ribut" not in negated
    # Clauses are apart: the past cue of the first does not mark the second.
    split = features("dulu sy tinggal di Solo. tadi sy dipukul", cues)
    assert "tp:tinggal" in split and "tp:pukul" not in split and "tn:pukul" in split
    assert not any(f[:3] in ("tp:", "tn:") or f[:2] == "n:" for f in features("ga ada", SMALL))


def test_a_class_weight_moves_the_learned_prior_towards_that_class() -> None:
    even = train(TINY_SET, SMALL, TrainingConfig(epochs=5))
    red_heavy = train(TINY_SET, SMALL, TrainingConfig(epochs=5, class_weights=(1.0, 1.0, 3.0)))
    text = "kantor apa kabar"  # words seen in no red message
    assert red_heavy.probabilities(text)[Zone.RED] > even.probabilities(text)[Zone.RED]


def test_cue_features_round_trip_through_the_weights_file() -> None:
    cues = FeatureConfig(buckets=1 << 12, cues=True)
    model = train(TINY_SET, cues, TrainingConfig(epochs=1))
    again = TriageModel.from_mapping(json.loads(json.dumps(model.to_mapping())))
    assert again.config == cues
    # A file written before the cues existed has no key for them, and reads as off.
    mapping = train(TINY_SET, SMALL, TrainingConfig(epochs=1)).to_mapping()
    assert "cues" not in mapping["features"]
    assert TriageModel.from_mapping(mapping).config.cues is False


def test_hashed_features_are_the_same_in_another_process() -> None:
    # CRC-32, not Python's salted hash: the shipped weights must mean the same in every worker.
    text = "Suami sy lg mukulin sy, tolongggg"
    here = list(hashed(text, FeatureConfig()))
    code = (
        "from wagate.domain.triage_model import hashed, FeatureConfig; "
        f"print(list(hashed({text!r}, FeatureConfig())))"
    )
    there = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    ).stdout
    assert json.loads(there) == here
    assert bucket_of("w:saya", 1 << 18) == 3097690601 % (1 << 18)  # zlib.crc32(b"w:saya")


@pytest.mark.parametrize("text", ["", "   ", "🙏🙏", "x" * 100_000, "\x00\ud800?"])
def test_odd_text_scores_without_crashing(text: str) -> None:
    model = train(TINY_SET, SMALL, TrainingConfig(epochs=3))
    probabilities = model.probabilities(text)
    assert set(probabilities) == set(CLASSES)
    assert sum(probabilities.values()) == pytest.approx(1.0)


# ------------------------------------------------------------------ training and scoring


def test_training_is_deterministic_and_learns_the_tiny_set() -> None:
    first = train(TINY_SET, SMALL, TrainingConfig(epochs=20))
    second = train(TINY_SET, SMALL, TrainingConfig(epochs=20))
    assert first.to_mapping() == second.to_mapping()
    other_seed = train(TINY_SET, SMALL, TrainingConfig(epochs=20, seed=7))
    assert other_seed.to_mapping() != first.to_mapping()  # the seed is what orders the steps
    for text, zone in TINY_SET:
        probabilities = first.probabilities(text)
        assert max(probabilities, key=lambda z: probabilities[z]) is zone, text


def test_a_trained_model_generalises_to_unseen_wording_of_the_tiny_set() -> None:
    model = train(TINY_SET, SMALL, TrainingConfig(epochs=20))
    danger = model.probabilities("tolong dia memukul saya lagi")
    office = model.probabilities("kantor buka jam berapa")
    assert danger[Zone.RED] > office[Zone.RED]
    assert office[Zone.GREEN] > danger[Zone.GREEN]


def test_training_needs_examples() -> None:
    with pytest.raises(TriageModelError):
        train([], SMALL)


# ------------------------------------------------------------------ the weights file


def test_a_model_survives_its_mapping_and_json() -> None:
    model = train(TINY_SET, SMALL, TrainingConfig(epochs=5))
    again = TriageModel.from_mapping(json.loads(json.dumps(model.to_mapping())))
    assert again.to_mapping() == model.to_mapping()
    text = "suami saya memukul saya"
    assert again.probabilities(text) == model.probabilities(text)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"format": "other"}, "format"),
        ({"version": VERSION + 1}, "version"),
        ({"classes": ["red", "yellow", "green"]}, "classes"),
        ({"features": {"buckets": 4096}}, "features"),
        ({"thresholds": {"red": 1.5, "yellow": 0.5}}, "thresholds"),
        ({"bias": [0.0, 0.0]}, "bias"),
        ({"weights": {"99999999": [0, 0, 0]}}, "bucket"),
        ({"weights": {"1": [0, "x", 0]}}, r"weights\[1\]"),
        ({"weights": {"1": [0, float("nan"), 0]}}, r"weights\[1\]"),
    ],
)
def test_a_bad_weights_mapping_is_refused_with_what_is_wrong(
    change: dict[str, Any], complaint: str
) -> None:
    data = train(TINY_SET, SMALL, TrainingConfig(epochs=1)).to_mapping() | change
    with pytest.raises(TriageModelError, match=complaint):
        TriageModel.from_mapping(data)
    with pytest.raises(TriageModelError):
        TriageModel.from_mapping([1, 2, 3])


def test_the_shipped_weights_are_the_training_scripts_output() -> None:
    shipped = json.loads(
        (ROOT / "src/wagate/triage_rules/triage_model.json").read_text(encoding="utf-8")
    )
    assert (shipped["format"], shipped["version"]) == (FORMAT, VERSION)
    model = load_triage_model()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import _triage_cv as cv
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    assert model.config == cv.FEATURES  # the features the script trains with
    assert model.notes["training"] == json.loads(json.dumps(asdict(cv.TRAINING)))
    assert model.notes["repeated"] == cv.REPEAT
    # Trained on exactly the named sets as they are now: adding data means retraining.
    assert list(model.notes["trained_on"]) == list(cv.TRAINING_SETS)
    for name, count in model.notes["trained_on"].items():
        assert len(cv.load_rows(name)) == count, name
    # It scores: a plain danger is red, an office question green.
    assert combine(Zone.GREEN, model.probabilities("tolong suami sy lg mukulin sy"), model) is (
        Zone.RED
    )
    assert model.probabilities("kantor buka jam berapa ya")[Zone.GREEN] > 0.5
    assert 0 < model.red_threshold < 1 and 0 < model.yellow_threshold < 1


@pytest.mark.parametrize(
    "text",
    [
        # Small talk that is in no training set (chatter.jsonl holds other phrasings): the
        # detector first read such messages as red, since every labelled set is questions.
        "Selamat Hari Raya, mohon maaf lahir batin",
        "Pak Budi Santoso sudah datang?",
        "titip salam buat Mas Gilang",
        "dokumen sudah saya kirim",
        "Balas SETUJU untuk melanjutkan.",
        "oke makasih infonya kak",
    ],
)
def test_the_shipped_detector_leaves_small_talk_alone(text: str) -> None:
    model = load_triage_model()
    assert model.raise_zone(Zone.GREEN, text) is Zone.GREEN, model.probabilities(text)


# ------------------------------------------------------------------ the combination


@pytest.mark.parametrize(
    ("rules", "p", "expected"),
    [
        (Zone.RED, (1.0, 0.0, 0.0), Zone.RED),  # the rules' red wins whatever the model says
        (Zone.GREEN, (0.5, 0.1, 0.4), Zone.RED),  # the model adds red at its threshold
        (Zone.YELLOW, (0.2, 0.41, 0.39), Zone.YELLOW),  # below it: the rules' zone
        (Zone.GREEN, (0.65, 0.3, 0.05), Zone.YELLOW),  # not green enough: yellow
        (Zone.GREEN, (0.7, 0.25, 0.05), Zone.GREEN),
        (Zone.YELLOW, (0.95, 0.05, 0.0), Zone.YELLOW),  # never lowered
    ],
)
def test_combine_only_raises_and_rules_red_wins(
    rules: Zone, p: tuple[float, float, float], expected: Zone
) -> None:
    probabilities = dict(zip(CLASSES, p, strict=True))
    assert combine(rules, probabilities, _model(red=0.4, yellow=0.35)) is expected


@pytest.mark.parametrize(
    ("rules", "p", "expected"),
    [
        # Model-only red must also beat yellow 1.5 times over.
        (Zone.YELLOW, (0.1, 0.5, 0.4), Zone.YELLOW),  # an own-case story with alarming words
        (Zone.YELLOW, (0.1, 0.35, 0.55), Zone.RED),
        (Zone.GREEN, (0.1, 0.3, 0.6), Zone.RED),  # twice
        (Zone.GREEN, (0.5, 0.4, 0.1), Zone.YELLOW),  # red too weak: not green enough, yellow
        (Zone.GREEN, (0.9, 0.02, 0.08), Zone.GREEN),  # beats yellow but under the threshold
        (Zone.RED, (0.0, 1.0, 0.0), Zone.RED),  # the rules' red still wins
    ],
)
def test_model_only_red_must_beat_yellow_by_the_ratio(
    rules: Zone, p: tuple[float, float, float], expected: Zone
) -> None:
    probabilities = dict(zip(CLASSES, p, strict=True))
    model = dataclasses.replace(_model(red=0.1, yellow=0.5), red_ratio=1.5)
    assert combine(rules, probabilities, model) is expected


def test_a_weights_file_without_the_ratio_reads_as_no_ratio() -> None:
    mapping = dataclasses.replace(_model(), red_ratio=2.0).to_mapping()
    assert TriageModel.from_mapping(mapping).red_ratio == 2.0
    del mapping["thresholds"]["red_over_yellow"]  # a file written before the ratio existed
    assert TriageModel.from_mapping(mapping).red_ratio == 0.0
    mapping["thresholds"]["red_over_yellow"] = -1
    with pytest.raises(TriageModelError, match="red_over_yellow"):
        TriageModel.from_mapping(mapping)


def _scripted(red: float, yellow: float = 0.0) -> tuple[TriageModel, list[str]]:
    """A detector whose probabilities are set by the test (no training needed), and the texts
    it was asked about."""
    fixed = {Zone.GREEN: 1.0 - red - yellow, Zone.YELLOW: yellow, Zone.RED: red}
    asked: list[str] = []

    class Scripted(TriageModel):
        def probabilities(self, text: str) -> dict[Zone, float]:
            asked.append(text)
            return fixed

    model = Scripted(config=SMALL, bias=(0.0, 0.0, 0.0), weights={})
    return model, asked


class _Classifier:
    def __init__(self, answer: Zone) -> None:
        self.answer = answer
        self.asked: list[str] = []

    async def classify(self, question: str) -> Zone:
        self.asked.append(question)
        return self.answer


async def test_rules_red_wins_without_asking_the_detector() -> None:
    detector, asked = _scripted(red=0.0)
    call = await RulesAndModelTriage(RULES, None, detector)("suami sy lg mukulin sy")
    assert (call.zone, call.source) == (Zone.RED, "rules") and asked == []


async def test_the_detector_adds_red_and_then_no_ai_is_asked() -> None:
    ai = _Classifier(Zone.GREEN)
    detector, asked = _scripted(red=0.9)
    call = await RulesAndModelTriage(RULES, ai, detector)("kantor buka jam berapa")
    assert (call.zone, call.source) == (Zone.RED, "model")
    assert MODEL_RULE in call.rules and ai.asked == [] and asked == ["kantor buka jam berapa"]


async def test_the_detector_raises_green_to_yellow_and_the_ai_may_raise_further() -> None:
    detector, _ = _scripted(red=0.1, yellow=0.6)
    assert (await RulesAndModelTriage(RULES, None, detector)("kantor buka jam berapa")).zone is (
        Zone.YELLOW
    )
    call = await RulesAndModelTriage(RULES, _Classifier(Zone.RED), detector)("kantor buka jam brp")
    assert (call.zone, call.source) == (Zone.RED, "ai") and MODEL_RULE in call.rules


async def test_the_detector_has_no_say_on_a_message_of_one_or_two_words() -> None:
    detector, _ = _scripted(red=0.9)
    triage = RulesAndModelTriage(RULES, None, detector)
    assert (await triage("baik bu")).zone is Zone.GREEN
    assert (await triage("baik bu, makasih")).zone is Zone.RED  # three words: it may
    assert combine(Zone.GREEN, {Zone.GREEN: 0.0, Zone.YELLOW: 0.0, Zone.RED: 1.0}, detector, 2) is (
        Zone.GREEN
    )


class _Settings:
    def __init__(self, model: bool) -> None:
        self.triage_rules_file = None
        self.triage_ai = False
        self.triage_ai_timeout_seconds = 1.0
        self.triage_model = model


def test_the_off_switch_leaves_the_rules_alone() -> None:
    on = build_zone_triage(_Settings(model=True), None)
    off = build_zone_triage(_Settings(model=False), None)
    assert isinstance(on, RulesAndModelTriage) and on.model is load_triage_model()
    assert isinstance(off, RulesAndModelTriage) and off.model is None


def test_triage_model_setting_reads_on_and_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from wagate.settings import Settings

    for value, expected in (("off", False), ("on", True)):
        monkeypatch.setenv("TRIAGE_MODEL", value)
        assert Settings().triage_model is expected  # type: ignore[call-arg]


async def test_the_detector_reads_only_the_persons_own_words() -> None:
    # A photo's OCR text or a letter is not someone telling of danger now; a voice note is.
    detector, asked = _scripted(red=0.9)
    triage = RulesAndModelTriage(RULES, None, detector)
    card = document_block("PROVINSI DKI JAKARTA\nNIK : [NIK_1]\nNama : [NAMA_1]", "image")
    assert (await triage(f"{card}\n{PHOTO_ATTACHED}")).zone is Zone.GREEN
    assert asked == []  # fewer than three words of the person's own: not even scored
    spoken = document_block("ini saya mau tanya soal warisan", "audio")
    assert (await triage(f"{card}\n{spoken}")).zone is Zone.RED
    assert asked == ["ini saya mau tanya soal warisan"]


def test_own_words_drop_file_texts_and_markers_but_keep_what_was_said() -> None:
    turn = "\n".join(
        [
            "mohon dibaca",
            document_block("PUTUSAN PENGADILAN ... ancaman pidana", "document"),
            document_block("dia bilang mau datang lagi", "audio"),
            PHOTO_ATTACHED,
        ]
    )
    own = own_words_of(turn)
    assert own.split() == ["mohon", "dibaca", "dia", "bilang", "mau", "datang", "lagi"]
    assert own_words_of("kantor buka jam berapa") == "kantor buka jam berapa"
