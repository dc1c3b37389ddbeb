"""The provider list (issue 9): built-ins and plugins become configured providers; the registry
builds their adapters for both directions and keeps the token replacement behaviour (OU7)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.plugins import echo_provider
from wagate import provider_catalog
from wagate.domain.capabilities import Capabilities
from wagate.domain.messages import Provider
from wagate.domain.provider_port import (
    Challenge,
    InboundRequest,
    PluginContext,
    ProviderSetup,
    Rejected,
    WebhookRoute,
)
from wagate.domain.tenants import Tenant, TenantChannel
from wagate.providers.fonnte.client import FonnteClient
from wagate.providers.meta.client import MetaClient
from wagate.settings import MIN_FONNTE_SECRET_LENGTH, ConfigurationError, Settings, load_settings
from wagate.wiring import configured_tenant_channels, tenant_registry

META = {
    "meta_app_secret": "app-secret",
    "meta_access_token": "EAAG-token",
    "meta_phone_number_id": "200000000000001",
    "meta_webhook_verify_token": "verify-me",
}
FONNTE = {"fonnte_token": "device-token", "fonnte_webhook_secret": "s" * MIN_FONNTE_SECRET_LENGTH}
ECHO_ENV = {"ECHO_API_URL": "http://127.0.0.1:9", "ECHO_TOKEN": "t", "ECHO_WEBHOOK_SECRET": "s"}
PLUGIN = "tests.plugins.echo_provider:echo"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    names = {name.upper() for name in Settings.model_fields}
    for name in list(os.environ):
        if name.upper() in names or name.upper().startswith(("META_", "FONNTE_", "ECHO_")):
            monkeypatch.delenv(name, raising=False)
    yield


def load(**overrides: Any) -> Settings:
    return load_settings(_env_file=None, **overrides)


def configured_channels(settings: Settings) -> dict[Provider, str]:
    """The default tenant's channels from the environment, as wiring lays them out."""
    setups = provider_catalog.configured(settings)
    return {c.provider: c.channel_id for c in configured_tenant_channels(settings, setups)}


def configured_capabilities(settings: Settings) -> dict[Provider, Capabilities]:
    return {
        s.name: s.capabilities
        for s in provider_catalog.configured(settings)
        if s.channel_id is not None
    }


def test_the_built_ins_are_listed_when_configured() -> None:
    settings = load(**META, **FONNTE)
    setups = provider_catalog.configured(settings)
    assert [s.name for s in setups] == [Provider.META, Provider.FONNTE]
    assert configured_channels(settings) == {
        Provider.META: "200000000000001",
        Provider.FONNTE: "fonnte",
    }
    assert configured_capabilities(settings) == {
        Provider.META: MetaClient.capabilities,
        Provider.FONNTE: FonnteClient.capabilities,
    }
    routes = {r.path: r.methods for s in setups for r in s.routes}
    assert routes == {"/webhook/whatsapp": ("GET", "POST"), "/webhook/fonnte/{secret}": ("POST",)}


def test_an_unconfigured_provider_is_not_listed() -> None:
    assert [s.name for s in provider_catalog.configured(load(**FONNTE))] == [Provider.FONNTE]


def test_fonnte_takes_tenants_devices_even_without_one_of_its_own() -> None:
    """Its route exists for tenants' devices (each with its own URL secret); without a device
    in the environment it has no default channel and no platform receiver."""
    (fonnte,) = provider_catalog.configured(load())
    assert fonnte.name is Provider.FONNTE and fonnte.channel_id is None
    assert fonnte.receiver is None and fonnte.secret_param == "secret"
    assert fonnte.listen is not None
    assert configured_channels(load()) == {}


def test_meta_with_only_its_app_takes_webhooks_for_tenants_numbers() -> None:
    settings = load(meta_app_secret="app-secret", meta_webhook_verify_token="verify")
    meta = next(s for s in provider_catalog.configured(settings) if s.name is Provider.META)
    assert meta.channel_id is None and meta.shared_webhook and meta.receiver is not None


def test_a_plugin_adds_its_provider_from_its_own_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in ECHO_ENV.items():
        monkeypatch.setenv(name, value)
    settings = load(**META, wagate_provider_plugins=PLUGIN)
    assert not settings.needs_sandbox
    assert list(configured_channels(settings)) == [Provider.META, Provider("echo")]
    assert configured_capabilities(settings)[Provider("echo")] == Capabilities()


