"""A learned triage detector (AI7) that runs beside the firm's rules: a small linear text
classifier, written here so that it needs nothing outside the standard library.

Why a model at all: the phrase rules and the danger score were tuned set by set, and each new
blind set found phrasing they had not seen. A linear model over many small features (words,
their roots, word pairs, pieces of words) learns from every labelled message at once, and the
leave-one-set-out figures (benchmarks/README.md) measure how it meets a set it has not seen.

The model: multinomial logistic regression over hashed features of one message.
- features: the chat words expanded (`chat_words.normalise`: "sy" → "saya"), every root a word
  may be built from (`word_roots.candidate_roots`: "dipukulin" → "pukul"), and pairs of
  neighbouring words; optionally (`cues`, on in the shipped model since triage8) the words of
  a clause marked with the time it speaks of (long past, or now and next) and the words after
  a negation. Pieces of words as typed (for typos) can be switched on, but in the
  leave-one-set-out runs they cost small talk more than they gained (benchmarks/README.md),
  made training three times slower and the file larger: off in the shipped model;
- each feature is hashed (CRC-32, the same in every process, unlike Python's `hash`) into a
  fixed number of buckets; the weights file stores only buckets that training touched;
- training: stochastic gradient descent with AdaGrad steps and L2 shrinkage, examples shuffled
  with a fixed seed, so the same sets give the same weights on every machine; a class may
  weigh more than another (the shipped model: a red example twice).

Pure: no I/O. The adapter (`wagate.triage_rules.load_triage_model`) reads the shipped weights
and hands the mapping to `TriageModel.from_mapping`, which checks every part of it.
"""

from __future__ import annotations

import itertools
import math
import random
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from wagate.domain.chat_words import fold, normalise
from wagate.domain.policy import own_words_of
from wagate.domain.word_roots import candidate_roots
from wagate.domain.zones import Zone

FORMAT = "wagate-triage-model"
VERSION = 1
CLASSES = (Zone.GREEN, Zone.YELLOW, Zone.RED)

_WORD = re.compile(r"[a-z0-9]+")
_REPEATED = re.compile(r"(\w)\1{2,}")  # "tolongggg" → "tolong"
_DIGITS = re.compile(r"[0-9]+")
_PLURAL2 = re.compile(r"\b(\w{2,})2\b")  # "anak2" → "anak anak"
_MIN_ROOT = 4  # shorter roots ("ada", "kan") are in too many words to say anything
_MAX_TEXT = 4000  # characters read of one message: a pasted document is not one question
# The detector gives no opinion on a message of fewer words: one or two words ("baik bu",
# "siap pak") are too little for a linear model (in training "ibu" and "bapak" are often the
# person in danger), and short messages are what the rules' short-message rules and their
# red follow-up (which sees the conversation; the detector does not) are for. In the
# leave-one-set-out runs this cost no red message.
MIN_WORDS = 3
_WEIGHT_DIGITS = 3  # decimals kept in the weights file; the trained model is rounded alike


