"""The triage a conversation runs (AI7): the firm's rules, and where an AI is configured a
model's opinion beside them.

- red by rule wins at once: no model is asked (no text of a person in danger leaves, and no
  wait for an answer);
- otherwise the higher of the rules' zone and the model's (a model may raise a question to
  yellow or red, never lower what a rule found);
- the model failing in any way (unavailable, timeout, an answer that is not a zone) leaves the
  rules' zone: triage never fails a run.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from wagate.domain.triage_rules import RuleSet, classify
from wagate.domain.zones import Zone, ZoneCall
from wagate.pipeline.ports import ZoneClassifier

log = structlog.get_logger(__name__)


class RulesAndModelTriage:
    """A ZoneTriage (pipeline/ports.py)."""

    def __init__(self, rules: RuleSet, classifier: ZoneClassifier | None = None) -> None:
        self.rules = rules
        self.classifier = classifier

    async def __call__(
        self, question: str, history: Sequence[str] = (), *, ask_model: bool = True
    ) -> ZoneCall:
        by_rules = classify(question, history, self.rules)
        if by_rules.zone is Zone.RED or self.classifier is None or not ask_model:
            return by_rules
        try:
            by_model = await self.classifier.classify(question)
        except Exception as exc:  # any failure of the model: the rules decide alone
            log.warning("triage.model_failed", error_type=type(exc).__name__)
            return by_rules
        if by_model.rank > by_rules.zone.rank:
            return ZoneCall(zone=by_model, rules=by_rules.rules, source="ai")
        return by_rules