def test_a_plugin_without_its_environment_configures_nothing() -> None:
    settings = load(wagate_provider_plugins=f" {PLUGIN} ,")
    assert settings.wagate_provider_plugins == (PLUGIN,)
    assert [s.name for s in provider_catalog.configured(settings)] == [Provider.FONNTE]
    assert configured_channels(settings) == {}
    assert not settings.needs_sandbox  # a plugin is meant to be the provider: no fake Meta


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("tests.plugins.echo_provider", "must be 'package.module:callable'"),
        (":echo", "must be 'package.module:callable'"),
        ("tests.plugins.nowhere:echo", "cannot import 'tests.plugins.nowhere'"),
        ("tests.plugins.echo_provider:missing", "has no callable 'missing'"),
        ("tests.plugins.echo_provider:not_a_plugin", "has no callable 'not_a_plugin'"),
    ],
)
def test_a_bad_plugin_setting_is_a_configuration_error_naming_it(spec: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load(wagate_provider_plugins=spec)
    assert "WAGATE_PROVIDER_PLUGINS" in str(caught.value) and expected in str(caught.value)


def _plugin(setup: Any) -> Any:
    def plugin(_context: PluginContext) -> Any:
        return setup

    return plugin


def test_a_plugin_returning_something_else_or_clashing_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load(**META, wagate_provider_plugins=PLUGIN)
    monkeypatch.setattr(echo_provider, "echo", _plugin("not a setup"))
    with pytest.raises(ConfigurationError, match="not a ProviderSetup"):
        provider_catalog.configured(settings)
    meta_setup = provider_catalog.meta(settings)
    assert meta_setup is not None
    monkeypatch.setattr(echo_provider, "echo", _plugin(meta_setup))
    with pytest.raises(ConfigurationError, match="two providers are named 'meta'"):
        provider_catalog.configured(settings)
    clash = replace(meta_setup, name=Provider("other"))
    monkeypatch.setattr(echo_provider, "echo", _plugin(clash))
    with pytest.raises(ConfigurationError, match="two providers answer the webhook"):
        provider_catalog.configured(settings)


# ---------------------------------------------------------------- the registry


class Adapter:
    """Records how it was built; refuses every webhook."""

    def __init__(self, channel: str, token: str) -> None:
        self.channel, self.token, self.closed = channel, token, False

    def receive(self, request: Any, *, now: datetime) -> Rejected:
        raise NotImplementedError

    async def aclose(self) -> None:
        self.closed = True


def setup(name: str, channel: str = "c1", key: str = "t1") -> ProviderSetup:
    return ProviderSetup(
        name=Provider(name),
        capabilities=Capabilities(),
        routes=(WebhookRoute(path=f"/webhook/{name}"),),
        channel_id=channel,
        token=key,
        connect=Adapter,  # type: ignore[arg-type]
    )


def tenant_with(*channels: tuple[str, str, str]) -> Tenant:
    return Tenant(
        id="t",
        name="t",
        channels=tuple(
            TenantChannel(provider=Provider(p), channel_id=c, token=k) for p, c, k in channels
        ),
    )


async def test_a_tenants_registry_builds_adapters_per_channel_with_each_channels_token() -> None:
    setups = (setup("echo"), setup("other"))
    registry = tenant_registry(
        setups, tenant_with(("echo", "c1", "t1"), ("echo", "c2", "t2"), ("other", "x", "t3"))
    )
    assert registry.default_channels == {Provider("echo"): "c1", Provider("other"): "x"}
    first = registry.get(Provider("echo"), "c1")
    assert first is registry.get(Provider("echo"), "c1")  # built once, reused
    second = registry.get(Provider("echo"), "c2")
    assert isinstance(second, Adapter) and (second.channel, second.token) == ("c2", "t2")
    other = registry.get(Provider("other"), "x")
    assert isinstance(other, Adapter) and other.token == "t3"
    assert registry.get(Provider("nobody"), "c1") is None
    await registry.aclose()
    assert second.closed and other.closed


async def test_the_environments_fonnte_token_answers_on_whichever_device_number_wrote() -> None:
    # FONNTE_TOKEN configures a device without its number: the channel is `fonnte`, while its
    # messages (and so the answers) name the device's number.
    registry = tenant_registry(
        (setup("fonnte"), setup("meta")),
        tenant_with(("fonnte", "fonnte", "env-token"), ("meta", "1001", "meta-token")),
    )
    device = registry.get(Provider.FONNTE, "6282200000000")
    assert isinstance(device, Adapter) and device.token == "env-token"
    # Nothing else borrows a token: an unknown Meta number has none.
    stranger = registry.get(Provider.META, "9999")
    assert isinstance(stranger, Adapter) and stranger.token == ""
    # A tenant's own Fonnte device (registered by its number) keeps its own token only.
    own = tenant_registry((setup("fonnte"),), tenant_with(("fonnte", "6281100000002", "t-b")))
    other = own.get(Provider.FONNTE, "6281100000009")
    assert isinstance(other, Adapter) and other.token == ""
    await registry.aclose()
    await own.aclose()


async def test_a_replaced_token_retires_the_old_adapters_and_builds_new_ones() -> None:
    versions = {Provider("echo"): ("t-new", 3)}

    async def source() -> dict[Provider, tuple[str, int]]:
        return versions

    registry = tenant_registry(
        (setup("echo"), setup("other")), tenant_with(("echo", "c1", "t1"), ("other", "c1", "t2"))
    )
    registry.token_source = source
    old = registry.get(Provider("echo"), "c1")
    untouched = registry.get(Provider("other"), "c1")
    assert await registry.refresh(force=True)
    new = registry.get(Provider("echo"), "c1")
    assert new is not old and isinstance(new, Adapter) and new.token == "t-new"
    assert registry.get(Provider("other"), "c1") is untouched
    assert not await registry.refresh(force=True)  # same version: nothing changes
    await registry.aclose()
    assert isinstance(old, Adapter) and old.closed  # retired, then closed


async def test_the_configured_receivers_answer_webhooks_with_the_configured_secrets() -> None:
    setups = {s.name: s for s in provider_catalog.configured(load(**META, **FONNTE))}
    meta, fonnte = setups[Provider.META].receiver, setups[Provider.FONNTE].receiver
    assert meta is not None and fonnte is not None
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "7"}
    now = datetime(2031, 1, 1, tzinfo=UTC)
    assert meta.receive(InboundRequest(method="GET", query=query), now=now) == Challenge(answer="7")
    wrong = InboundRequest(method="POST", path_params={"secret": "x" * MIN_FONNTE_SECRET_LENGTH})
    assert isinstance(fonnte.receive(wrong, now=now), Rejected)