class TriageModelError(ValueError):
    """A weights mapping that cannot be used; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """Which features a model reads; stored with its weights, since weights only mean
    something for the features they were trained on."""

    buckets: int = 1 << 18
    roots: bool = True
    bigrams: bool = True
    char_min: int = 3
    char_max: int = 0  # 0: no pieces of words (see the module doc)
    # A message with fewer features is weighed as if it had this many: two words ("baik pak")
    # are too little to go on, and without this floor each of them would count fully and a
    # single word seen in red training messages would make a short reply red.
    min_features: int = 25
    # Time and negation cues (`_cue_features`): the words and roots of a clause marked with
    # the time it speaks of (long past, or now and next) and words right after a negation.
    cues: bool = False

    def to_mapping(self) -> dict[str, Any]:
        mapping: dict[str, Any] = {
            "buckets": self.buckets,
            "roots": self.roots,
            "bigrams": self.bigrams,
            "char_min": self.char_min,
            "char_max": self.char_max,
            "min_features": self.min_features,
        }
        # Written only when on, so a file of the earlier kind reads back the same.
        if self.cues:
            mapping["cues"] = True
        return mapping

    @classmethod
    def from_mapping(cls, data: Any) -> FeatureConfig:
        if not isinstance(data, Mapping):
            raise TriageModelError("features: not a table")
        try:
            config = cls(
                buckets=_int(data["buckets"]),
                roots=_bool(data["roots"]),
                bigrams=_bool(data["bigrams"]),
                char_min=_int(data["char_min"]),
                char_max=_int(data["char_max"]),
                min_features=_int(data["min_features"]),
                cues=_bool(data.get("cues", False)),
            )
        except (KeyError, TypeError) as exc:
            raise TriageModelError(f"features: missing or wrong ({exc})") from exc
        if (
            config.buckets < 2
            or config.min_features < 1
            or (config.char_max and not 1 <= config.char_min <= config.char_max)
        ):
            raise TriageModelError("features: buckets, min_features or n-gram sizes out of range")
        return config


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not an integer")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{value!r} is not true or false")
    return value


def features(text: str, config: FeatureConfig) -> list[str]:
    """The distinct features of one message, in a fixed order (named by kind: w word, r root,
    b word pair, c piece of a typed word)."""
    text = text[:_MAX_TEXT]
    words = _feature_words(text)
    found: dict[str, None] = {}
    for word in words:
        found["w:" + word] = None
        if config.roots:
            for root in sorted(candidate_roots(word)):
                if root != word and len(root) >= _MIN_ROOT:
                    found["r:" + root] = None
    if config.bigrams:
        for first, second in itertools.pairwise(words):
            found[f"b:{first}_{second}"] = None
    if config.cues:
        for feature in _cue_features(text, config):
            found[feature] = None
    if config.char_max:
        typed = _PLURAL2.sub(r"\1 \1", _REPEATED.sub(r"\1", fold(text)))
        for word in _WORD.findall(typed):
            padded = f"<{word}>"
            for size in range(config.char_min, config.char_max + 1):
                for start in range(len(padded) - size + 1):
                    found["c:" + padded[start : start + size]] = None
    return list(found)


# Time cues, as `normalise` writes them (chat forms expanded). The labels turn on time:
# violence long over is yellow, violence today or with a threat of next time is red; a bag of
# words cannot tell "dipukul dulu" from "dipukul barusan" when the rest of the story is alike.
_PAST_WORDS = frozenset(
    {"dulu", "dahulu", "biyen", "baheula", "pernah", "mantan", "bekas", "cerai", "pisah",
     "dulunya", "kemarinnya"}
)  # fmt: skip
_PAST_PAIRS = frozenset(
    {("tahun", "lalu"), ("bulan", "lalu"), ("tahun", "kemarin"), ("waktu", "kecil"),
     ("masa", "kecil"), ("sudah", "lama"), ("years", "ago"), ("used", "to")}
)  # fmt: skip
_NOW_WORDS = frozenset(
    {"sekarang", "barusan", "tadi", "sedang", "masih", "besok", "nanti", "kini", "saiki",
     "ayeuna", "mengko", "sesok", "now", "tonight", "tomorrow", "currently"}
)  # fmt: skip
_NOW_PAIRS = frozenset(
    {("malam", "ini"), ("hari", "ini"), ("pagi", "ini"), ("sore", "ini"), ("right", "now"),
     ("saat", "ini"), ("mau", "datang"), ("akan", "datang")}
)  # fmt: skip
# Negations, as `normalise` writes them: the three words after one are marked ("tidak ada yang
# memukul", "ga balik lagi").
_NEGATIONS = frozenset(
    {"tidak", "bukan", "belum", "tanpa", "jangan", "ora", "dudu", "teu", "henteu",
     "indak", "not", "never", "no"}
)  # fmt: skip
_NEGATED_SPAN = 3
_CLAUSE = re.compile(r"[.!?;,\n]+")


def _cue_features(text: str, config: FeatureConfig) -> list[str]:
    """Features of the time each clause speaks of and of what is negated: "tp:" + word or
    root in a clause with a long-past cue, "tn:" + word or root in a clause with a now-or-next
    cue, "n:" + the words (and roots) right after a negation."""
    found: dict[str, None] = {}
    for clause in _CLAUSE.split(text):
        words = _feature_words(clause)
        if not words:
            continue
        pairs = set(itertools.pairwise(words))
        marks = []
        if _PAST_WORDS.intersection(words) or _PAST_PAIRS & pairs:
            marks.append("tp:")
        if _NOW_WORDS.intersection(words) or _NOW_PAIRS & pairs:
            marks.append("tn:")
        negated: set[int] = set()
        for index, word in enumerate(words):
            if word in _NEGATIONS:
                negated.update(range(index + 1, index + 1 + _NEGATED_SPAN))
        for index, word in enumerate(words):
            keys = [word]
            if config.roots:
                keys += [
                    r for r in sorted(candidate_roots(word)) if r != word and len(r) >= _MIN_ROOT
                ]
            for key in keys:
                for mark in marks:
                    found[mark + key] = None
                if index in negated:
                    found["n:" + key] = None
    return list(found)


def bucket_of(feature: str, buckets: int) -> int:
    return zlib.crc32(feature.encode("utf-8")) % buckets


def hashed(text: str, config: FeatureConfig) -> tuple[int, ...]:
    """The buckets of a message's features, each once, in a fixed order."""
    return tuple(dict.fromkeys(bucket_of(f, config.buckets) for f in features(text, config)))


