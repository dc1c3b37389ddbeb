"""`build_zone_triage`: the ZoneTriage the composition root hands the conversation (AI7).

Apart from the loader (`wagate.triage_rules`) because the settings check imports the loader,
and this module imports adapters the settings may not reach. It reads the settings it needs
through `TriageSettings` rather than importing `wagate.settings` (which would close a circle).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from wagate.assistants.zone_classifier import AssistantZoneClassifier
from wagate.domain.assistant_port import Assistant
from wagate.pipeline.ports import ZoneTriage
from wagate.pipeline.zone_triage import RulesAndModelTriage
from wagate.triage_rules import load_rule_set, load_triage_model


class TriageSettings(Protocol):
    @property
    def triage_rules_file(self) -> Path | None: ...
    @property
    def triage_ai(self) -> bool: ...
    @property
    def triage_ai_timeout_seconds(self) -> float: ...
    @property
    def triage_model(self) -> bool: ...


def build_zone_triage(settings: TriageSettings, ai: Assistant | None) -> ZoneTriage:
    """Rules from the packaged defaults and TRIAGE_RULES_FILE; the shipped learned detector
    beside them unless TRIAGE_MODEL is off; `ai` (None: no AI, also when TRIAGE_AI is off)
    classifies beside them within TRIAGE_AI_TIMEOUT_SECONDS. Build `ai` with
    `assistants.zone_classifier.classifier_assistant` (temperature 0, a few tokens).

    Raises TriageRulesError for a bad rules file and TriageModelError for unusable shipped
    weights (the settings check has reported either already)."""
    rules = load_rule_set(settings.triage_rules_file)
    model = load_triage_model() if settings.triage_model else None
    classifier = None
    if ai is not None and settings.triage_ai:
        classifier = AssistantZoneClassifier(ai, timeout_seconds=settings.triage_ai_timeout_seconds)
    return RulesAndModelTriage(rules, classifier, model)
