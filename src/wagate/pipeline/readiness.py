"""`wagate doctor`'s service: the configuration's findings, then every probe at once, each
within a time limit, into one checklist. A probe that fails in a way it did not foresee (an
exception, no answer in time) becomes a FAILED finding of its area: the doctor itself never
crashes on what it examines."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from wagate.domain.readiness import (
    Checklist,
    Finding,
    LiveFacts,
    Verdict,
    configuration_findings,
)


class Probe(Protocol):
    """One outside thing to ask (the database, a provider, the AI endpoint, the public URL),
    without changing or sending anything."""

    @property
    def area(self) -> str: ...

    async def run(self) -> Sequence[Finding]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Doctor:
    facts: LiveFacts
    probes: Sequence[Probe]
    timeout_seconds: float = 20.0

    async def examine(self) -> Checklist:
        findings = configuration_findings(self.facts)
        answers = await asyncio.gather(*(self._ask(probe) for probe in self.probes))
        for answer in answers:
            findings.extend(answer)
        return Checklist(tuple(findings))

    async def _ask(self, probe: Probe) -> Sequence[Finding]:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return await probe.run()
        except TimeoutError:
            detail = f"no answer within {self.timeout_seconds:g} s"
        except Exception as exc:  # a probe's surprise is a finding, not a crash
            detail = f"the check itself failed: {type(exc).__name__}: {exc}"
        return [Finding(area=probe.area, check=probe.area, verdict=Verdict.FAILED, detail=detail)]
