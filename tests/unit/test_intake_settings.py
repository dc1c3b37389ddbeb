"""Case-intake settings (FL1): off without a Flow id, the keyword and texts from the
environment, each a tenant may hold of its own, and a Flow message Meta would refuse stops the
start with the setting's name."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from wagate.domain.case_intake import DEFAULT_CONFIRMATION_TEXT, FIRST_SCREEN
from wagate.settings import (
    TENANT_SETTINGS,
    ConfigurationError,
    Settings,
    check_tenant_overrides,
    load_settings,
    tenant_settings,
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.upper() in {n.upper() for n in Settings.model_fields}:
            monkeypatch.delenv(name, raising=False)
    yield


def test_without_a_flow_id_case_intake_is_off_with_its_defaults() -> None:
    flow = load_settings(_env_file=None).intake_flow()
    assert not flow.enabled
    assert (flow.keyword, flow.screen, flow.mode) == ("DAFTAR", FIRST_SCREEN, "published")
    assert flow.confirmation_text == DEFAULT_CONFIRMATION_TEXT


def test_the_environment_sets_the_flow_and_its_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_FLOW_ID", "400000000000001")
    monkeypatch.setenv("INTAKE_KEYWORD", "REGISTRASI")
    monkeypatch.setenv("INTAKE_FLOW_MODE", "draft")
    monkeypatch.setenv("INTAKE_CONFIRMATION_TEXT", "Terima kasih ({reference})")
    flow = load_settings(_env_file=None).intake_flow()
    assert flow.enabled and flow.flow_id == "400000000000001"
    assert flow.asks_for_it("registrasi") and not flow.asks_for_it("DAFTAR")
    assert flow.invitation("k").mode == "draft"
    assert flow.confirmation(3, complete=True) == "Terima kasih (3)"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("intake_flow_cta", "Isi formulir 📝"),
        ("intake_flow_cta", "x" * 21),
        ("intake_flow_id", "id with spaces"),
        ("intake_flow_mode", "testing"),
        ("intake_invite_text", "x" * 1025),
    ],
)
def test_a_flow_message_meta_would_refuse_stops_the_start(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match="INTAKE"):
        load_settings(_env_file=None, **({"intake_flow_id": "400000000000001"} | {name: value}))


def test_each_firm_has_its_own_flow_keyword_and_texts() -> None:
    assert {"intake_flow_id", "intake_keyword", "intake_confirmation_text"} <= set(TENANT_SETTINGS)
    platform = load_settings(_env_file=None, intake_flow_id="1")
    firm = tenant_settings(
        platform, {"intake_flow_id": "2", "intake_keyword": "PERKARA", "intake_flow_cta": "Mulai"}
    )
    assert firm.intake_flow().flow_id == "2" and firm.intake_flow().keyword == "PERKARA"
    assert firm.intake_flow().cta == "Mulai"
    assert platform.intake_flow().flow_id == "1"
    with pytest.raises(ValueError, match="INTAKE_FLOW_CTA"):
        check_tenant_overrides({"intake_flow_cta": "x" * 40})


def _pem(bits: int = 2048) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


META = {
    "meta_app_secret": "app-secret",
    "meta_webhook_verify_token": "verify",
    "meta_access_token": "token",
    "meta_phone_number_id": "100",
}


def test_the_flows_endpoint_key_comes_from_text_or_a_file(tmp_path: Path) -> None:
    pem = _pem()
    assert load_settings(_env_file=None, **META).flow_endpoint_key() is None
    escaped = pem.replace("\n", "\\n")  # as an environment variable often carries it
    from_text = load_settings(_env_file=None, intake_flow_private_key=escaped, **META)
    assert from_text.flow_endpoint_key() == pem.encode()
    path = tmp_path / "flows.pem"
    path.write_text(pem)
    from_file = load_settings(_env_file=None, intake_flow_private_key_file=path, **META)
    assert from_file.flow_endpoint_key() == pem.encode()


def test_a_flows_endpoint_key_that_cannot_work_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="META_APP_SECRET"):
        load_settings(_env_file=None, intake_flow_private_key=_pem())
    with pytest.raises(ConfigurationError, match="INTAKE_FLOW_PRIVATE_KEY: not a readable"):
        load_settings(_env_file=None, intake_flow_private_key="not a key", **META)
    with pytest.raises(ConfigurationError, match="INTAKE_FLOW_PRIVATE_KEY_FILE"):
        load_settings(_env_file=None, intake_flow_private_key_file=tmp_path / "missing.pem", **META)
