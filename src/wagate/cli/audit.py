"""`wagate audit …`: check the audit chain and export it (CP3)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer

from wagate.cli.common import operate
from wagate.domain.audit import AuditEntry
from wagate.pipeline.operator import CLI

audit_app = typer.Typer(no_args_is_help=True, help="Verify and export the audit trail.")

COLUMNS = (
    "seq", "tenant", "at", "action", "actor", "subject", "details", "redactedAt",
    "detailsHash", "contentHash", "prevHash", "hash",
)  # fmt: skip


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


def parse_time(value: str | None) -> datetime | None:
    """ISO 8601 date or time; without a zone it is UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO 8601 date or time: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _anchor(value: str) -> tuple[int, str]:
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise typer.BadParameter(f"an anchor is SEQ:HASH (64 hex digits), got {value!r}")
    return int(seq), digest.lower()


@audit_app.command("verify")
def verify(
    anchor: Annotated[
        list[str] | None,
        typer.Option(help="SEQ:HASH recorded earlier elsewhere; the chain must still hold it."),
    ] = None,
) -> None:
    """Recompute the hash chain: exit 0 if intact, 1 naming the first broken entry."""
    anchors = dict(_anchor(a) for a in anchor or [])

    report = operate(lambda op: op.trail.verify(anchors, by=CLI))
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(code=1)


@audit_app.command("export")
def export(
    since: Annotated[str | None, typer.Option(help="From this time (ISO 8601, inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Until this time (ISO 8601, excl.).")] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.JSONL,
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Export entries in seq order with their hashes (time filters use each entry's `at`)."""
    start, end = parse_time(since), parse_time(until)

    with ExitStack() as stack:
        stream: TextIO = (
            stack.enter_context(output.open("w", encoding="utf-8", newline=""))
            if output
            else sys.stdout
        )
        write = _writer(stream, fmt)
        count = operate(
            lambda op: op.trail.export(
                write, by=CLI, fmt=fmt.value, since=start, until=end, to_file=output is not None
            )
        )
        stream.flush()
    if output is not None:
        typer.echo(f"exported {count} entries to {output}", err=True)


def _writer(stream: TextIO, fmt: ExportFormat) -> Callable[[AuditEntry], None]:
    if fmt is ExportFormat.JSONL:

        def write_json(entry: AuditEntry) -> None:
            stream.write(json.dumps(entry.as_json(), ensure_ascii=False) + "\n")

        return write_json
    table = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
    table.writeheader()

    def write_row(entry: AuditEntry) -> None:
        row = entry.as_json()
        row["details"] = json.dumps(row["details"], ensure_ascii=False, sort_keys=True)
        table.writerow(row)

    return write_row
