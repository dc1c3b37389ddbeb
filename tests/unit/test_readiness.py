"""What `wagate doctor` concludes from the settings and the database (pure rules), and how its
service runs the probes: every finding kept, a probe's crash or silence a FAILED finding, and
the exit code 0 only when nothing blocks."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pytest

from wagate.domain.readiness import (
    Checklist,
    DatabaseFacts,
    Finding,
    LiveFacts,
    Verdict,
    configuration_findings,
    database_findings,
)
from wagate.pipeline.readiness import Doctor

LIVE = LiveFacts(
    meta_app=True,
    meta_number=True,
    fonnte=False,
    ai=True,
    public_url="https://wa.example.co.id",
    external_database=True,
    forwarded_allow_ips=True,
    out_of_window_template=True,
    smtp=True,
)
SANDBOX = LiveFacts(meta_app=False, meta_number=False, fonnte=False)


def by_check(findings: Sequence[Finding]) -> dict[str, Finding]:
    return {f.check: f for f in findings}


def test_a_complete_configuration_blocks_nothing() -> None:
    findings = configuration_findings(LIVE)
    assert [f for f in findings if f.verdict is not Verdict.OK] == []
    assert Checklist(tuple(findings)).exit_code == 0


def test_sandbox_mode_names_the_provider_the_ai_and_the_public_url_as_missing() -> None:
    checklist = Checklist(tuple(configuration_findings(SANDBOX)))
    missing = {f.check for f in checklist.blocking}
    assert missing == {"WhatsApp provider", "AI endpoint", "public URL"}
    assert checklist.exit_code == 1
    provider = by_check(checklist.findings)["WhatsApp provider"]
    assert "META_ACCESS_TOKEN" in provider.fix and "FONNTE_TOKEN" in provider.fix
    assert "sandbox" in provider.detail


def test_a_plain_http_public_url_is_missing_https() -> None:
    finding = by_check(configuration_findings(replace(LIVE, public_url="http://wa.example")))[
        "public URL"
    ]
    assert finding.verdict is Verdict.MISSING
    assert "HTTPS" in finding.detail


def test_behind_a_tls_proxy_without_forwarded_allow_ips_is_a_warning_about_cookies() -> None:
    findings = by_check(configuration_findings(replace(LIVE, forwarded_allow_ips=False)))
    proxy = findings["reverse proxy"]
    assert proxy.verdict is Verdict.WARN
    assert "FORWARDED_ALLOW_IPS" in proxy.fix
    assert "Secure" in proxy.detail
    secure = by_check(
        configuration_findings(replace(LIVE, forwarded_allow_ips=False, console_secure_cookie=True))
    )["reverse proxy"]
    assert "Secure" not in secure.detail


def test_warnings_do_not_block() -> None:
    facts = replace(LIVE, external_database=False, smtp=False, out_of_window_template=False)
    findings = configuration_findings(facts)
    assert {f.check for f in findings if f.verdict is Verdict.WARN} == {
        "database",
        "e-mail",
        "out-of-window template",
    }
    assert Checklist(tuple(findings)).ready


def test_fonnte_alone_is_a_provider_and_needs_no_meta_template() -> None:
    facts = replace(LIVE, meta_app=False, meta_number=False, fonnte=True)
    findings = by_check(configuration_findings(facts))
    assert findings["WhatsApp provider"].detail == "Fonnte"
    assert "out-of-window template" not in findings


FACTS = DatabaseFacts(
    server_version=150004,
    max_connections=100,
    connections=7,
    revision="0016",
    available_extensions=frozenset({"pg_trgm", "vector"}),
    installed_extensions=frozenset({"pg_trgm"}),
)
KNOWN = ("0015", "0016")


def db(facts: DatabaseFacts, *, embeddings: bool = False) -> dict[str, Finding]:
    return by_check(
        database_findings(facts, head="0016", known_revisions=KNOWN, embeddings=embeddings)
    )


def test_a_database_at_head_with_pg_trgm_is_fine() -> None:
    findings = db(FACTS)
    assert all(f.verdict is Verdict.OK for f in findings.values())
    assert "PostgreSQL 15.4" in findings["server"].detail
    assert "7 of max_connections 100" in findings["server"].detail


@pytest.mark.parametrize(
    ("revision", "verdict", "words"),
    [
        (None, Verdict.MISSING, "wagate migrate"),
        ("0015", Verdict.MISSING, "wagate migrate"),
        ("0099_future", Verdict.FAILED, "upgrade"),
    ],
)
def test_migrations_not_at_head(revision: str | None, verdict: Verdict, words: str) -> None:
    finding = db(replace(FACTS, revision=revision))["migrations"]
    assert finding.verdict is verdict
    assert words in finding.fix


def test_an_old_server_and_a_missing_pg_trgm_fail() -> None:
    old = db(replace(FACTS, server_version=140010))["server"]
    assert old.verdict is Verdict.FAILED
    bare = db(replace(FACTS, available_extensions=frozenset(), installed_extensions=frozenset()))
    assert bare["pg_trgm"].verdict is Verdict.FAILED


def test_embeddings_need_pgvector_installed() -> None:
    assert db(FACTS, embeddings=True)["pgvector"].verdict is Verdict.MISSING
    installed = replace(FACTS, installed_extensions=frozenset({"pg_trgm", "vector"}))
    assert db(installed, embeddings=True)["pgvector"].verdict is Verdict.OK
    assert "pgvector" not in db(FACTS)


def test_a_degraded_channel_fails_and_says_how_to_replace_the_token() -> None:
    facts = replace(
        FACTS,
        unhealthy_channels=(
            ("firm-a", "meta", "123", "degraded", "token refused (190)"),
            ("default", "fonnte", "628", "open", ""),
        ),
    )
    findings = db(facts)
    degraded = findings["channel meta/123 of firm-a"]
    assert degraded.verdict is Verdict.FAILED
    assert "wagate --tenant firm-a tenants set-token meta" in degraded.fix
    assert findings["channel fonnte/628 of default"].verdict is Verdict.WARN


# ---------------------------------------------------------------- the service


@dataclass
class Answering:
    area: str
    findings: tuple[Finding, ...]

    async def run(self) -> Sequence[Finding]:
        await asyncio.sleep(0)
        return self.findings


@dataclass
class Crashing:
    area: str = "database"

    async def run(self) -> Sequence[Finding]:
        raise RuntimeError("boom")


@dataclass
class Silent:
    area: str = "ai"

    async def run(self) -> Sequence[Finding]:
        await asyncio.sleep(10)
        return []


async def test_the_doctor_keeps_every_probes_findings_after_the_configuration() -> None:
    ok = Finding(area="meta", check="access token", verdict=Verdict.OK, detail="number")
    checklist = await Doctor(facts=LIVE, probes=[Answering("meta", (ok,))]).examine()
    assert checklist.findings[-1] == ok
    assert checklist.areas() == ("configuration", "meta")
    assert checklist.exit_code == 0


async def test_a_probe_that_crashes_or_stays_silent_is_a_failed_finding() -> None:
    doctor = Doctor(facts=LIVE, probes=[Crashing(), Silent()], timeout_seconds=0.05)
    checklist = await doctor.examine()
    failed = {f.area: f for f in checklist.blocking}
    assert "RuntimeError: boom" in failed["database"].detail
    assert "no answer within 0.05 s" in failed["ai"].detail
    assert checklist.exit_code == 1


def test_the_checklist_as_json() -> None:
    finding = Finding(area="keys", check="master keys", verdict=Verdict.MISSING, fix="start")
    document = Checklist((finding,)).as_json()
    assert document == {
        "ready": False,
        "findings": [
            {
                "area": "keys",
                "check": "master keys",
                "verdict": "missing",
                "detail": "",
                "fix": "start",
            }
        ],
    }
