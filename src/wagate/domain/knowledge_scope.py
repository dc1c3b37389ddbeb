"""Is a question in the knowledge base's scope? A small logistic model over the lexical
search's evidence (issue 13, `KB_STRICT`: decline rather than guess).

The hand-set thresholds it replaces were tuned on the corpora at hand and did not carry
over to a new one (out of scope declined 0.41 and 0.51 on two blind corpora against 0.9 on
the tuned ones). So every feature here is a *shape* of the evidence, never a word: shares
and ratios that mean the same in a base of 5 documents or 20,000 chunks — how much of the
question's topic the best passage holds, how much of the question the base knows at all,
how far the best passage stands above the next, how many things the question names that no
document mentions. The weights are fitted by `benchmarks/kb_scope_train.py` on the labelled
corpora of benchmarks/ (validated corpus by corpus: trained on the others, tested on it) and
shipped beside this module as `knowledge_scope_model.json`.

Pure: the storage layer turns its search rows into `Evidence` (`storage.knowledge`), and the
training script uses that same conversion, so the benchmark, `wagate kb search` and the
gateway decide with the same code.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from wagate.domain.chat_words import named_at

TIE = 0.95  # passages this close to the best topic score hold the same evidence
HEADING_BONUS = 0.5  # as the search ranks: a lexeme in the title or section path counts more
MODEL_FILE = "knowledge_scope_model.json"


@dataclass(frozen=True, slots=True)
class AskedWord:
    """One content word of the question, as the search saw it."""

    topic: float  # its topic weight (0 everyday … 1 a term, a name)
    known: bool  # some chunk holds it (or the spelling look-up found it)
    foreign: float  # how much it names something else when unknown (0 when known)
    unknown_share: float  # its share of an absent word's IDF in the topic (0 when known)
    # The forms a passage may name it by: its own and the document word the search read it
    # as ("resign" → "mengundurkan"), each with its affixed stems (`chat_words.word_forms`);
    # empty when no chunk holds it.
    forms: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Candidate:
    """One candidate passage's numbers from the lexical search."""

    matched: float  # IDF of the question's lexemes it holds
    topic: float  # the same, each times its topic weight
    topic_count: float  # topic weights of the lexemes it holds, summed
    rarest: float  # IDF of its rarest topic lexeme
    in_heading: float  # IDF of the lexemes in its title or section path
    heading_similarity: float  # trigram word similarity of title/section path to the question
    document_id: int


@dataclass(frozen=True, slots=True)
class Evidence:
    words: tuple[AskedWord, ...]
    known_topic: float  # IDF × topic weight of the question's known lexemes
    absent_idf: float  # the IDF a lexeme no chunk holds would have (grows with the base)
    candidates: tuple[Candidate, ...]  # best first, as the lexical search ranked them
    top_text: str = ""  # the top passage's text
    top_heading: str = ""  # and its section path


FEATURES = (
    "coverage",  # best passage's topic / the question's topic (unknown words included)
    "known_coverage",  # best passage's topic / the topic of the words the base knows
    "known_share",  # share of the question's topic words the base holds at all
    "foreign",  # things named that no document mentions (capped at 3)
    "held",  # topic words the best-holding passage holds (capped at 4)
    "held_share",  # that, over the question's topic words
    "rarest",  # the top passage's rarest topic lexeme, as a share of an absent word's IDF
    "matched",  # the top passage's matched IDF over an absent word's (capped at 4)
    "gap_second",  # (score 1 - score 2) / score 1
    "gap_fifth",  # (score 1 - score 5) / score 1
    "spread",  # log of the documents tied at the best topic score
    "heading_similarity",  # the top passage's title/section path against the question
    "best_heading_similarity",  # the best of the candidates'
    "heading_share",  # share of the top passage's score found in its title/section path
    "length",  # log of the question's content words
    "topic_words",  # the question's topic words (weights summed, capped at 8)
    "candidates",  # log of the candidates found, over log of the most there can be
    "sentence_share",  # the top passage's best sentence (with its heading): topic share held
)


