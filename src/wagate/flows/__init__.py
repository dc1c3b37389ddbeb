"""The WhatsApp Flows wagate ships (FL1): Flow JSON a firm uploads to Meta as it is, or adapts.

`case_intake.json` registers a case: name, NIK, contact, case type, a short story and
documents, then sends them back in its completion, which the gateway turns into an intake
record (`wagate.domain.case_intake`). `wagate intakes flow` prints it for uploading; Meta
gives the published Flow an id, which goes into `INTAKE_FLOW_ID`. The file ships in the wheel
as package data (pyproject.toml).
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

CASE_INTAKE_FLOW = "case_intake.json"


def case_intake_flow_text() -> str:
    """The case-intake Flow JSON as shipped (for printing and uploading)."""
    return (files(__name__) / CASE_INTAKE_FLOW).read_text(encoding="utf-8")


def case_intake_flow() -> dict[str, Any]:
    """The case-intake Flow JSON, parsed."""
    document: dict[str, Any] = json.loads(case_intake_flow_text())
    return document