def _scale(active: Sequence[int], config: FeatureConfig) -> float:
    # Each feature counts 1/sqrt(n): a long story does not outweigh a short plea by its length
    # alone, while a danger told in its fifth sentence still moves the sum. n is at least
    # `min_features`, so a very short message stays near the prior.
    return 1.0 / math.sqrt(max(len(active), config.min_features)) if active else 0.0


@dataclass(frozen=True, slots=True)
class TriageModel:
    config: FeatureConfig
    bias: tuple[float, float, float]
    weights: Mapping[int, tuple[float, float, float]]
    # Where the combination draws its lines (see `combine`); chosen from cross-validated
    # figures by the training script and shipped with the weights.
    red_threshold: float = 0.5
    yellow_threshold: float = 0.5
    # Model-only red must also beat yellow by this factor: P(red) >= red_ratio x P(yellow).
    # An own-case story with alarming words (an inheritance fight, a summons for next week)
    # gets a fair P(red) and a larger P(yellow); 0 switches the check off (triage6's rule).
    red_ratio: float = 0.0
    notes: Mapping[str, Any] = field(default_factory=dict)

    def probabilities(self, text: str) -> dict[Zone, float]:
        return _softmax_of(self.bias, self.weights, hashed(text, self.config), self.config)

    def raise_zone(self, rules_zone: Zone, text: str) -> Zone:
        """The zone for `text` once this detector has had its say on the rules' zone. It reads
        only the person's own words (`policy.own_words_of`): it was trained on messages, not
        on the texts of identity cards or letters a photo carries."""
        if rules_zone is Zone.RED:
            return rules_zone  # nothing to compute: the rules' red wins
        own = own_words_of(text)
        words = word_count(own)
        if words < MIN_WORDS:
            return rules_zone
        return combine(rules_zone, self.probabilities(own), self, words)

    def to_mapping(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "classes": [z.value for z in CLASSES],
            "features": self.config.to_mapping(),
            "thresholds": {
                "red": self.red_threshold,
                "yellow": self.yellow_threshold,
                "red_over_yellow": self.red_ratio,
            },
            "notes": dict(self.notes),
            "bias": list(self.bias),
            "weights": {str(b): list(self.weights[b]) for b in sorted(self.weights)},
        }

    @classmethod
    def from_mapping(cls, data: Any) -> TriageModel:
        if not isinstance(data, Mapping):
            raise TriageModelError("not a JSON object")
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            raise TriageModelError(
                f"format {data.get('format')!r} version {data.get('version')!r}: "
                f"this gateway reads {FORMAT} version {VERSION}"
            )
        if data.get("classes") != [z.value for z in CLASSES]:
            raise TriageModelError(f"classes must be {[z.value for z in CLASSES]}")
        config = FeatureConfig.from_mapping(data.get("features"))
        thresholds = data.get("thresholds")
        if not isinstance(thresholds, Mapping):
            raise TriageModelError("thresholds: not a table")
        red, yellow = thresholds.get("red"), thresholds.get("yellow")
        if not all(_is_probability(t) for t in (red, yellow)):
            raise TriageModelError("thresholds: red and yellow must be numbers from 0 to 1")
        ratio = thresholds.get("red_over_yellow", 0.0)  # absent in files written before it
        if not _is_ratio(ratio):
            raise TriageModelError("thresholds: red_over_yellow must be a number from 0 to 100")
        raw = data.get("weights")
        if not isinstance(raw, Mapping):
            raise TriageModelError("weights: not a table")
        weights: dict[int, tuple[float, float, float]] = {}
        for key, row in raw.items():
            if not (isinstance(key, str) and key.isdigit() and int(key) < config.buckets):
                raise TriageModelError(f"weights: {key!r} is not a bucket below {config.buckets}")
            weights[int(key)] = _triple(row, f"weights[{key}]")
        notes = data.get("notes", {})
        return cls(
            config=config,
            bias=_triple(data.get("bias"), "bias"),
            weights=weights,
            red_threshold=float(red),  # type: ignore[arg-type]
            yellow_threshold=float(yellow),  # type: ignore[arg-type]
            red_ratio=float(ratio),
            notes=dict(notes) if isinstance(notes, Mapping) else {},
        )


