"""`wagate doctor`: is this gateway ready to go live? It checks the configuration, the database,
the encryption keys, the providers' credentials (without sending anything), the AI endpoint and
the public URL, prints a checklist and what is missing, and exits 0 only when nothing is."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from wagate.cli.common import run_async
from wagate.domain.readiness import PRODUCTION_GUIDE, Checklist, Finding, Verdict

# Exit codes: 0 ready, 1 something missing or failing, 2 the settings cannot be loaded at all.
SETTINGS_INVALID = 2

_LABELS = {
    Verdict.OK: ("ok", "green"),
    Verdict.WARN: ("warn", "yellow"),
    Verdict.MISSING: ("MISSING", "red"),
    Verdict.FAILED: ("FAILED", "red"),
    Verdict.SKIPPED: ("skipped", "bright_black"),
}


def doctor(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the findings as JSON instead of a checklist.")
    ] = False,
) -> None:
    """Check what going live needs and list what is missing. Exit code 0 only when nothing
    is missing or failing (1 otherwise; 2 when the settings cannot be loaded)."""
    # Imported here: `wagate --help` must not load the settings or logging (the first hour).
    from wagate.observability.logs import configure_logging
    from wagate.settings import ConfigurationError, load_settings

    try:
        settings = load_settings()
        configure_logging("WARNING", settings.wagate_log_format)
        from wagate.wiring import build_doctor

        examination = build_doctor(settings)
    except ConfigurationError as exc:
        _print(invalid_settings(str(exc)), as_json=as_json)
        raise typer.Exit(code=SETTINGS_INVALID) from exc
    checklist = run_async(examination.examine())
    _print(checklist, as_json=as_json)
    raise typer.Exit(code=checklist.exit_code)


def invalid_settings(message: str) -> Checklist:
    """One finding per problem the settings reported (they come joined by "; ")."""
    problems = message.removeprefix("invalid configuration: ").split("; ")
    return Checklist(
        tuple(
            Finding(
                area="configuration",
                check="settings",
                verdict=Verdict.FAILED,
                detail=problem,
                fix="fix the environment (or .env) and run `wagate doctor` again",
            )
            for problem in problems
            if problem.strip()
        )
    )


def _print(checklist: Checklist, *, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(checklist.as_json(), indent=2, ensure_ascii=False))
        return
    for line in render(checklist):
        typer.echo(line)


def render(checklist: Checklist) -> list[str]:
    """The checklist as lines for a terminal (colours are dropped when not on one)."""
    width = max((len(f.check) for f in checklist.findings), default=10)
    lines = ["wagate doctor: what going live needs", ""]
    for area in checklist.areas():
        lines.append(typer.style(area, bold=True))
        for finding in (f for f in checklist.findings if f.area == area):
            label, colour = _LABELS[finding.verdict]
            tag = typer.style(f"{label:<8}", fg=colour, bold=finding.blocking)
            lines.append(f"  {tag} {finding.check:<{width}}  {finding.detail}".rstrip())
            if finding.fix:
                lines.append(f"  {'':<8} {'':<{width}}  → {finding.fix}")
        lines.append("")
    blocking = checklist.blocking
    if not blocking:
        lines.append(
            typer.style("Ready to go live.", fg="green", bold=True)
            + " Next, after starting the gateway: `wagate smoke-test <your phone number>`."
        )
        return lines
    count = f"{len(blocking)} thing{'s' if len(blocking) != 1 else ''}"
    lines.append(typer.style(f"Not ready: {count} missing or failing", fg="red", bold=True))
    for number, finding in enumerate(blocking, start=1):
        lines.append(f"  {number}. {finding.area}: {finding.check} ({finding.verdict.value})")
    lines.append(f"See {PRODUCTION_GUIDE}.")
    return lines
