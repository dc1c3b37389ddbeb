"""Tenants (MT1, MT2, IN8) without I/O: ids, per-tenant settings, routing a webhook's parts to
their owners, the runtime registry (rebuild only what changed), the inbound router, and the
tenant admin's checks and audit records."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from wagate.domain.audit import AuditEvent
from wagate.domain.messages import (
    DeliveryStatus,
    InboundMessage,
    OtherEvent,
    Provider,
    Sender,
    StatusUpdate,
    Text,
    WebhookBatch,
)
from wagate.domain.provider_port import Accepted, InboundRequest, Verdict
from wagate.domain.tenants import (
    UNKNOWN_CHANNEL,
    Tenant,
    TenantChannel,
    TenantStatus,
    check_tenant_id,
    route_batch,
)
from wagate.observability.metrics import MetricsRecorder, labels_of
from wagate.pipeline.inbound_routing import InboundRouter, ProviderInbound
from wagate.pipeline.operator import Actor, Conflict, NotFound, Rejected
from wagate.pipeline.operator.recorder import Recorder
from wagate.pipeline.operator.tenants import ChannelConflict, TenantAdmin
from wagate.pipeline.ports import IntakeResult
from wagate.pipeline.tenancy import TenantRuntimes
from wagate.settings import check_tenant_overrides, load_settings, tenant_settings

NOW = datetime(2031, 3, 4, tzinfo=UTC)
META, FONNTE = Provider.META, Provider.FONNTE
CLI = Actor(via="cli")


def message(channel: str, message_id: str = "m1", provider: Provider = META) -> InboundMessage:
    return InboundMessage(
        provider=provider,
        channel_id=channel,
        message_id=message_id,
        sender=Sender(contact_key="628111", phone="628111"),
        sent_at=NOW,
        content=Text(body="halo"),
    )


def status(channel: str) -> StatusUpdate:
    return StatusUpdate(
        provider=META,
        channel_id=channel,
        message_id="wamid.1",
        status=DeliveryStatus.SENT,
        occurred_at=NOW,
    )


# ------------------------------------------------------------------ ids and settings


@pytest.mark.parametrize("good", ["a", "firm-a", "law_firm_7", "0x", "a" * 40])
def test_a_tenant_id_is_a_short_lower_case_slug(good: str) -> None:
    assert check_tenant_id(good) == good


@pytest.mark.parametrize("bad", ["", "Firm", "-a", "a b", "a" * 41, "é", "a/b", "a;drop"])
def test_anything_else_is_refused_with_what_an_id_may_be(bad: str) -> None:
    with pytest.raises(ValueError, match="lower-case"):
        check_tenant_id(bad)


def test_a_tenant_overrides_only_its_own_settings() -> None:
    platform = load_settings(_env_file=None, system_prompt="PLATFORM", rate_limit_per_minute=10)
    firm = tenant_settings(
        platform,
        {"system_prompt": "FIRM", "rate_limit_per_minute": 3, "consent_required": True},
    )
    assert firm.resolved_system_prompt() == "FIRM" and firm.rate_limit_per_minute == 3
    assert firm.consent_required and not platform.consent_required
    assert platform.resolved_system_prompt() == "PLATFORM"  # the platform's are untouched
    assert firm.debounce_seconds == platform.debounce_seconds


def test_a_tenant_turns_vision_off_or_on_over_the_platforms_choice() -> None:
    platform = load_settings(
        _env_file=None, ai_base_url="http://ai/v1", ai_model="words", ai_vision_model="eyes"
    )
    assert platform.ai_vision_enabled
    off = tenant_settings(platform, {"ai_vision_enabled": False})
    assert off.ai_vision_enabled is False and off.ai_vision_model == "eyes"
    # The platform offers the model switched off; a firm that wants it turns it on.
    offered = platform.model_copy(update={"ai_vision_enabled": False})
    assert tenant_settings(offered, {"ai_vision_enabled": True}).ai_vision_enabled
    assert not tenant_settings(offered, {}).ai_vision_enabled
    # The model itself stays the platform's: a tenant cannot point photos elsewhere.
    with pytest.raises(ValueError, match="AI_VISION_MODEL"):
        check_tenant_overrides({"ai_vision_model": "other"})
    with pytest.raises(ValueError, match="AI_VISION_ENABLED"):
        check_tenant_overrides({"ai_vision_enabled": "maybe"})


def test_a_tenants_templates_are_checked_and_win_over_the_platforms() -> None:
    templates = [{"name": "sapa", "language": "id", "parameters": [], "purpose": "out_of_window"}]
    firm = tenant_settings(load_settings(_env_file=None), {"whatsapp_templates": templates})
    assert [t.name for t in firm.templates().templates] == ["sapa"]
    with pytest.raises(ValueError, match="WHATSAPP_TEMPLATES"):
        check_tenant_overrides({"whatsapp_templates": [{"name": 1}]})


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"database_url": "postgresql://x"}, "DATABASE_URL"),
        ({"rate_limit_per_minute": 0}, "RATE_LIMIT_PER_MINUTE"),
        ({"retention_days": "soon"}, "RETENTION_DAYS"),
        ({"identity_policy": "anyone"}, "IDENTITY_POLICY"),
    ],
)
def test_a_setting_a_tenant_may_not_hold_or_a_bad_value_is_refused_by_name(
    overrides: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        check_tenant_overrides(overrides)


# ------------------------------------------------------------------ routing


def test_each_part_goes_to_the_tenant_owning_its_channel() -> None:
    owners = {(META, "111"): "firm-a", (META, "222"): "firm-b"}
    batch = WebhookBatch(
        messages=(message("111", "a1"), message("222", "b1"), message("111", "a2")),
        statuses=(status("222"),),
        others=(OtherEvent(provider=META, channel_id="111", field_name="x", dedup_key="k"),),
    )
    routed = route_batch(batch, lambda p, c: owners.get((p, c)))
    a, b = routed.by_tenant["firm-a"], routed.by_tenant["firm-b"]
    assert [m.message_id for m in a.messages] == ["a1", "a2"] and len(a.others) == 1
    assert [m.message_id for m in b.messages] == ["b1"] and len(b.statuses) == 1
    assert routed.unowned.is_empty


def test_a_message_to_a_channel_nobody_owns_is_flagged_never_answerable() -> None:
    batch = WebhookBatch(messages=(message("999"),), statuses=(status("999"),))
    routed = route_batch(batch, lambda p, c: None)
    assert routed.by_tenant == {}
    (flagged,) = routed.unowned.others
    assert flagged.field_name == UNKNOWN_CHANNEL and flagged.channel_id == "999"
    assert not routed.unowned.messages and len(routed.unowned.statuses) == 1
    again = route_batch(batch, lambda p, c: None).unowned.others[0]
    assert again.dedup_key == flagged.dedup_key  # a redelivery is stored once


# ------------------------------------------------------------------ the runtime registry


class Catalogue:
    def __init__(self, tenants: list[Tenant]) -> None:
        self.tenants = tenants
        self.loads = 0

    async def stamp(self) -> Hashable:
        return tuple((t.id, t.version) for t in self.tenants)

    async def load(self) -> list[Tenant]:
        self.loads += 1
        return list(self.tenants)


class Built:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.intake = RecordingIntake()
        self.metrics = METRICS.tenant(tenant.id, sla_seconds=30)
        self.closed = False


METRICS = MetricsRecorder()


class RecordingIntake:
    def __init__(self) -> None:
        self.batches: list[WebhookBatch] = []

    async def receive(self, batch: WebhookBatch, *, source: str) -> IntakeResult:
        self.batches.append(batch)
        return IntakeResult(stored=len(batch.messages), others=len(batch.others))


def runtimes(catalogue: Catalogue, fail: set[str] | None = None) -> TenantRuntimes[Built]:
    async def build(tenant: Tenant) -> Built:
        if tenant.id in (fail or set()):
            raise ValueError("bad settings")
        return Built(tenant)

    async def retire(built: Built) -> None:
        built.closed = True

    return TenantRuntimes(source=catalogue, build=build, retire=retire, default="default")


def tenant(tenant_id: str, *channels: TenantChannel, **changes: Any) -> Tenant:
    return replace(Tenant(id=tenant_id, name=tenant_id, channels=channels), **changes)


def meta_channel(number: str, token: str = "t") -> TenantChannel:  # noqa: S107
    return TenantChannel(provider=META, channel_id=number, token=token)


def fonnte_channel(device: str, secret: str) -> TenantChannel:
    return TenantChannel(provider=FONNTE, channel_id=device, token="f", webhook_secret=secret)


async def test_only_a_changed_tenant_is_rebuilt_and_the_old_services_are_retired() -> None:
    catalogue = Catalogue([tenant("default"), tenant("firm-a", meta_channel("111"))])
    registry = runtimes(catalogue)
    assert await registry.refresh(force=True)
    default, firm_a = registry.get("default"), registry.get("firm-a")
    assert firm_a is not None and registry.owner_of(META, "111") == "firm-a"

    assert not await registry.refresh(force=True)  # nothing changed: nothing rebuilt
    catalogue.tenants[1] = replace(catalogue.tenants[1], version=2, settings={"x": 1})
    assert await registry.refresh(force=True)
    assert registry.get("default") is default and registry.get("firm-a") is not firm_a

    catalogue.tenants[1] = replace(catalogue.tenants[1], version=3, status=TenantStatus.ERASED)
    await registry.refresh(force=True)
    assert registry.get("firm-a") is None and registry.owner_of(META, "111") is None
    await registry.aclose()
    assert firm_a.closed and default is not None and default.closed


async def test_a_tenant_whose_services_cannot_be_built_does_not_stop_the_others() -> None:
    catalogue = Catalogue([tenant("default"), tenant("broken"), tenant("firm-a")])
    registry = runtimes(catalogue, fail={"broken"})
    await registry.refresh(force=True)
    assert registry.get("broken") is None and registry.get("firm-a") is not None


async def test_refresh_is_rate_limited_unless_forced() -> None:
    catalogue = Catalogue([tenant("default")])
    registry = runtimes(catalogue)
    await registry.refresh(force=True)
    catalogue.tenants.append(tenant("late"))
    assert not await registry.refresh()  # within refresh_every: not even looked at
    assert registry.get("late") is None
    assert await registry.refresh(force=True)
    assert registry.get("late") is not None


# ------------------------------------------------------------------ the inbound router


async def test_a_refused_request_counts_under_its_urls_tenant_else_the_default() -> None:
    catalogue = Catalogue([tenant("default"), tenant("firm-b")])
    registry = runtimes(catalogue)
    await registry.refresh(force=True)
    router = InboundRouter(registry, {})  # type: ignore[arg-type]
    before = METRICS.pending()
    router.rejected(FONNTE, "forged", tenant="firm-b")
    router.rejected(META, "unsigned", tenant=None)
    router.rejected(META, "unsigned", tenant="erased-meanwhile")
    grown = {k: v - before.get(k, 0.0) for k, v in METRICS.pending().items()}
    name = "whatsapp_webhook_rejected_total"
    forged = labels_of({"provider": "fonnte", "reason": "forged"})
    unsigned = labels_of({"provider": "meta", "reason": "unsigned"})
    assert grown[("firm-b", name, forged)] == 1
    assert grown[("default", name, unsigned)] == 2


class Receiver:
    def __init__(self, name: str) -> None:
        self.name = name

    def receive(self, request: InboundRequest, *, now: datetime) -> Verdict:
        return Accepted(batch=WebhookBatch())


async def test_a_secret_in_the_url_picks_the_tenant_and_its_own_receiver() -> None:
    catalogue = Catalogue([tenant("default"), tenant("firm-b", fonnte_channel("6281", "s" * 20))])
    registry = runtimes(catalogue)
    await registry.refresh(force=True)
    router = InboundRouter(
        registry,  # type: ignore[arg-type]
        {
            FONNTE: ProviderInbound(
                receiver=None, secret_param="secret", listen=lambda secret: Receiver(secret)
            )
        },
    )
    found = router.receiving(
        FONNTE, InboundRequest(method="POST", path_params={"secret": "s" * 20})
    )
    assert found is not None and found.tenant == "firm-b"
    assert isinstance(found.receiver, Receiver) and found.receiver.name == "s" * 20
    wrong = InboundRequest(method="POST", path_params={"secret": "x" * 20})
    assert router.receiving(FONNTE, wrong) is None  # no platform receiver: 404
    assert router.receiving(Provider("nobody"), wrong) is None


async def test_a_shared_webhook_is_split_by_owner_and_the_rest_goes_to_the_default() -> None:
    catalogue = Catalogue(
        [tenant("default", meta_channel("100")), tenant("firm-a", meta_channel("111"))]
    )
    registry = runtimes(catalogue)
    await registry.refresh(force=True)
    platform = Receiver("app")
    router = InboundRouter(
        registry,  # type: ignore[arg-type]
        {META: ProviderInbound(receiver=platform, shared_webhook=True)},
    )
    found = router.receiving(META, InboundRequest(method="POST"))
    assert found is not None and found.receiver is platform and found.tenant is None

    batch = WebhookBatch(messages=(message("111", "a"), message("100", "d"), message("999", "x")))
    result = await router.receive(batch, source="meta", tenant=None)
    firm_a, default = registry.get("firm-a"), registry.get("default")
    assert firm_a is not None and default is not None
    assert [m.message_id for b in firm_a.intake.batches for m in b.messages] == ["a"]
    default_parts = default.intake.batches
    assert [m.message_id for b in default_parts for m in b.messages] == ["d"]
    assert [o.field_name for b in default_parts for o in b.others] == [UNKNOWN_CHANNEL]
    assert (result.stored, result.others) == (2, 1)


async def test_a_batch_for_a_named_tenant_goes_there_whole() -> None:
    catalogue = Catalogue([tenant("default"), tenant("firm-b")])
    registry = runtimes(catalogue)
    await registry.refresh(force=True)
    router = InboundRouter(registry, {})  # type: ignore[arg-type]
    await router.receive(WebhookBatch(messages=(message("any"),)), source="s", tenant="firm-b")
    firm_b = registry.get("firm-b")
    assert firm_b is not None and len(firm_b.intake.batches) == 1


# ------------------------------------------------------------------ the tenant admin


class Store:
    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {"default": tenant("default")}
        self.taken: set[tuple[Provider, str]] = set()

    async def all(self) -> list[Tenant]:
        return list(self.tenants.values())

    async def get(self, tenant_id: str) -> Tenant | None:
        return self.tenants.get(tenant_id)

    async def add(
        self, tenant_id: str, name: str, settings: dict[str, Any], *, at: datetime
    ) -> bool:
        if tenant_id in self.tenants:
            return False
        self.tenants[tenant_id] = Tenant(id=tenant_id, name=name, settings=settings)
        return True

    async def update(
        self,
        tenant_id: str,
        *,
        at: datetime,
        name: str | None = None,
        settings: dict[str, Any] | None = None,
        status: TenantStatus | None = None,
    ) -> bool:
        current = self.tenants[tenant_id]
        self.tenants[tenant_id] = replace(
            current,
            name=name or current.name,
            settings=settings if settings is not None else current.settings,
            status=status or current.status,
        )
        return True

    async def add_channel(self, tenant_id: str, channel: TenantChannel, *, at: datetime) -> None:
        key = (channel.provider, channel.channel_id)
        if key in self.taken:
            raise ChannelConflict(channel.channel_id)
        self.taken.add(key)
        current = self.tenants[tenant_id]
        self.tenants[tenant_id] = replace(current, channels=(*current.channels, channel))

    async def remove_channel(
        self, tenant_id: str, provider: Provider, channel_id: str, *, at: datetime
    ) -> bool:
        return False

    async def erase(self, tenant_id: str, *, at: datetime) -> None:
        self.tenants[tenant_id] = replace(
            self.tenants[tenant_id], status=TenantStatus.ERASED, channels=()
        )


class Keys:
    def __init__(self) -> None:
        self.ensured: list[str] = []
        self.shredded: list[str] = []

    async def ensure(self, tenant: str) -> None:
        self.ensured.append(tenant)

    async def shred(self, tenant: str) -> None:
        self.shredded.append(tenant)


class Tokens:
    async def issue(self, tenant: str | None, name: str, *, at: datetime) -> tuple[int, str]:
        return 7, "wgt_secret-token"

    async def list(self, tenant: str | None) -> list[dict[str, Any]]:
        return []

    async def revoke(self, token_id: int, tenant: str | None, *, at: datetime) -> bool:
        return False


class Trail:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    async def record(self, event: AuditEvent, *, at: datetime) -> None:
        self.events.append(event)


def admin() -> tuple[TenantAdmin, Store, Keys, Trail]:
    store, keys, trail = Store(), Keys(), Trail()
    changes: list[int] = []

    async def changed() -> None:
        changes.append(1)

    service = TenantAdmin(
        store=store,
        keys=keys,
        tokens=Tokens(),
        recorder=Recorder(audit=trail, clock=lambda: NOW),  # type: ignore[arg-type]
        default_tenant="default",
        providers={META, FONNTE},
        secret_providers={FONNTE},
        check_settings=check_tenant_overrides,
        changed=changed,
    )
    return service, store, keys, trail


async def test_adding_a_tenant_checks_it_gives_it_a_key_and_records_it() -> None:
    service, store, keys, trail = admin()
    shown = await service.add("firm-a", settings={"retention_days": 90}, by=CLI)
    assert shown["settings"] == {"retention_days": 90} and keys.ensured == ["firm-a"]
    assert trail.events[-1].action == "tenant.added"
    assert trail.events[-1].details == {"tenant": "firm-a", "settings": ["retention_days"]}
    with pytest.raises(Conflict):
        await service.add("firm-a", by=CLI)
    with pytest.raises(Rejected, match="lower-case"):
        await service.add("Firm A", by=CLI)
    with pytest.raises(Rejected, match="DATABASE_URL"):
        await service.add("firm-x", settings={"database_url": "x"}, by=CLI)
    assert "firm-x" not in store.tenants


async def test_a_channels_secrets_never_reach_the_record_or_the_answer() -> None:
    service, _, _, trail = admin()
    await service.add("firm-b", by=CLI)
    shown = await service.add_channel(
        "firm-b",
        provider=FONNTE,
        channel_id="6281",
        token="tok-123",
        webhook_secret="s" * 20,
        by=CLI,
    )
    assert "tok-123" not in str(shown) and "s" * 20 not in str(shown)
    assert shown["channels"][0]["token"] is True
    assert all("tok-123" not in str(e.details) for e in trail.events)
    with pytest.raises(Rejected, match="16 characters"):
        await service.add_channel(
            "firm-b", provider=FONNTE, channel_id="6282", token="t", webhook_secret="short", by=CLI
        )
    with pytest.raises(Conflict, match="taken"):
        await service.add_channel(
            "firm-b",
            provider=FONNTE,
            channel_id="6281",
            token="t",
            webhook_secret="s" * 20,
            by=CLI,
        )
    with pytest.raises(Rejected, match="not configured"):
        await service.add_channel(
            "firm-b", provider=Provider("echo"), channel_id="1", token="t", by=CLI
        )


async def test_settings_merge_and_a_null_goes_back_to_the_platforms() -> None:
    service, store, _, _ = admin()
    await service.add("firm-a", settings={"retention_days": 90, "consent_required": True}, by=CLI)
    await service.set("firm-a", settings={"retention_days": None, "max_message_chars": 500}, by=CLI)
    assert store.tenants["firm-a"].settings == {"consent_required": True, "max_message_chars": 500}


async def test_erasing_shreds_the_key_first_and_the_default_tenant_is_never_erased() -> None:
    service, store, keys, trail = admin()
    await service.add("firm-c", by=CLI)
    shown = await service.erase("firm-c", by=CLI)
    assert shown["status"] == "erased" and keys.shredded == ["firm-c"]
    assert trail.events[-1].action == "tenant.erased"
    with pytest.raises(Conflict):
        await service.erase("firm-c", by=CLI)
    with pytest.raises(Conflict):
        await service.add_channel("firm-c", provider=META, channel_id="1", token="t", by=CLI)
    with pytest.raises(Rejected, match="default tenant"):
        await service.erase("default", by=CLI)
    with pytest.raises(NotFound):
        await service.erase("nobody", by=CLI)
    assert store.tenants["default"].status is TenantStatus.ACTIVE


class Files:
    """The erased tenant's files (the `TenantFiles` port): what each erasure asked to remove."""

    def __init__(self, *, broken: bool = False) -> None:
        self.discarded: list[str] = []
        self.broken = broken

    async def discard(self, tenant: str) -> int:
        if self.broken:
            raise OSError("database went away")
        self.discarded.append(tenant)
        return 3


