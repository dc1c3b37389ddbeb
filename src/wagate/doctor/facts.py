"""The settings, reduced to what going live depends on (no secret leaves here)."""

from __future__ import annotations

from wagate.domain.readiness import LiveFacts
from wagate.domain.window import OUT_OF_WINDOW
from wagate.settings import Settings


def live_facts(settings: Settings) -> LiveFacts:
    s = settings
    try:
        out_of_window = s.templates().for_purpose(OUT_OF_WINDOW) is not None
    except (OSError, ValueError):  # settings validated them; a file may have changed since
        out_of_window = False
    return LiveFacts(
        meta_app=s.meta_configured,
        meta_number=s.meta_number_configured,
        fonnte=s.fonnte_configured,
        plugins=tuple(spec.partition(":")[0] for spec in s.wagate_provider_plugins),
        ai=s.ai_configured,
        public_url=s.public_url,
        external_database=s.database_url is not None and bool(s.database_url.get_secret_value()),
        forwarded_allow_ips=bool(s.forwarded_allow_ips),
        console_enabled=s.console_enabled,
        console_secure_cookie=s.console_secure_cookie,
        out_of_window_template=out_of_window,
        smtp=s.smtp_configured,
        keys_from_environment=s.wagate_encryption_keys is not None
        and bool(s.wagate_encryption_keys.get_secret_value()),
    )