def _is_probability(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _is_ratio(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 100


def _triple(value: Any, where: str) -> tuple[float, float, float]:
    if not (
        isinstance(value, list)
        and len(value) == len(CLASSES)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and all(math.isfinite(v) for v in value)
    ):
        raise TriageModelError(f"{where}: needs {len(CLASSES)} finite numbers")
    return (float(value[0]), float(value[1]), float(value[2]))


def _softmax_of(
    bias: Sequence[float],
    weights: Mapping[int, Sequence[float]],
    active: Sequence[int],
    config: FeatureConfig,
) -> dict[Zone, float]:
    scale = _scale(active, config)
    sums = list(bias)
    for bucket in active:
        row = weights.get(bucket)
        if row is not None:
            for k in range(len(CLASSES)):
                sums[k] += row[k] * scale
    top = max(sums)
    exps = [math.exp(s - top) for s in sums]
    total = sum(exps)
    return {zone: e / total for zone, e in zip(CLASSES, exps, strict=True)}


def word_count(text: str) -> int:
    return len(_words(text[:_MAX_TEXT]))


# One message is normalised for its word count, its words and, clause by clause, its time
# cues; a message of one clause is that clause: the three readings are one.
@lru_cache(maxsize=16)
def _words(text: str) -> tuple[str, ...]:
    return tuple(normalise(text).split())


def _feature_words(text: str) -> tuple[str, ...]:
    """The words features are made of: numbers left out. A number is an amount, a date, an
    order or phone number — its digits name nothing a zone turns on, and hashed they land in
    buckets other features trained: twelve lines of "pertanyaan q-222" (burst.py's text) were
    red on a few such collisions. In a word the digits are one "0" ("inv123", "500rb" →
    "inv0", "0rb"). Done so, the 25 labelled sets' zones did not change."""
    return tuple(_DIGITS.sub("0", w) for w in _words(text) if not w.isdigit())


def combine(
    rules_zone: Zone,
    probabilities: Mapping[Zone, float],
    model: TriageModel,
    words: int = MIN_WORDS,
) -> Zone:
    """The zone from the rules' zone and the model's opinion: the model may only raise it.

    Red by rule stays red (rules always win for red). A message of fewer than MIN_WORDS words
    keeps the rules' zone. Otherwise red when P(red) reaches the red threshold and is at least
    `red_ratio` times P(yellow); a green by rule becomes yellow when P(yellow) + P(red) reaches
    the yellow threshold (a question on the person's own case that the rules read as general).
    """
    if rules_zone is Zone.RED or words < MIN_WORDS:
        return rules_zone
    red = probabilities[Zone.RED]
    if red >= model.red_threshold and red >= model.red_ratio * probabilities[Zone.YELLOW]:
        return Zone.RED
    not_green = probabilities[Zone.YELLOW] + probabilities[Zone.RED]
    if rules_zone is Zone.GREEN and not_green >= model.yellow_threshold:
        return Zone.YELLOW
    return rules_zone


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    epochs: int = 20
    learning_rate: float = 0.5
    l2: float = 1e-4
    seed: int = 20261206
    # Weights smaller than this in every class are left out of the file (they move no
    # probability by more than a rounding error).
    prune_below: float = 5e-4
    # Each example's gradient is scaled by its class's weight (green, yellow, red): > 1 for red
    # makes a missed danger cost more in training than a false alarm.
    class_weights: tuple[float, float, float] = (1.0, 1.0, 1.0)


def train(
    examples: Iterable[tuple[str, Zone]],
    config: FeatureConfig = FeatureConfig(),
    training: TrainingConfig = TrainingConfig(),
) -> TriageModel:
    """A model from labelled messages; the same examples in the same order give the same
    weights (a fixed seed shuffles them; nothing else is random). Thresholds are left at 0.5:
    the caller chooses them (the training script from cross-validated figures)."""
    data = [(hashed(text, config), CLASSES.index(zone)) for text, zone in examples]
    if not data:
        raise TriageModelError("no examples to train on")
    order = list(range(len(data)))
    rng = random.Random(training.seed)
    weights: dict[int, list[float]] = {}
    squares: dict[int, list[float]] = {}  # AdaGrad: each weight's summed squared gradients
    bias = [0.0, 0.0, 0.0]
    bias_squares = [1e-8, 1e-8, 1e-8]
    for _ in range(training.epochs):
        rng.shuffle(order)
        for index in order:
            active, label = data[index]
            probs = _softmax_of(bias, weights, active, config)
            scale = _scale(active, config)
            weight = training.class_weights[label]
            for k, zone in enumerate(CLASSES):
                error = (probs[zone] - (1.0 if k == label else 0.0)) * weight
                bias_squares[k] += error * error
                bias[k] -= training.learning_rate * error / math.sqrt(bias_squares[k])
                for bucket in active:
                    row = weights.setdefault(bucket, [0.0, 0.0, 0.0])
                    sq = squares.setdefault(bucket, [1e-8, 1e-8, 1e-8])
                    gradient = error * scale + training.l2 * row[k]
                    sq[k] += gradient * gradient
                    row[k] -= training.learning_rate * gradient / math.sqrt(sq[k])
    kept = {
        bucket: (_round(row[0]), _round(row[1]), _round(row[2]))
        for bucket, row in weights.items()
        if max(abs(w) for w in row) >= training.prune_below
    }
    return TriageModel(
        config=config,
        bias=(_round(bias[0]), _round(bias[1]), _round(bias[2])),
        weights=kept,
    )


def _round(value: float) -> float:
    return round(value, _WEIGHT_DIGITS)
