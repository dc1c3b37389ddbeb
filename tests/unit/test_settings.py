"""MT3: settings are parsed once at the edge; a half-configured provider is an error at start that
names exactly what is missing, and no credentials at all means the sandbox."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wagate.settings import MIN_FONNTE_SECRET_LENGTH, ConfigurationError, Settings, load_settings

META = {
    "meta_app_secret": "app-secret",
    "meta_access_token": "EAAG-token",
    "meta_phone_number_id": "200000000000001",
    "meta_webhook_verify_token": "verify-me",
}
FONNTE = {"fonnte_token": "device-token", "fonnte_webhook_secret": "s" * MIN_FONNTE_SECRET_LENGTH}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    names = {name.upper() for name in Settings.model_fields} | {"AI_API_KEY", "OPENROUTER_API_KEY"}
    for name in list(os.environ):
        if name.upper() in names or name.upper().startswith(("META_", "FONNTE_", "DEBOUNCE_")):
            monkeypatch.delenv(name, raising=False)
    yield


def load(**overrides: Any) -> Settings:
    return load_settings(_env_file=None, **overrides)


def test_fully_configured_meta_loads() -> None:
    settings = load(**META)
    assert settings.meta_configured and not settings.fonnte_configured
    assert settings.meta_access_token is not None
    assert settings.meta_access_token.get_secret_value() == "EAAG-token"
    assert not settings.needs_sandbox


def test_secrets_do_not_show_in_the_settings_repr() -> None:
    assert "EAAG-token" not in repr(load(**META))


@pytest.mark.parametrize("missing", sorted(META))
def test_meta_missing_one_variable_names_it(missing: str) -> None:
    partial = {k: v for k, v in META.items() if k != missing}
    with pytest.raises(ConfigurationError) as caught:
        load(**partial)
    message = str(caught.value)
    assert "Meta is half-configured" in message
    assert missing.upper() in message
    for present in set(META) - {missing}:
        assert present.upper() not in message


def test_meta_with_only_a_secret_names_the_verify_token() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load(meta_app_secret="app-secret")
    assert "META_WEBHOOK_VERIFY_TOKEN" in str(caught.value)
    assert "META_ACCESS_TOKEN" not in str(caught.value)


def test_meta_app_without_a_number_is_the_platform_app_for_tenants_numbers() -> None:
    settings = load(meta_app_secret="app-secret", meta_webhook_verify_token="verify")
    assert settings.meta_configured and not settings.meta_number_configured
    assert not settings.needs_sandbox


def test_blank_value_counts_as_missing() -> None:
    with pytest.raises(ConfigurationError, match="META_ACCESS_TOKEN"):
        load(**{**META, "meta_access_token": "   "})


def test_half_configured_meta_via_environment_names_the_missing_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("META_APP_SECRET", "app-secret")
    monkeypatch.setenv("META_PHONE_NUMBER_ID", "200000000000001")
    monkeypatch.setenv("META_WEBHOOK_VERIFY_TOKEN", "verify-me")
    with pytest.raises(ConfigurationError, match="META_ACCESS_TOKEN"):
        load()


def test_fully_configured_fonnte_loads() -> None:
    settings = load(**FONNTE)
    assert settings.fonnte_configured and not settings.meta_configured
    assert not settings.needs_sandbox


@pytest.mark.parametrize("missing", sorted(FONNTE))
def test_fonnte_missing_one_variable_names_it(missing: str) -> None:
    partial = {k: v for k, v in FONNTE.items() if k != missing}
    with pytest.raises(ConfigurationError) as caught:
        load(**partial)
    assert "Fonnte is half-configured" in str(caught.value)
    assert missing.upper() in str(caught.value)


def test_short_fonnte_webhook_secret_is_rejected() -> None:
    short = "s" * (MIN_FONNTE_SECRET_LENGTH - 1)
    with pytest.raises(ConfigurationError, match="FONNTE_WEBHOOK_SECRET must be at least"):
        load(fonnte_token="device-token", fonnte_webhook_secret=short)


def test_both_providers_can_be_configured_together() -> None:
    settings = load(**META, **FONNTE)
    assert settings.meta_configured and settings.fonnte_configured


@pytest.mark.parametrize("value", ["not-an-ip", "10.0.0.0/33", "256.1.1.1", "1.2.3.4,nope"])
def test_bad_fonnte_allowed_ips_are_rejected(value: str) -> None:
    with pytest.raises(ConfigurationError, match="FONNTE_ALLOWED_IPS"):
        load(fonnte_allowed_ips=value)


def test_comma_separated_allowed_ips_from_the_environment_become_a_tuple(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FONNTE_ALLOWED_IPS", " 203.0.113.7, 198.51.100.0/24 ,,2001:db8::/32")
    settings = load()
    assert settings.fonnte_allowed_ips == ("203.0.113.7", "198.51.100.0/24", "2001:db8::/32")


def test_allowed_ips_default_to_none() -> None:
    assert load().fonnte_allowed_ips == ()


def test_debounce_max_below_debounce_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="DEBOUNCE_MAX_SECONDS"):
        load(debounce_seconds=30, debounce_max_seconds=10)


def test_debounce_max_equal_to_debounce_is_allowed() -> None:
    settings = load(debounce_seconds=20, debounce_max_seconds=20)
    assert settings.debounce_max_seconds == settings.debounce_seconds == 20


def test_debounce_from_environment_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBOUNCE_SECONDS", "90")
    with pytest.raises(ConfigurationError, match="DEBOUNCE_MAX_SECONDS"):
        load()  # default max 60 < 90


def test_no_credentials_at_all_needs_the_sandbox() -> None:
    settings = load()
    assert settings.needs_sandbox
    assert not settings.meta_configured and not settings.fonnte_configured


def test_env_file_in_the_working_directory_is_read_by_default(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("META_APP_SECRET=from-dotenv\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="META_WEBHOOK_VERIFY_TOKEN"):
        load_settings()  # proves the chdir fixture matters: the file makes Meta half-configured


def test_takeover_and_on_duty_settings_have_defaults() -> None:
    settings = load()
    assert settings.takeover_idle_minutes == 60
    assert settings.urgent_notify_emails == ()
    assert settings.public_url is None


def test_urgent_notify_emails_from_the_environment_are_checked_and_deduplicated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listed = " jaga@firma.co.id, ani@firma.co.id,,jaga@firma.co.id"
    monkeypatch.setenv("URGENT_NOTIFY_EMAILS", listed)
    monkeypatch.setenv("PUBLIC_URL", "https://wagate.firma.co.id/")
    monkeypatch.setenv("TAKEOVER_IDLE_MINUTES", "15")
    settings = load()
    assert settings.urgent_notify_emails == ("jaga@firma.co.id", "ani@firma.co.id")
    assert settings.public_url == "https://wagate.firma.co.id"
    assert settings.takeover_idle_minutes == 15


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("urgent_notify_emails", "jaga"),
        ("urgent_notify_emails", "Jaga <jaga@firma.co.id>"),
        ("urgent_notify_emails", "a@b.id;c@d.id"),
        ("public_url", "wagate.firma.co.id"),
        ("public_url", "ftp://wagate.firma.co.id"),
        ("takeover_idle_minutes", "0"),
    ],
)
def test_bad_takeover_settings_are_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name.upper()):
        load(**{name: value})


def test_a_tenant_may_have_its_own_on_duty_list_and_idle_time() -> None:
    from wagate.settings import check_tenant_overrides, tenant_settings

    settings = tenant_settings(
        load(urgent_notify_emails="jaga@platform.id"),
        {"urgent_notify_emails": "ani@firma.co.id", "takeover_idle_minutes": 30},
    )
    assert tuple(settings.urgent_notify_emails) == ("ani@firma.co.id",)
    assert settings.takeover_idle_minutes == 30
    with pytest.raises(ValueError, match="URGENT_NOTIFY_EMAILS"):
        check_tenant_overrides({"urgent_notify_emails": "nope"})


def test_the_sla_is_30_seconds_unless_set_and_a_tenant_may_have_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from wagate.settings import check_tenant_overrides, tenant_settings

    assert load().sla_seconds == 30
    monkeypatch.setenv("SLA_SECONDS", "12.5")
    platform = load()
    assert platform.sla_seconds == 12.5
    assert tenant_settings(platform, {"sla_seconds": 60}).sla_seconds == 60
    assert tenant_settings(platform, {}).sla_seconds == 12.5
    with pytest.raises(ValueError, match="SLA_SECONDS"):
        check_tenant_overrides({"sla_seconds": 0})


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_bad_sla_is_refused_naming_it(value: str) -> None:
    with pytest.raises(ConfigurationError, match="SLA_SECONDS"):
        load(sla_seconds=value)


# ---------------------------------------------------------------- inbound files (MD1)


def test_files_go_under_the_data_dir_with_the_documented_limits(tmp_path: Path) -> None:
    from wagate.storage.objects import FileObjectStore
    from wagate.wiring import build_objects, media_limits

    settings = load_settings(wagate_data_dir=tmp_path)
    assert settings.media_folder == tmp_path / "media"
    assert isinstance(build_objects(settings), FileObjectStore)
    limits = media_limits(settings)
    assert (limits.image, limits.document) == (5 * 1024 * 1024, 100 * 1024 * 1024)
    assert limits.audio == limits.video == 16 * 1024 * 1024
    custom = media_limits(load_settings(media_max_image_bytes=2048, media_max_document_bytes=4096))
    assert (custom.image, custom.document) == (2048, 4096)


def test_the_upload_limits_default_to_metas_and_bound_the_streamed_route() -> None:
    from wagate.wiring import upload_limits

    limits = upload_limits(load_settings())
    assert (limits.image, limits.document) == (5 * 1024 * 1024, 100 * 1024 * 1024)
    custom = upload_limits(
        load_settings(outbound_max_image_bytes=2048, outbound_max_document_bytes=1500)
    )
    assert (custom.image, custom.document, custom.largest) == (2048, 1500, 2048)


def test_an_s3_bucket_replaces_the_folder() -> None:
    from wagate.storage.objects import S3ObjectStore
    from wagate.wiring import build_objects

    settings = load_settings(
        s3_bucket="wagate",
        s3_endpoint_url="http://127.0.0.1:9000",
        s3_region="us-east-1",
        s3_access_key_id="minio",
        s3_secret_access_key="minio-secret",
    )
    assert isinstance(build_objects(settings), S3ObjectStore)
    assert "minio-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"s3_bucket": "b", "s3_access_key_id": "k"}, "S3_SECRET_ACCESS_KEY"),
        ({"s3_bucket": "b", "s3_secret_access_key": "s"}, "S3_ACCESS_KEY_ID"),
        ({"s3_endpoint_url": "http://127.0.0.1:9000"}, "S3_BUCKET"),
        ({"media_max_image_bytes": 10}, "MEDIA_MAX_IMAGE_BYTES"),
        ({"outbound_max_document_bytes": 10}, "OUTBOUND_MAX_DOCUMENT_BYTES"),
    ],
)
def test_half_configured_object_storage_names_what_to_set(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_settings(**values)


def test_a_tenant_may_word_the_file_notices_itself() -> None:
    from wagate.settings import tenant_settings
    from wagate.wiring import converse_policy

    platform = load_settings()
    firm = tenant_settings(platform, {"media_refused_text": "Berkas ini tidak kami terima."})
    assert converse_policy(firm).notices.media_refused == "Berkas ini tidak kami terima."
    assert "keamanan" in converse_policy(platform).notices.media_refused


def test_vision_is_on_by_default_and_ai_vision_enabled_false_turns_it_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load().ai_vision_enabled is True
    monkeypatch.setenv("AI_VISION_ENABLED", "false")
    assert load().ai_vision_enabled is False
    monkeypatch.setenv("AI_VISION_ENABLED", "sometimes")
    with pytest.raises(ConfigurationError, match="AI_VISION_ENABLED"):
        load()
