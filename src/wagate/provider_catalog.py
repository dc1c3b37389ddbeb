"""The provider list (composition root, with wiring.py): each entry turns settings into a
configured provider (`ProviderSetup`) or None. Meta and Fonnte are built in; more come from
`WAGATE_PROVIDER_PLUGINS` (comma-separated `package.module:callable`), each callable taking a
`PluginContext` and returning its `ProviderSetup` or None.

Adding a provider means one adapter module and one entry here (or a plugin): nothing in the
pipeline, the web edge or storage names a provider.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from typing import Any

from wagate.domain.messages import Provider
from wagate.domain.provider_port import PluginContext, ProviderAdapter, ProviderSetup
from wagate.providers.fonnte import inbound as fonnte_inbound
from wagate.providers.fonnte.client import FonnteClient
from wagate.providers.fonnte.inbound import FonnteWebhook
from wagate.providers.meta import inbound as meta_inbound
from wagate.providers.meta.client import MetaClient
from wagate.settings import ConfigurationError, Settings, check_plugin

# A provider definition: settings → the configured provider, or None when not configured.
Definition = Callable[[Settings], ProviderSetup | None]

FONNTE_CHANNEL = "fonnte"  # Fonnte drives one linked device: one channel


def _secret(value: Any) -> str:
    return value.get_secret_value() if value is not None else ""


def meta(settings: Settings) -> ProviderSetup | None:
    """Meta's app (secret, verify token) is the platform's: one webhook for every tenant's
    numbers. The environment's number, when set, is the default tenant's."""
    if not settings.meta_configured:
        return None
    webhook = meta_inbound.MetaWebhook(
        app_secret=_secret(settings.meta_app_secret),
        verify_token=_secret(settings.meta_webhook_verify_token),
    )

    def connect(channel_id: str, token: str) -> ProviderAdapter:
        return MetaClient(
            graph_url=settings.meta_graph_url,
            access_token=token,
            phone_number_id=channel_id,
            timeout=settings.provider_timeout_seconds,
            webhook=webhook,
        )

    number = settings.meta_phone_number_id if settings.meta_number_configured else None
    return ProviderSetup(
        name=Provider.META,
        capabilities=MetaClient.capabilities,
        routes=meta_inbound.ROUTES,
        channel_id=number,
        token=_secret(settings.meta_access_token),
        connect=connect,
        receiver=webhook,
        shared_webhook=True,
    )


def fonnte(settings: Settings) -> ProviderSetup | None:
    """Fonnte signs nothing: each device's webhook URL carries its own secret, which also
    tells whose device it is. Its route exists even without a device in the environment, so
    tenants can bring theirs."""
    networks = tuple(ipaddress.ip_network(n, strict=False) for n in settings.fonnte_allowed_ips)

    def listen(secret: str) -> FonnteWebhook:
        return fonnte_inbound.FonnteWebhook(secret=secret, networks=networks)

    configured = settings.fonnte_configured
    webhook = listen(_secret(settings.fonnte_webhook_secret)) if configured else None

    def connect(_channel_id: str, token: str) -> ProviderAdapter:
        return FonnteClient(
            api_url=settings.fonnte_api_url,
            token=token,
            timeout=settings.provider_timeout_seconds,
            webhook=webhook,
        )

    return ProviderSetup(
        name=Provider.FONNTE,
        capabilities=FonnteClient.capabilities,
        routes=fonnte_inbound.ROUTES,
        channel_id=FONNTE_CHANNEL if configured else None,
        token=_secret(settings.fonnte_token),
        connect=connect,
        receiver=webhook,
        secret_param="secret",  # noqa: S106 - the name of a URL parameter
        listen=listen,
    )


BUILT_IN: tuple[Definition, ...] = (meta, fonnte)


def load_plugin(spec: str) -> Definition:
    """`package.module:callable` → a definition. Raises ConfigurationError saying what is wrong
    (settings already checked the spec; a plugin may still return something else)."""
    try:
        plugin = check_plugin(spec)
    except ValueError as exc:
        raise ConfigurationError(f"WAGATE_PROVIDER_PLUGINS: {exc}") from exc

    def definition(settings: Settings) -> ProviderSetup | None:
        context = PluginContext(
            environ=dict(os.environ), timeout_seconds=settings.provider_timeout_seconds
        )
        setup = plugin(context)
        if setup is not None and not isinstance(setup, ProviderSetup):
            raise ConfigurationError(
                f"WAGATE_PROVIDER_PLUGINS: {spec!r} returned {type(setup).__name__}, "
                "not a ProviderSetup or None"
            )
        return setup

    return definition


def definitions(settings: Settings) -> tuple[Definition, ...]:
    """The built-ins, then the plugins in the order given."""
    return (*BUILT_IN, *(load_plugin(spec) for spec in settings.wagate_provider_plugins))


def configured(settings: Settings) -> tuple[ProviderSetup, ...]:
    """Every configured provider. Two providers may not share a name or a webhook route."""
    setups = tuple(s for s in (d(settings) for d in definitions(settings)) if s is not None)
    names: set[Provider] = set()
    paths: set[str] = set()
    for setup in setups:
        if setup.name in names:
            raise ConfigurationError(f"two providers are named {setup.name.value!r}")
        names.add(setup.name)
        for route in setup.routes:
            if route.path in paths:
                raise ConfigurationError(f"two providers answer the webhook {route.path}")
            paths.add(route.path)
    return setups
