"""The console's read-only settings view (issue 15): every setting shown by its environment
name, grouped and sorted, and no secret's value anywhere in it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wagate.settings import MIN_FONNTE_SECRET_LENGTH, Settings, load_settings
from wagate.settings_view import (
    HIDDEN_SET,
    NOT_SET,
    OTHER_GROUP,
    console_view,
    secret_name,
    shown_value,
    url_with_credentials,
)

SECRETS = {
    "meta_app_secret": "app-secret-value-1",
    "meta_access_token": "EAAG-token-value-2",
    "meta_phone_number_id": "200000000000001",
    "meta_webhook_verify_token": "verify-value-3",
    "fonnte_token": "device-token-value-4",
    "fonnte_webhook_secret": "s" * MIN_FONNTE_SECRET_LENGTH,
    "wagate_api_token": "api-token-value-5",
    "database_url": "postgresql://owner:db-password-6@localhost/wagate",
    "smtp_username": "mailer",
    "smtp_password": "smtp-password-7",
    "ai_base_url": "https://user:url-password-8@ai.example/v1",
    "ai_model": "model-a",
    "ai_api_key": "ai-key-value-9",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    names = {name.upper() for name in Settings.model_fields} | {"AI_API_KEY", "OPENROUTER_API_KEY"}
    for name in list(os.environ):
        if name.upper() in names:
            monkeypatch.delenv(name, raising=False)
    yield


def load(**overrides: Any) -> Settings:
    return load_settings(_env_file=None, **overrides)


def test_no_secret_value_appears_and_each_shows_it_is_set() -> None:
    view = console_view(load(**SECRETS))
    text = repr(view)
    for name, value in SECRETS.items():
        if name in ("meta_phone_number_id", "ai_model", "smtp_username"):
            continue
        assert value not in text, name
    for word in ("db-password-6", "url-password-8"):
        assert word not in text
    flat = {name: value for fields in view.values() for name, value in fields.items()}
    for name in ("META_APP_SECRET", "AI_API_KEY", "DATABASE_URL", "AI_BASE_URL", "SMTP_PASSWORD"):
        assert flat[name] == HIDDEN_SET, name
    assert flat["DATABASE_APP_URL"] == NOT_SET
    assert flat["WAGATE_ENCRYPTION_KEYS"] == NOT_SET
    assert flat["AI_MODEL"] == "model-a"
    assert flat["META_PHONE_NUMBER_ID"] == "200000000000001"


def test_every_setting_is_shown_once_grouped_and_sorted() -> None:
    view = console_view(load())
    flat = [name for fields in view.values() for name in fields]
    assert sorted(flat) == sorted(name.upper() for name in Settings.model_fields)
    assert list(view) == sorted(view)
    for fields in view.values():
        assert list(fields) == sorted(fields)
    assert "META_GRAPH_URL" in view["META"] and "KB_DIR" in view["KB"]
    # A first word no other setting shares goes to OTHER, not a group of one.
    assert all(len(fields) > 1 for group, fields in view.items() if group != OTHER_GROUP)


def test_values_are_shown_plainly() -> None:
    view = console_view(load(review_mode="yellow", fonnte_allowed_ips="10.0.0.1,10.0.0.2"))
    assert view["REVIEW"]["REVIEW_MODE"] == "yellow"
    assert view["FONNTE"]["FONNTE_ALLOWED_IPS"] == "10.0.0.1, 10.0.0.2"
    assert view["CONSOLE"]["CONSOLE_ENABLED"] == "true"
    assert view["CONSENT"]["CONSENT_KEYWORD"] == "SETUJU"  # a keyword is not a key
    assert shown_value("system_prompt", "x" * 1000).endswith("…")


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("ai_api_key", True),
        ("wagate_encryption_keys", True),
        ("apikey", True),
        ("x_auth_token", True),
        ("client-secret", True),
        ("db_password", True),
        ("consent_keyword", False),
        ("kb_dir", False),
        ("monkey_business", True),  # hiding too much is the safe error
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert secret_name(name) is secret


@pytest.mark.parametrize(
    ("url", "hidden"),
    [
        ("https://graph.facebook.com/v22.0", False),
        ("https://user:pw@host/x", True),
        ("https://token@host/x", True),
        ("https://host/x?key=abc", True),
        ("https://host/x?access_token=abc", True),
        ("https://host/x?page=2", False),
        ("not a url", False),
    ],
)
def test_urls_with_credentials(url: str, hidden: bool) -> None:
    assert url_with_credentials(url) is hidden
    assert (shown_value("some_url", url) == HIDDEN_SET) is hidden