def features(evidence: Evidence, max_candidates: int = 60) -> tuple[float, ...]:
    """The evidence's shape, in the order of `FEATURES`. Evidence without a candidate has
    no shape (the caller declines it before asking)."""
    rows = evidence.candidates
    absent = max(evidence.absent_idf, 1e-9)
    unknown_topic = evidence.absent_idf * sum(w.unknown_share for w in evidence.words)
    topic_total = evidence.known_topic + unknown_topic
    best = max((c.topic for c in rows), default=0.0)
    topic_words = sum(w.topic for w in evidence.words)
    known_words = sum(w.topic for w in evidence.words if w.known)
    held = max((c.topic_count for c in rows), default=0.0)
    scores = [c.matched + HEADING_BONUS * c.in_heading for c in rows]
    first = rows[0] if rows else Candidate(0, 0, 0, 0, 0, 0, 0)
    top = scores[0] if scores else 0.0
    tied = {c.document_id for c in rows if best > 0 and c.topic >= best * TIE}
    return (
        _ratio(best, topic_total),
        _ratio(best, evidence.known_topic),
        _ratio(known_words, topic_words),
        min(sum(w.foreign for w in evidence.words), 3.0),
        min(held, 4.0),
        _ratio(held, topic_words),
        min(first.rarest / absent, 2.0),
        min(first.matched / absent, 4.0),
        _ratio(top - (scores[1] if len(scores) > 1 else 0.0), top),
        _ratio(top - (scores[4] if len(scores) > 4 else 0.0), top),
        math.log1p(len(tied)),
        first.heading_similarity,
        max((c.heading_similarity for c in rows), default=0.0),
        _ratio(first.in_heading, first.matched),
        math.log1p(len(evidence.words)),
        min(topic_words, 8.0),
        math.log1p(len(rows)) / math.log1p(max(max_candidates, 1)),
        sentence_share(evidence),
    )


# A sentence ends at its stop mark, a colon or semicolon (a list's lead-in, a clause), or a
# line break (a list item, a table row).
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
_TOKEN = re.compile(r"[a-z0-9]+")


def sentence_share(evidence: Evidence) -> float:
    """The share of the question's known topic words (by topic weight) that one sentence of
    the top passage holds, the section path counting as part of every sentence. A passage
    that answers says what is asked in one place ("Permohonan dispensasi kawin diajukan ke
    Pengadilan Agama …" under "Dispensasi Kawin"); a near miss holds the words scattered
    ("tinggal" in one sentence, "lama" in another, "rumah" in a third), each in its own
    sense. Leave-one-corpus-out on the fifteen labelled corpora (benchmarks/kb_scope_train.py,
    both runs pooled), beside the other features: out of scope declined 845 → 885 of 1,468,
    answerable declined 202 → 211, AUC 0.906 → 0.910."""
    words = [(w.forms, w.topic) for w in evidence.words if w.forms and w.topic > 0]
    total = sum(weight for _, weight in words)
    if total <= 0 or not evidence.top_text:
        return 0.0
    heading = _TOKEN.findall(evidence.top_heading.lower())
    # Every token once, with the number of its sentence: one look-up per word, not one per
    # word and sentence.
    tokens: list[str] = []
    sentence_of: list[int] = []
    for number, part in enumerate(_SENTENCE_END.split(evidence.top_text)):
        found = _TOKEN.findall(part.lower())
        tokens.extend(found)
        sentence_of.extend([number] * len(found))
    if not tokens:
        return 0.0
    held: dict[int, float] = {}
    in_heading = 0.0
    for forms, weight in words:
        if named_at(heading, forms):
            in_heading += weight  # read with every sentence
            continue
        for number in {sentence_of[i] for i in named_at(tokens, forms)}:
            held[number] = held.get(number, 0.0) + weight
    return min((in_heading + max(held.values(), default=0.0)) / total, 1.0)


def _ratio(part: float, whole: float) -> float:
    return min(max(part / whole, 0.0), 1.0) if whole > 0 else 0.0


