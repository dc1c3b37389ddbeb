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
