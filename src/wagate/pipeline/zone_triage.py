"""The triage a conversation runs (AI7): the firm's rules, the learned detector shipped with
the gateway (TRIAGE_MODEL), and where an AI is configured a model's opinion beside them.

- red by rule wins at once: nothing else is asked (no text of a person in danger leaves, and
  no wait for an answer);
- the learned detector (`domain.triage_model`, in process, no I/O) may then raise the rules'
  zone: to red when its P(red) reaches its red threshold (again nothing leaves), a green to
  yellow when P(yellow)+P(red) reaches its yellow threshold;
- otherwise the higher of that zone and the AI's (an AI may raise a question to yellow or red,
  never lower what the rules or the detector found);
- the AI failing in any way (unavailable, timeout, an answer that is not a zone) leaves the
  zone found so far: triage never fails a run.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from wagate.domain.triage_model import TriageModel
from wagate.domain.triage_rules import RedTurns, RuleSet, classify
from wagate.domain.zones import Zone, ZoneCall
from wagate.pipeline.ports import ZoneClassifier

log = structlog.get_logger(__name__)

# Named among the rules of a call the learned detector raised, for the audit trail and the
# console (the detector's probabilities are not kept: they say nothing a reader can check).
MODEL_RULE = "triage_model"


class RulesAndModelTriage:
    """A ZoneTriage (pipeline/ports.py). `model`: the learned detector (None: TRIAGE_MODEL
    off); `classifier`: the AI's classification call (None: no AI or TRIAGE_AI off)."""

    def __init__(
        self,
        rules: RuleSet,
        classifier: ZoneClassifier | None = None,
        model: TriageModel | None = None,
    ) -> None:
        self.rules = rules
        self.classifier = classifier
        self.model = model
        # Every run reads the session's last user turns again for a red one among them,
        # the messages of earlier runs: their verdicts are kept.
        self._known = RedTurns(rules)

    async def __call__(
        self, question: str, history: Sequence[str] = (), *, ask_model: bool = True
    ) -> ZoneCall:
        by_rules = classify(question, history, self.rules, known=self._known)
        if by_rules.zone is Zone.RED:
            return by_rules
        found = self._with_learned(question, by_rules)
        if found.zone is Zone.RED or self.classifier is None or not ask_model:
            return found
        try:
            by_ai = await self.classifier.classify(question)
        except Exception as exc:  # any failure of the AI: the rules and the detector decide
            log.warning("triage.model_failed", error_type=type(exc).__name__)
            return found
        if by_ai.rank > found.zone.rank:
            return ZoneCall(zone=by_ai, rules=found.rules, source="ai")
        return found

    def _with_learned(self, question: str, by_rules: ZoneCall) -> ZoneCall:
        if self.model is None:
            return by_rules
        zone = self.model.raise_zone(by_rules.zone, question)
        if zone is by_rules.zone:
            return by_rules
        return ZoneCall(zone=zone, rules=(*by_rules.rules, MODEL_RULE), source="model")