async def test_erasing_removes_the_tenants_files_after_the_key_and_records_how_many() -> None:
    service, store, keys, trail = admin()
    files = Files()
    service = replace(service, files=files)
    await service.add("firm-c", by=CLI)
    await service.erase("firm-c", by=CLI)
    assert keys.shredded == ["firm-c"] and files.discarded == ["firm-c"]
    assert trail.events[-1].action == "tenant.erased"
    assert trail.events[-1].details == {"tenant": "firm-c", "media": 3}

    # A failure there does not undo the erasure: it is recorded, the sweep finishes it.
    broken = replace(service, files=Files(broken=True))
    await broken.add("firm-d", by=CLI)
    shown = await broken.erase("firm-d", by=CLI)
    assert shown["status"] == "erased" and store.tenants["firm-d"].status is TenantStatus.ERASED
    assert trail.events[-1].details == {"tenant": "firm-d", "media": None}


async def test_a_token_is_shown_once_and_recorded_without_its_value() -> None:
    service, _, _, trail = admin()
    await service.add("firm-a", by=CLI)
    issued = await service.issue_token("firm-a", name="console", by=CLI)
    assert issued["token"] == "wgt_secret-token"
    assert trail.events[-1].action == "api_token.issued"
    assert "wgt_secret-token" not in str(trail.events[-1].details)
    with pytest.raises(NotFound):
        await service.revoke_token("firm-a", 99, by=CLI)