@dataclass(frozen=True, slots=True)
class ScopeModel:
    """Logistic regression on standardised features: P(in scope) = σ(b + Σ wᵢ·zᵢ)."""

    names: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float  # in scope when the probability is at least this

    def probability(self, values: Sequence[float]) -> float:
        z = self.bias + sum(
            w * (x - m) / s
            for w, x, m, s in zip(self.weights, values, self.means, self.scales, strict=True)
        )
        return _sigmoid(z)

    def in_scope(self, evidence: Evidence) -> bool:
        if not evidence.candidates or evidence.known_topic <= 0:
            return False  # nothing the question is about is in the base
        return self.probability(features(evidence)) >= self.threshold

    def as_json(self) -> dict[str, Any]:
        return {
            "features": list(self.names),
            "means": list(self.means),
            "scales": list(self.scales),
            "weights": list(self.weights),
            "bias": self.bias,
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScopeModel:
        names = tuple(str(n) for n in data["features"])
        if names != FEATURES:
            raise ValueError(f"model features {names} are not this code's {FEATURES}")
        means, scales, weights = (
            tuple(float(x) for x in data[k]) for k in ("means", "scales", "weights")
        )
        if not len(means) == len(scales) == len(weights) == len(names):
            raise ValueError("model vectors differ in length from its features")
        return cls(names, means, scales, weights, float(data["bias"]), float(data["threshold"]))


@cache
def shipped_model() -> ScopeModel:
    """The model fitted by benchmarks/kb_scope_train.py, shipped as package data."""
    text = resources.files(__package__).joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return ScopeModel.from_json(json.loads(text))


def fit(
    samples: Sequence[Sequence[float]],
    labels: Sequence[int],
    weights: Sequence[float] | None = None,
    *,
    l2: float = 1.0,
    iterations: int = 25,
) -> ScopeModel:
    """Weighted, L2-penalised logistic regression by Newton's method from zeros (the same
    data gives the same model). `l2` penalises the weights, not the bias. The threshold is
    left at 0.5: the training script picks it from cross-validated figures."""
    n, k = len(samples), len(FEATURES)
    if n == 0 or any(len(s) != k for s in samples):
        raise ValueError("samples must be non-empty rows of len(FEATURES) values")
    weight = list(weights) if weights is not None else [1.0] * n
    total = sum(weight)
    means = [sum(w * s[j] for w, s in zip(weight, samples, strict=True)) / total for j in range(k)]
    scales = []
    for j in range(k):
        var = sum(w * (s[j] - means[j]) ** 2 for w, s in zip(weight, samples, strict=True)) / total
        scales.append(math.sqrt(var) if var > 1e-12 else 1.0)
    # Standardised rows with a leading 1 for the bias.
    rows = [[1.0] + [(s[j] - means[j]) / scales[j] for j in range(k)] for s in samples]
    beta = [0.0] * (k + 1)
    for _ in range(iterations):
        gradient = [0.0] + [l2 * b for b in beta[1:]]
        hessian = [[0.0] * (k + 1) for _ in range(k + 1)]
        for j in range(1, k + 1):
            hessian[j][j] = l2
        for row, y, w in zip(rows, labels, weight, strict=True):
            p = _sigmoid(sum(b * x for b, x in zip(beta, row, strict=True)))
            error, curvature = w * (p - y), w * max(p * (1 - p), 1e-9)
            for a in range(k + 1):
                gradient[a] += error * row[a]
                ca = curvature * row[a]
                for b in range(a, k + 1):
                    hessian[a][b] += ca * row[b]
        for a in range(k + 1):
            for b in range(a):
                hessian[a][b] = hessian[b][a]
        delta = _solve(hessian, gradient)
        beta = [b - d for b, d in zip(beta, delta, strict=True)]
        if max(abs(d) for d in delta) < 1e-8:
            break
    return ScopeModel(FEATURES, tuple(means), tuple(scales), tuple(beta[1:]), beta[0], 0.5)


def _sigmoid(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t)) if t > -500 else 0.0


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """x with matrix·x = vector, by Gaussian elimination with partial pivoting (the matrix is
    a penalised Hessian: symmetric, positive definite)."""
    size = len(vector)
    m = [[*row, v] for row, v in zip(matrix, vector, strict=True)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        if abs(m[col][col]) < 1e-12:
            continue
        for r in range(col + 1, size):
            factor = m[r][col] / m[col][col]
            for c in range(col, size + 1):
                m[r][c] -= factor * m[col][c]
    x = [0.0] * size
    for r in range(size - 1, -1, -1):
        if abs(m[r][r]) < 1e-12:
            continue
        x[r] = (m[r][size] - sum(m[r][c] * x[c] for c in range(r + 1, size))) / m[r][r]
    return x
