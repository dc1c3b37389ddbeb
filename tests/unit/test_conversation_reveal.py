"""Revealing a conversation's placeholders (issue 15): admins only, audited without the values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wagate.domain.operators import Role
from wagate.domain.privacy.spans import EntityType
from wagate.domain.privacy.vault import PlaceholderVault
from wagate.pipeline.operator import Actor, Forbidden, NotFound, Rejected
from wagate.pipeline.operator.conversations import Conversations
from wagate.pipeline.operator.recorder import Recorder
from wagate.testing import Clock, MemoryAudit, MemoryHandover, MemoryVaultStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = Actor(via="console", user="ada", role=Role.ADMIN)


def _desk() -> tuple[Conversations, MemoryVaultStore, MemoryAudit]:
    vault = PlaceholderVault()
    vault.placeholder_for(EntityType.NAMA, "Budi Santoso")
    vault.placeholder_for(EntityType.NIK, "3174012345678901")
    vaults = MemoryVaultStore(vaults={1: vault.to_dict()})
    audit = MemoryAudit()
    desk = Conversations(
        desk=MemoryHandover(), recorder=Recorder(audit=audit, clock=Clock(T0)), vaults=vaults
    )
    return desk, vaults, audit


async def test_an_admin_sees_each_placeholders_value_and_the_audit_keeps_only_a_count() -> None:
    desk, _, audit = _desk()
    shown = await desk.reveal(1, by=ADMIN)
    assert shown == [
        {"placeholder": "[NAMA_1]", "kind": "NAMA", "value": "Budi Santoso"},
        {"placeholder": "[NIK_1]", "kind": "NIK", "value": "3174012345678901"},
    ]
    [event] = audit.events
    assert (event.action, event.actor, event.subject) == (
        "conversation.revealed",
        "user:ada:console",
        "conversation:1",
    )
    assert event.details == {"placeholders": 2}
    assert "Budi" not in str(event) and "3174012345678901" not in str(event)


async def test_a_conversation_without_a_vault_reveals_nothing_but_is_still_audited() -> None:
    desk, vaults, audit = _desk()
    vaults.vaults.clear()
    assert await desk.reveal(1, by=ADMIN) == []
    assert [e.details for e in audit.events] == [{"placeholders": 0}]


@pytest.mark.parametrize("role", [Role.STAFF, Role.LAWYER, Role.VIEWER])
async def test_only_an_admin_may_reveal(role: Role) -> None:
    desk, _, audit = _desk()
    with pytest.raises(Forbidden):
        await desk.reveal(1, by=Actor(via="console", user="someone", role=role))
    assert audit.events == []


async def test_an_unknown_conversation_or_a_set_up_without_vaults_is_refused() -> None:
    desk, _, audit = _desk()
    with pytest.raises(NotFound):
        await desk.reveal(7, by=ADMIN)
    bare = Conversations(desk=MemoryHandover(), recorder=Recorder(audit=audit, clock=Clock(T0)))
    with pytest.raises(Rejected, match="not available"):
        await bare.reveal(1, by=ADMIN)
    assert audit.events == []
