"""Per-tenant data keys on a real PostgreSQL, through `tenant_keys`: two `TenantKeys` are two
processes sharing the database. Keys are created once however many processes race, re-wrapped
(not re-sealed) when the master rotates, rotated per tenant, and shredded for everyone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.harness import fresh_database
from wagate.domain.audit import AuditEvent
from wagate.domain.messages import Provider
from wagate.security.crypto import AesGcmSealer
from wagate.security.keyfile_sealer import FixedKeyring, KeyfileKeyring
from wagate.security.keys import Keyring, load_or_create_keyfile
from wagate.security.sealing import SealContext, ShreddedTenant, UnreadableEnvelope
from wagate.security.tenant_sealer import UnknownDataKey
from wagate.storage import migrate
from wagate.storage.audit import PostgresAuditLog
from wagate.storage.database import Database
from wagate.storage.provider_health import PostgresCredentials
from wagate.storage.reseal import KeyAdmin, Resealer
from wagate.storage.tenant_keys import MASTER_INDEX_MARKER, TenantKeys, UnknownTenant

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
MASTERS = Keyring.parse("m1:" + "A" * 43)
PHONE = "6281234567890"


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    with fresh_database() as url:
        migrate.upgrade(url)
        db = Database(url, pool_size=4)
        await db.open()
        try:
            async with db.pool.connection() as conn:
                for tenant in ("default", "acme", "beta"):
                    await conn.execute(
                        "INSERT INTO tenants (id, name, created_at, updated_at) "
                        "VALUES (%(id)s, %(id)s, now(), now())",
                        {"id": tenant},
                    )
            yield db
        finally:
            await db.close()


def _process(database: Database, masters: Keyring | KeyfileKeyring = MASTERS) -> TenantKeys:
    source = masters if isinstance(masters, KeyfileKeyring) else FixedKeyring(masters)
    return TenantKeys(database, source, master_indexed={"default"})


async def _rows(database: Database, sql: str) -> list[dict[str, object]]:
    async with database.pool.connection() as conn:
        return list(await (await conn.execute(sql)).fetchall())


def _token(keys: TenantKeys, database: Database, tenant: str) -> PostgresCredentials:
    return PostgresCredentials(database, keys.sealer, tenant)


async def test_processes_racing_to_create_a_tenants_key_end_up_sharing_one(
    database: Database,
) -> None:
    first, second = _process(database), _process(database)
    await asyncio.gather(*(keys.ensure(t) for keys in (first, second) for t in ("acme", "default")))
    await asyncio.gather(first.ensure("acme"), second.ensure("acme"))  # idempotent
    rows = await _rows(database, "SELECT tenant, key_id FROM tenant_keys ORDER BY 1, 2")
    assert [(r["tenant"], r["key_id"]) for r in rows] == [
        ("acme", "d1"),
        ("default", "d1"),
        ("default", MASTER_INDEX_MARKER),
    ]
    await _token(first, database, "acme").set(Provider.META, "secret-token", at=NOW)
    assert await _token(second, database, "acme").get(Provider.META) == ("secret-token", 1)
    # default keeps the master-derived index; acme indexes under its own key, alike everywhere
    phone_digest = second.indexer_for("acme").digest(PHONE, purpose="phone")
    assert first.indexer_for("acme").digest(PHONE, purpose="phone") == phone_digest
    assert first.indexer_for("default").digest(PHONE, purpose="phone") != phone_digest
    with pytest.raises(UnknownTenant, match="gamma"):
        await first.ensure("gamma")


async def test_a_tenant_shredded_in_one_process_is_unreadable_in_another_after_refresh(
    database: Database,
) -> None:
    eraser, worker = _process(database), _process(database)
    for tenant in ("acme", "beta"):
        await worker.ensure(tenant)
        await _token(worker, database, tenant).set(Provider.META, f"{tenant}-token", at=NOW)
    audit = PostgresAuditLog(database, "acme")
    await audit.record(AuditEvent(action="token.set", actor="cli", details={"v": 1}), at=NOW)

    await eraser.load()
    assert await eraser.shred("acme") == 1
    with pytest.raises(ShreddedTenant):
        await _token(eraser, database, "acme").get(Provider.META)

    await worker.refresh()
    with pytest.raises(ShreddedTenant, match="acme"):
        await _token(worker, database, "acme").get(Provider.META)
    with pytest.raises(ShreddedTenant):
        await worker.ensure("acme")  # an erased tenant never gets a fresh key
    with pytest.raises(ShreddedTenant):
        worker.indexer_for("acme").digest(PHONE, purpose="phone")
    assert await _token(worker, database, "beta").get(Provider.META) == ("beta-token", 1)
    rows = await _rows(
        database, "SELECT wrapped, destroyed_at FROM tenant_keys WHERE tenant='acme'"
    )
    assert rows and all(r["wrapped"] is None and r["destroyed_at"] is not None for r in rows)
    # the audit chain hashes its own entries, never sealed content: it still verifies
    await audit.record(AuditEvent(action="keys.shredded", actor="cli", details={}), at=NOW)
    assert (await audit.verify()).ok
    # a tenant shredded before it ever had a key is tombstoned too
    assert await eraser.shred("default") == 0
    with pytest.raises(ShreddedTenant):
        await worker.ensure("default")


async def test_rotating_the_master_rewraps_data_keys_and_leaves_content_as_it_was(
    database: Database, tmp_path: Path
) -> None:
    keyfile = tmp_path / "encryption-keys.json"
    ring, _ = load_or_create_keyfile(keyfile)
    admin_keys = _process(database, KeyfileKeyring(keyfile, ring))
    worker = _process(database, KeyfileKeyring(keyfile, ring))
    await worker.ensure("acme")
    await _token(worker, database, "acme").set(Provider.META, "acme-token", at=NOW)
    sealed_before = await _rows(database, "SELECT secret FROM provider_credentials")

    admin = KeyAdmin(
        Resealer(database, admin_keys.sealer, "default"),
        keyfile,
        source="file",
        tenant_keys=admin_keys,
    )
    new_master, count = admin.rotate()
    assert count == 2
    assert await admin.rewrap() == 1
    rows = await _rows(database, "SELECT wrapped_by FROM tenant_keys WHERE key_id = 'd1'")
    assert [r["wrapped_by"] for r in rows] == [new_master]
    assert await _rows(database, "SELECT secret FROM provider_credentials") == sealed_before

    await worker.refresh()  # unwraps under the new master, which it reads from the key file
    assert await _token(worker, database, "acme").get(Provider.META) == ("acme-token", 1)
    assert await admin.status() == {"acme/d1": 1}


async def test_version_1_rows_move_to_data_keys_and_a_tenants_data_key_rotates_alone(
    database: Database,
) -> None:
    before = AesGcmSealer(MASTERS)  # an install from before per-tenant keys
    for tenant in ("default", "beta"):
        await PostgresCredentials(database, before, tenant).set(Provider.META, tenant, at=NOW)
    keys = _process(database)
    admin = KeyAdmin(
        Resealer(database, keys.sealer, "default"),
        None,
        source="WAGATE_ENCRYPTION_KEYS",
        tenant_keys=keys,
        settle_seconds=0,
    )
    assert await admin.status() == {"m1": 2}
    await keys.ensure("default")
    assert await _token(keys, database, "default").get(Provider.META) == ("default", 1)

    resealed = await admin.reseal()
    assert resealed["provider_credentials.secret"] == 2
    assert await admin.status() == {"default/d1": 1, "beta/d1": 1}

    other = _process(database)  # a running worker
    await other.load()
    assert await admin.rotate_data_key("beta") == "d2"
    assert (await admin.reseal_tenant("beta"))["provider_credentials.secret"] == 1
    assert await admin.status() == {"default/d1": 1, "beta/d2": 1}
    with pytest.raises(UnknownDataKey, match="d2"):  # it has not refreshed yet
        await _token(other, database, "beta").get(Provider.META)
    await other.refresh()
    assert await _token(other, database, "beta").get(Provider.META) == ("beta", 1)
    listed = {(r["tenant"], r["keyId"]): r for r in await admin.data_keys()}
    assert set(listed) == {
        ("acme", "d1"),  # re-sealing gives every tenant its key, content or not
        ("default", "d1"),
        ("default", MASTER_INDEX_MARKER),
        ("beta", "d1"),
        ("beta", "d2"),
    }
    assert listed[("beta", "d2")]["wrappedBy"] == "m1"

    # shredding re-seals what is left under the master first, so nothing escapes it
    await PostgresCredentials(database, before, "acme").set(Provider.META, "acme", at=NOW)
    assert await admin.shred("acme") == 1
    await other.refresh()
    with pytest.raises(ShreddedTenant):
        await _token(other, database, "acme").get(Provider.META)
    [row] = await _rows(database, "SELECT secret FROM provider_credentials WHERE tenant='acme'")
    secret = row["secret"]
    assert isinstance(secret, bytes) and secret[0] == 2  # it was moved to the data key first
    context = SealContext(tenant="acme", table="provider_credentials", key="meta")
    with pytest.raises(UnreadableEnvelope):
        before.open(secret, context)  # and the master alone cannot open it
