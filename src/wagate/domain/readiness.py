"""Is this gateway ready to go live? The findings `wagate doctor` prints, and the rules that
judge what the configuration and the database say (pure: the probes that ask the outside world
live in `wagate.doctor`, the service that runs them in `wagate.pipeline.readiness`).

A finding is one line of the checklist: an area ("configuration", "database", "meta" …), what
was checked, a verdict, what was seen and, unless it is fine, what to do. Only MISSING and
FAILED block going live; WARN is worth reading but does not change the exit code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

PRODUCTION_GUIDE = "docs/production.md"


class Verdict(StrEnum):
    OK = "ok"
    WARN = "warn"  # works, but read this before going live
    MISSING = "missing"  # something going live needs has not been set up
    FAILED = "failed"  # set up, but it does not work (refused, unreachable, wrong)
    SKIPPED = "skipped"  # could not be checked here (and says why)


BLOCKING = frozenset({Verdict.MISSING, Verdict.FAILED})


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    area: str
    check: str
    verdict: Verdict
    detail: str = ""
    fix: str = ""  # what to do; empty when nothing is to be done

    @property
    def blocking(self) -> bool:
        return self.verdict in BLOCKING


@dataclass(frozen=True, slots=True)
class Checklist:
    findings: tuple[Finding, ...] = ()

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocking)

    @property
    def ready(self) -> bool:
        return not self.blocking

    @property
    def exit_code(self) -> int:
        """0 only when nothing is missing or failing."""
        return 0 if self.ready else 1

    def areas(self) -> tuple[str, ...]:
        """The areas in the order they were first reported."""
        return tuple(dict.fromkeys(f.area for f in self.findings))

    def as_json(self) -> dict[str, object]:
        return {
            "ready": self.ready,
            "findings": [
                {
                    "area": f.area,
                    "check": f.check,
                    "verdict": f.verdict.value,
                    "detail": f.detail,
                    "fix": f.fix,
                }
                for f in self.findings
            ],
        }


# ---------------------------------------------------------------- the configuration


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveFacts:
    """What the settings say, as far as going live is concerned (no secret, no value beyond
    the public URL)."""

    meta_app: bool  # META_APP_SECRET and META_WEBHOOK_VERIFY_TOKEN
    meta_number: bool  # META_ACCESS_TOKEN and META_PHONE_NUMBER_ID
    fonnte: bool
    plugins: tuple[str, ...] = ()
    ai: bool = False
    public_url: str | None = None
    external_database: bool = False
    forwarded_allow_ips: bool = False
    console_enabled: bool = True
    console_secure_cookie: bool = False
    out_of_window_template: bool = False
    smtp: bool = False
    keys_from_environment: bool = False

    @property
    def any_provider(self) -> bool:
        return self.meta_app or self.fonnte or bool(self.plugins)


_CONFIG = "configuration"


def configuration_findings(facts: LiveFacts) -> list[Finding]:
    """What the settings alone say is missing for production."""
    return [
        _providers(facts),
        *_meta_without_number(facts),
        _ai(facts),
        _public_url(facts),
        *_proxy(facts),
        _database(facts),
        *_templates(facts),
        _mail(facts),
    ]


def _providers(facts: LiveFacts) -> Finding:
    if not facts.any_provider:
        return Finding(
            area=_CONFIG,
            check="WhatsApp provider",
            verdict=Verdict.MISSING,
            detail="no provider credentials: `wagate serve` would start in sandbox mode",
            fix="Meta: set META_APP_SECRET, META_WEBHOOK_VERIFY_TOKEN, META_ACCESS_TOKEN and "
            "META_PHONE_NUMBER_ID; or Fonnte: FONNTE_TOKEN and FONNTE_WEBHOOK_SECRET "
            f"(see {PRODUCTION_GUIDE})",
        )
    names = [
        *(["Meta Cloud API"] if facts.meta_app else []),
        *(["Fonnte"] if facts.fonnte else []),
        *facts.plugins,
    ]
    return Finding(
        area=_CONFIG, check="WhatsApp provider", verdict=Verdict.OK, detail=", ".join(names)
    )


def _meta_without_number(facts: LiveFacts) -> list[Finding]:
    if not facts.meta_app or facts.meta_number:
        return []
    return [
        Finding(
            area=_CONFIG,
            check="Meta number",
            verdict=Verdict.WARN,
            detail="the Meta app is set but the default tenant has no number: only tenants' "
            "own numbers (wagate tenants channel-add) are answered",
            fix="set META_ACCESS_TOKEN and META_PHONE_NUMBER_ID for a number of your own",
        )
    ]


def _ai(facts: LiveFacts) -> Finding:
    if facts.ai:
        return Finding(area=_CONFIG, check="AI endpoint", verdict=Verdict.OK, detail="configured")
    return Finding(
        area=_CONFIG,
        check="AI endpoint",
        verdict=Verdict.MISSING,
        detail="none configured: answers would come from the offline assistant (passages of "
        "the knowledge base only)",
        fix="set AI_BASE_URL (or only AI_API_KEY for OpenRouter) and AI_MODEL",
    )


def _public_url(facts: LiveFacts) -> Finding:
    url = facts.public_url
    if not url:
        return Finding(
            area=_CONFIG,
            check="public URL",
            verdict=Verdict.MISSING,
            detail="PUBLIC_URL is not set: the webhook's reachability cannot be checked and "
            "alert mails carry no console link",
            fix="set PUBLIC_URL to the https address Meta and Fonnte call "
            "(e.g. https://wa.example.co.id)",
        )
    if not url.lower().startswith("https://"):
        return Finding(
            area=_CONFIG,
            check="public URL",
            verdict=Verdict.MISSING,
            detail=f"{url} is plain HTTP: Meta calls only HTTPS callback URLs",
            fix="put a TLS reverse proxy in front of the gateway (deploy/caddy, deploy/nginx) "
            "and set PUBLIC_URL to its https address",
        )
    return Finding(area=_CONFIG, check="public URL", verdict=Verdict.OK, detail=url)


def _proxy(facts: LiveFacts) -> list[Finding]:
    behind_tls_proxy = bool(facts.public_url and facts.public_url.lower().startswith("https://"))
    if not behind_tls_proxy or facts.forwarded_allow_ips:
        return []
    cookie = (
        ""
        if facts.console_secure_cookie or not facts.console_enabled
        else "; the console's cookie is not marked Secure (unless CONSOLE_SECURE_COOKIE=true)"
    )
    return [
        Finding(
            area=_CONFIG,
            check="reverse proxy",
            verdict=Verdict.WARN,
            detail="FORWARDED_ALLOW_IPS is empty: every request looks like plain HTTP from the "
            f"proxy's address (FONNTE_ALLOWED_IPS sees the proxy, not Fonnte){cookie}",
            fix="set FORWARDED_ALLOW_IPS to the proxy's address (127.0.0.1 on the same host)",
        )
    ]


def _database(facts: LiveFacts) -> Finding:
    if facts.external_database:
        return Finding(
            area=_CONFIG, check="database", verdict=Verdict.OK, detail="external (DATABASE_URL)"
        )
    return Finding(
        area=_CONFIG,
        check="database",
        verdict=Verdict.WARN,
        detail="embedded PostgreSQL in the data dir: fine on one machine; back it up with "
        "pg_dump, and use DATABASE_URL to run on several machines",
    )


def _templates(facts: LiveFacts) -> list[Finding]:
    if not facts.meta_app or facts.out_of_window_template:
        return []
    return [
        Finding(
            area=_CONFIG,
            check="out-of-window template",
            verdict=Verdict.WARN,
            detail="no template has purpose out_of_window: a reply after the 24-hour window "
            "waits as failed instead of going out as a template",
            fix='add an approved template to WHATSAPP_TEMPLATES with "purpose": "out_of_window"',
        )
    ]


def _mail(facts: LiveFacts) -> Finding:
    if facts.smtp:
        return Finding(area=_CONFIG, check="e-mail", verdict=Verdict.OK, detail="SMTP configured")
    return Finding(
        area=_CONFIG,
        check="e-mail",
        verdict=Verdict.WARN,
        detail="no SMTP: on-duty staff are not mailed when a conversation needs a human now, "
        "and undeliverable messages get no e-mail fallback",
        fix="set SMTP_HOST, SMTP_FROM (and URGENT_NOTIFY_EMAILS)",
    )


# ---------------------------------------------------------------- the database


# The oldest PostgreSQL wagate supports (the README's "external PostgreSQL ≥ 15"); the tests
# and the embedded server run 15 or later.
MIN_SERVER_VERSION = 150000


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseFacts:
    """What a read-only look at the database showed (see storage/readiness.py)."""

    server_version: int  # server_version_num, e.g. 150004
    max_connections: int
    connections: int  # open now, on the whole server
    revision: str | None  # alembic's, None before any migration
    available_extensions: frozenset[str] = frozenset()
    installed_extensions: frozenset[str] = frozenset()
    # Channels whose token the provider refused or whose breaker is open: (tenant, provider,
    # channel, state, reason).
    unhealthy_channels: tuple[tuple[str, str, str, str, str], ...] = ()

    @property
    def version_text(self) -> str:
        return f"{self.server_version // 10000}.{self.server_version % 10000}"


_DB = "database"


def database_findings(
    facts: DatabaseFacts, *, head: str, known_revisions: Iterable[str], embeddings: bool
) -> list[Finding]:
    """`head`: the revision this code expects; `embeddings`: AI_EMBEDDING_MODEL is set (it
    needs pgvector)."""
    return [
        _server(facts),
        _revision(facts, head=head, known=frozenset(known_revisions)),
        *_extensions(facts, embeddings=embeddings),
        *_channels(facts),
    ]


def _server(facts: DatabaseFacts) -> Finding:
    detail = (
        f"PostgreSQL {facts.version_text}; {facts.connections} of max_connections "
        f"{facts.max_connections} in use"
    )
    if facts.server_version < MIN_SERVER_VERSION:
        return Finding(
            area=_DB,
            check="server",
            verdict=Verdict.FAILED,
            detail=detail,
            fix="use PostgreSQL 15 or later",
        )
    return Finding(area=_DB, check="server", verdict=Verdict.OK, detail=detail)


def _revision(facts: DatabaseFacts, *, head: str, known: frozenset[str]) -> Finding:
    if facts.revision == head:
        return Finding(area=_DB, check="migrations", verdict=Verdict.OK, detail=f"at {head}")
    if facts.revision is None:
        return Finding(
            area=_DB,
            check="migrations",
            verdict=Verdict.MISSING,
            detail="no tables yet",
            fix="run `wagate migrate` (or start `wagate serve` once)",
        )
    if facts.revision not in known:
        return Finding(
            area=_DB,
            check="migrations",
            verdict=Verdict.FAILED,
            detail=f"at {facts.revision}, which this version of wagate does not know (it "
            f"expects {head}): a newer wagate migrated it",
            fix="upgrade this installation to the version that migrated the database",
        )
    return Finding(
        area=_DB,
        check="migrations",
        verdict=Verdict.MISSING,
        detail=f"at {facts.revision}, this version expects {head}",
        fix="run `wagate migrate` (serve also migrates on start)",
    )


def _extensions(facts: DatabaseFacts, *, embeddings: bool) -> list[Finding]:
    findings = []
    if "pg_trgm" in facts.installed_extensions:
        findings.append(Finding(area=_DB, check="pg_trgm", verdict=Verdict.OK, detail="installed"))
    elif "pg_trgm" in facts.available_extensions:
        findings.append(
            Finding(
                area=_DB,
                check="pg_trgm",
                verdict=Verdict.OK,
                detail="available (the migrations create it)",
            )
        )
    else:
        findings.append(
            Finding(
                area=_DB,
                check="pg_trgm",
                verdict=Verdict.FAILED,
                detail="not available on this server: the knowledge base's migration needs it",
                fix="install PostgreSQL's contrib package (or allow pg_trgm on the managed "
                "service)",
            )
        )
    vector = "vector" in facts.installed_extensions
    if embeddings and not vector:
        findings.append(
            Finding(
                area=_DB,
                check="pgvector",
                verdict=Verdict.MISSING,
                detail="AI_EMBEDDING_MODEL is set but the vector extension is not installed: "
                "retrieval falls back to words alone",
                fix="install pgvector and create it as a superuser (CREATE EXTENSION vector) "
                "before the first migration, or unset AI_EMBEDDING_MODEL",
            )
        )
    elif vector:
        findings.append(Finding(area=_DB, check="pgvector", verdict=Verdict.OK, detail="installed"))
    return findings


def _channels(facts: DatabaseFacts) -> list[Finding]:
    findings = []
    for tenant, provider, channel, state, reason in facts.unhealthy_channels:
        degraded = state == "degraded"
        findings.append(
            Finding(
                area=_DB,
                check=f"channel {provider}/{channel} of {tenant}",
                verdict=Verdict.FAILED if degraded else Verdict.WARN,
                detail=f"{state}: {reason}" if reason else state,
                fix=f"replace the token: wagate --tenant {tenant} tenants set-token {provider}"
                if degraded
                else "the circuit breaker reopens by itself; see `wagate tenants status`",
            )
        )
    return findings
