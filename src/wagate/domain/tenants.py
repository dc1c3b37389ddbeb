"""Tenants (MT1, MT2): the firms one gateway serves, the channels each owns, and which tenant a
webhook's parts belong to (IN8).

A tenant is identified by a short slug (it names rows, metric labels and audit records; never a
phone number). Its channels are provider channels it alone answers on: a Meta phone number id,
a Fonnte device. Its settings are overrides of the platform's (environment) settings.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from wagate.domain.messages import (
    InboundMessage,
    OtherEvent,
    Provider,
    StatusUpdate,
    WebhookBatch,
)
from wagate.domain.operators import Role

TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class TenantStatus(StrEnum):
    ACTIVE = "active"  # receives, answers, sends
    DISABLED = "disabled"  # intake still stores; nothing is answered or sent
    ERASED = "erased"  # its data key destroyed: what it stored can no longer be read


def check_tenant_id(value: str) -> str:
    """The id as given, or ValueError saying what an id may be."""
    if not TENANT_ID.match(value):
        raise ValueError(
            f"tenant id {value!r}: 1–40 characters, lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantChannel:
    """A provider channel a tenant owns, with the credentials to send from it.

    `webhook_secret` authenticates a provider that signs nothing (Fonnte: the secret in the
    webhook URL); its webhooks reach this tenant by that secret alone."""

    provider: Provider
    channel_id: str
    token: str = field(repr=False)
    account_id: str | None = None  # Meta: the WhatsApp Business Account id
    webhook_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Tenant:
    id: str
    name: str
    status: TenantStatus = TenantStatus.ACTIVE
    settings: Mapping[str, Any] = field(default_factory=dict)  # overrides of the platform's
    channels: tuple[TenantChannel, ...] = ()
    version: int = 1

    @property
    def answers(self) -> bool:
        return self.status is TenantStatus.ACTIVE

    def channel(self, provider: Provider, channel_id: str) -> TenantChannel | None:
        for candidate in self.channels:
            if candidate.provider == provider and candidate.channel_id == channel_id:
                return candidate
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenGrant:
    """Whom an operator API token speaks for: one tenant, or the platform (tenant None); a
    personal token also names its operator user (`user`, with the role they hold now)."""

    id: int
    tenant: str | None
    name: str
    user: str | None = None
    role: Role | None = None


# A channel's owner, or None when no tenant owns it.
OwnerOf = Callable[[Provider, str], str | None]

UNKNOWN_CHANNEL = "unknown_channel_message"


@dataclass(frozen=True, slots=True, kw_only=True)
class Routed:
    """A webhook delivery split by owner: each tenant's parts, and the parts no tenant owns
    (stored under the platform's default tenant, flagged, never answered)."""

    by_tenant: Mapping[str, WebhookBatch]
    unowned: WebhookBatch


def route_batch(batch: WebhookBatch, owner_of: OwnerOf) -> Routed:
    """Each part goes to the tenant that owns its channel (IN8). A message to a channel nobody
    owns becomes a flagged `unknown_channel_message` event: answering it would send from a
    number with a token that is not its owner's. Statuses and other events without an owner
    are kept as they are (they are stored, and answer nothing)."""
    messages: dict[str, list[InboundMessage]] = {}
    statuses: dict[str, list[StatusUpdate]] = {}
    others: dict[str, list[OtherEvent]] = {}
    unowned_statuses: list[StatusUpdate] = []
    unowned_others: list[OtherEvent] = []
    for message in batch.messages:
        owner = owner_of(message.provider, message.channel_id)
        if owner is None:
            unowned_others.append(flag_unknown_channel(message))
        else:
            messages.setdefault(owner, []).append(message)
    for status in batch.statuses:
        owner = owner_of(status.provider, status.channel_id)
        if owner is None:
            unowned_statuses.append(status)
        else:
            statuses.setdefault(owner, []).append(status)
    for other in batch.others:
        owner = owner_of(other.provider, other.channel_id) if other.channel_id else None
        if owner is None:
            unowned_others.append(other)
        else:
            others.setdefault(owner, []).append(other)
    tenants = {*messages, *statuses, *others}
    return Routed(
        by_tenant={
            tenant: WebhookBatch(
                messages=tuple(messages.get(tenant, ())),
                statuses=tuple(statuses.get(tenant, ())),
                others=tuple(others.get(tenant, ())),
            )
            for tenant in tenants
        },
        unowned=WebhookBatch(statuses=tuple(unowned_statuses), others=tuple(unowned_others)),
    )


def flag_unknown_channel(message: InboundMessage) -> OtherEvent:
    # The same key on every redelivery, so the flagged event is stored once.
    parts = json.dumps(
        ["unknown_channel", message.channel_id, message.message_id],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return OtherEvent(
        provider=message.provider,
        channel_id=message.channel_id,
        field_name=UNKNOWN_CHANNEL,
        dedup_key=hashlib.sha256(parts.encode()).hexdigest(),
        raw=message.raw,
    )
