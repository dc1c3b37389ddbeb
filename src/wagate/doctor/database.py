"""The database: reachable, recent enough, migrated to this version's head, the extensions the
migrations use, no channel whose token was refused, and keys that open its data keys."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

from wagate.doctor.keys import KeySource, keys_open_database
from wagate.domain.readiness import Finding, Verdict, database_findings
from wagate.storage import migrate, readiness
from wagate.storage.embedded import EmbeddedPostgres

AREA = "database"


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseProbe:
    owner_url: str | None  # DATABASE_URL; None: the embedded server in the data dir
    data_dir: Path
    keys: KeySource
    embeddings: bool  # AI_EMBEDDING_MODEL is set: pgvector is needed
    area: str = AREA

    async def run(self) -> Sequence[Finding]:
        embedded: EmbeddedPostgres | None = None
        url = self.owner_url
        if url is None:
            if not (self.data_dir / "pg").is_dir():
                return [
                    Finding(
                        area=AREA,
                        check="embedded server",
                        verdict=Verdict.MISSING,
                        detail=f"no embedded database yet in {(self.data_dir / 'pg').resolve()}",
                        fix="start `wagate serve` once, or set DATABASE_URL to your PostgreSQL",
                    )
                ]
            # Attaches to the server a running gateway started, or starts it for this look.
            embedded = EmbeddedPostgres(self.data_dir)
            url = await asyncio.to_thread(embedded.start)
        try:
            look = await readiness.look(url)
        except psycopg.OperationalError as exc:
            return [
                Finding(
                    area=AREA,
                    check="connection",
                    verdict=Verdict.FAILED,
                    detail=_first_line(str(exc)) or type(exc).__name__,
                    fix="check DATABASE_URL: host, port, database, user, password, sslmode",
                )
            ]
        finally:
            if embedded is not None:
                await asyncio.to_thread(embedded.stop)
        findings = database_findings(
            look.facts,
            head=migrate.head_revision(),
            known_revisions=migrate.known_revisions(),
            embeddings=self.embeddings,
        )
        if look.facts.revision is not None:
            findings.append(keys_open_database(self.keys.keyring(), look.wrapped_keys))
        return findings


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
