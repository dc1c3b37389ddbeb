"""The start banner `wagate serve` prints once it listens: where it is, whether WhatsApp is
real (live) or the built-in fake (sandbox) and over which channels, where its data and API
token are, where the console is and as whom to sign in, and what to do next.

`StartFacts` is everything the banner says; `start_facts` gathers it from the settings and the
opened gateway; `banner` (pure) words it; `log_fields` is the same facts for the
`gateway.started` log event, without the sandbox admin's password.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wagate import __version__
from wagate.runtime.sandbox import loopback
from wagate.runtime.sandbox_file import SANDBOX_FILE
from wagate.settings import Settings
from wagate.wiring import Gateway

_LABEL_WIDTH = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class StartFacts:
    url: str
    sandbox: bool
    channels: tuple[str, ...]  # provider names ("meta", "fonnte", a plugin's)
    webhooks: tuple[str, ...]  # their URLs on this server, path secrets as `{secret}`
    worker: bool
    ai_model: str | None  # None: the offline assistant (knowledge base only)
    data_dir: Path
    embedded_database: bool
    api_token_from: str  # a file, or "WAGATE_API_TOKEN"
    console_url: str | None  # None: CONSOLE_ENABLED=false
    # Sandbox: (user, password) of the admin made at this start; None when it existed before.
    sign_in: tuple[str, str] | None = None
    debounce_seconds: float = 0.0
    version: str = __version__


def start_facts(
    settings: Settings,
    gateway: Gateway,
    *,
    host: str,
    port: int,
    worker: bool,
    sign_in: tuple[str, str] | None = None,
) -> StartFacts:
    url = f"http://{loopback(host)}:{port}"
    routes = gateway.web.webhooks.routes
    channels = tuple(dict.fromkeys(str(name) for name, _ in routes))
    token_file = settings.wagate_data_dir.resolve() / "api-token"
    return StartFacts(
        url=url,
        sandbox=settings.sandbox_active,
        channels=channels,
        webhooks=tuple(f"{url}{route.path}" for _, route in routes if "POST" in route.methods),
        worker=worker,
        ai_model=settings.ai_model if settings.ai_configured else None,
        data_dir=settings.wagate_data_dir.resolve(),
        embedded_database=gateway.embedded is not None,
        api_token_from="WAGATE_API_TOKEN" if settings.wagate_api_token else str(token_file),
        console_url=f"{url}/console" if gateway.web.console is not None else None,
        sign_in=sign_in,
        debounce_seconds=settings.debounce_seconds,
    )


def banner(facts: StartFacts) -> str:
    """The banner's lines, one fact a line, labels aligned; no colour, no secrets but the
    sandbox admin's first password (which is what the sandbox is for)."""
    if facts.sandbox:
        title = (
            f"wagate {facts.version} · SANDBOX: WhatsApp is a built-in fake, nothing leaves "
            "this machine"
        )
    else:
        title = f"wagate {facts.version} · LIVE on {', '.join(facts.channels) or 'no channel'}"
    rows: list[tuple[str, str]] = [("URL", facts.url)]
    if facts.sandbox:
        rows.append(
            (
                "Channels",
                "sandbox (a fake Meta number); set META_* or FONNTE_* to go live",
            )
        )
    else:
        rows.append(("Channels", ", ".join(facts.channels) or "none"))
        rows += [("Webhook", webhook) for webhook in facts.webhooks]
    rows.append(("AI", _ai(facts)))
    rows.append(("Debounce", f"answers come {facts.debounce_seconds:g} s after the last message"))
    if facts.console_url is not None:
        rows.append(("Console", f"{facts.console_url} — {_console_sign_in(facts)}"))
    rows.append(("Data", str(facts.data_dir)))
    rows.append(
        (
            "Database",
            f"embedded PostgreSQL in {facts.data_dir / 'pg'}"
            if facts.embedded_database
            else "DATABASE_URL",
        )
    )
    rows.append(("API token", facts.api_token_from))
    if not facts.worker:
        rows.append(("Worker", "not in this process: run `wagate worker` beside it"))
    rows.append(("Next", _next_step(facts)))
    lines = [title, *(f"  {label:<{_LABEL_WIDTH}} {value}" for label, value in rows)]
    return "\n".join(lines)


def log_fields(facts: StartFacts) -> dict[str, Any]:
    """`gateway.started`'s fields: what the banner says, never the password."""
    return {
        "url": facts.url,
        "mode": "sandbox" if facts.sandbox else "live",
        "sandbox": facts.sandbox,
        "channels": ["sandbox"] if facts.sandbox else list(facts.channels),
        "worker": facts.worker,
        "ai": "offline" if facts.ai_model is None else "configured",
        "data_dir": str(facts.data_dir),
        "console": facts.console_url,
    }


def _ai(facts: StartFacts) -> str:
    if facts.ai_model is not None:
        return f"{facts.ai_model} (AI_BASE_URL)"
    return "offline: answers come from the knowledge base (set AI_BASE_URL and AI_MODEL)"


def _console_sign_in(facts: StartFacts) -> str:
    if not facts.sandbox:
        return "sign in as a user from `wagate users add NAME --role admin`"
    if facts.sign_in is not None:
        name, password = facts.sign_in
        return f"sign in as {name} / {password} (also in {SANDBOX_FILE})"
    return f"sign in as admin (password in {facts.data_dir / SANDBOX_FILE}, unless changed)"


def _next_step(facts: StartFacts) -> str:
    if facts.sandbox:
        chat = "run `wagate chat` in another terminal, in this directory"
        return f"open the console and ask a question, or {chat}" if facts.console_url else chat
    return "register the webhook URLs with your provider, at your public HTTPS address"
