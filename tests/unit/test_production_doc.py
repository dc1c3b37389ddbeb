"""docs/production.md and the files in deploy/ name only settings that exist: every UPPER_CASE
name in them is a field of `Settings` (or one of its environment aliases), or one of the few
environment variables listed below that are not wagate's and are documented as such."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wagate.settings import Settings

ROOT = Path(__file__).parent.parent.parent
GUIDE = ROOT / "docs" / "production.md"
# The guide's own deploy files (the proxies, the services, the settings skeleton).
DEPLOY_FILES = sorted(
    [
        *(p for d in ("systemd", "caddy", "nginx") for p in (ROOT / "deploy" / d).iterdir()),
        ROOT / "deploy" / "wagate.env.example",
    ]
)

# Environment variables the guide names that are not wagate settings, and why they are there.
NOT_SETTINGS = {
    "SSL_CERT_FILE": "the TLS library's CA file, for trying a staging proxy with doctor",
}

# An UPPER_CASE name with at least one underscore; placeholders in <angle brackets> are not
# names (`<phone-number-id>`), so they are removed first.
NAME = re.compile(r"(?<![A-Za-z0-9_])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?![A-Za-z0-9_])")
PLACEHOLDER = re.compile(r"<[^<>\n]*>")


def setting_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(name.upper())
        alias = field.validation_alias
        for choice in getattr(alias, "choices", ()):
            if isinstance(choice, str):
                names.add(choice.upper())
    return names


def names_in(path: Path) -> set[str]:
    return set(NAME.findall(PLACEHOLDER.sub("", path.read_text(encoding="utf-8"))))


def test_the_name_pattern_finds_settings_and_skips_placeholders() -> None:
    text = "set `META_ACCESS_TOKEN`, not <WABA_ID>; X-Forwarded-For; AI_API_KEY=1 and K8S_X"
    assert set(NAME.findall(PLACEHOLDER.sub("", text))) == {
        "META_ACCESS_TOKEN",
        "AI_API_KEY",
        "K8S_X",
    }


def test_every_name_in_the_production_guide_is_a_setting() -> None:
    unknown = names_in(GUIDE) - setting_names() - set(NOT_SETTINGS)
    assert unknown == set(), f"not settings (add them to Settings, or to NOT_SETTINGS): {unknown}"


def test_the_guide_covers_what_going_live_needs() -> None:
    named = names_in(GUIDE)
    for setting in (
        "META_APP_SECRET",
        "META_WEBHOOK_VERIFY_TOKEN",
        "META_ACCESS_TOKEN",
        "META_PHONE_NUMBER_ID",
        "FONNTE_TOKEN",
        "FONNTE_WEBHOOK_SECRET",
        "FORWARDED_ALLOW_IPS",
        "DATABASE_URL",
        "DATABASE_APP_URL",
        "WAGATE_DB_APP_PASSWORD",
        "PUBLIC_URL",
        "CONSOLE_SECURE_COOKIE",
        "WAGATE_ENCRYPTION_KEYS",
    ):
        assert setting in named, setting


def test_names_listed_as_not_settings_really_are_not_and_are_still_mentioned() -> None:
    assert not set(NOT_SETTINGS) & setting_names()
    assert set(NOT_SETTINGS) <= names_in(GUIDE)


def prose_and_environment(path: Path) -> set[str]:
    """In a configuration file, the names its comments mention and its `Environment=` lines
    set (the rest is the file's own vocabulary: systemd's AF_INET, nginx's variables)."""
    names: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or stripped.startswith("Environment="):
            names |= set(NAME.findall(PLACEHOLDER.sub("", stripped)))
    return names


@pytest.mark.parametrize("path", DEPLOY_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_name_the_deploy_files_mention_is_a_setting(path: Path) -> None:
    unknown = prose_and_environment(path) - setting_names()
    assert unknown == set(), f"{path.name}: not settings: {unknown}"


def test_the_env_example_sets_only_settings() -> None:
    example = ROOT / "deploy" / "wagate.env.example"
    assigned = {
        line.lstrip("# ").split("=", 1)[0]
        for line in example.read_text(encoding="utf-8").splitlines()
        if re.match(r"#? ?[A-Z][A-Z0-9_]*=", line)
    }
    assert assigned and assigned <= setting_names()
