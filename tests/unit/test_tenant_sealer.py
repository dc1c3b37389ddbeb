"""A data key per tenant (envelope version 2): sealed per tenant, bound to it, still reading
versions 0 and 1, re-wrapped on a master rotation without touching content, rotated per
tenant, and unreadable once shredded — while other tenants are untouched."""

from __future__ import annotations

import pytest

from wagate.security.crypto import AesGcmSealer, BlindIndex
from wagate.security.data_keys import (
    DataKey,
    UnwrapFailed,
    data_key_id,
    generation_of,
    new_data_key,
    unwrap,
    wrap,
)
from wagate.security.keys import Key, Keyring, KeyringError
from wagate.security.sealing import (
    PlaintextSealer,
    SealContext,
    ShreddedTenant,
    UnreadableEnvelope,
)
from wagate.security.tenant_sealer import (
    DataKeyNotLoaded,
    TenantRing,
    TenantSealer,
    UnknownDataKey,
)

OLD = Key(key_id="k-old", material=bytes(range(32)))
NEW = Key(key_id="k-new", material=bytes(range(100, 132)))
MASTERS = Keyring(keys=(OLD,))
ROTATED = Keyring(keys=(NEW, OLD))
SECRET = b"Halo, nomor saya 6281234567890"


def _context(tenant: str, key: str = "wamid.1") -> SealContext:
    return SealContext(tenant=tenant, table="turns", key=key)


def _sealer(*rings: TenantRing, masters: Keyring = MASTERS) -> TenantSealer:
    sealer = TenantSealer(AesGcmSealer(masters), BlindIndex(masters))
    for ring in rings:
        sealer.install(ring)
    return sealer


def _ring(tenant: str, *keys: DataKey, master_index: bool = False) -> TenantRing:
    return TenantRing(tenant=tenant, keys=keys, master_index=master_index)


ACME_1 = new_data_key("acme", 1)
ACME_2 = new_data_key("acme", 2)
BETA_1 = new_data_key("beta", 1)


# --- sealing per tenant ----------------------------------------------------------------------


def test_each_tenant_seals_under_its_own_data_key_in_a_version_2_envelope() -> None:
    sealer = _sealer(_ring("acme", ACME_1), _ring("beta", BETA_1))
    sealed = sealer.seal(SECRET, _context("acme"))
    assert sealed[0] == 2
    assert sealed[2 : 2 + sealed[1]] == b"d1"
    assert SECRET not in sealed
    assert sealer.open(sealed, _context("acme")) == SECRET
    # Only acme's key opens it: a sealer holding the same masters but not acme's key cannot.
    with pytest.raises(UnknownDataKey, match="acme"):
        _sealer(_ring("beta", BETA_1)).open(sealed, _context("acme"))


def test_a_value_moved_to_another_tenant_does_not_open_although_both_keys_are_d1() -> None:
    sealer = _sealer(_ring("acme", ACME_1), _ring("beta", BETA_1))
    sealed = sealer.seal(SECRET, _context("acme"))
    with pytest.raises(UnreadableEnvelope, match="failed authentication"):
        sealer.open(sealed, _context("beta"))
    with pytest.raises(UnreadableEnvelope):
        sealer.open(sealed, _context("acme", key="wamid.2"))  # another row


def test_the_tenant_is_bound_even_if_two_tenants_had_the_same_key_material() -> None:
    twin = DataKey(tenant="beta", key_id="d1", material=ACME_1.material)
    sealer = _sealer(_ring("acme", ACME_1), _ring("beta", twin))
    with pytest.raises(UnreadableEnvelope):
        sealer.open(sealer.seal(SECRET, _context("acme")), _context("beta"))


def test_sealing_for_a_tenant_whose_keys_are_not_loaded_fails_loudly() -> None:
    sealer = _sealer(_ring("acme", ACME_1))
    with pytest.raises(DataKeyNotLoaded, match=r"ensure\('gamma'\)"):
        sealer.seal(SECRET, _context("gamma"))
    with pytest.raises(DataKeyNotLoaded):
        sealer.indexer_for("gamma").digest("6281234567890", purpose="phone")


def test_a_flipped_bit_in_a_version_2_envelope_is_unreadable() -> None:
    sealer = _sealer(_ring("acme", ACME_1))
    sealed = bytearray(sealer.seal(SECRET, _context("acme")))
    for index in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[index] ^= 0x01
        with pytest.raises(UnreadableEnvelope):
            sealer.open(bytes(tampered), _context("acme"))


# --- installs before per-tenant keys -----------------------------------------------------------


def test_version_1_and_version_0_envelopes_still_open_and_are_moved_to_version_2() -> None:
    legacy_v1 = AesGcmSealer(MASTERS).seal(SECRET, _context("acme"))
    legacy_v0 = PlaintextSealer().seal(SECRET, _context("acme"))
    sealer = _sealer(_ring("acme", ACME_1))
    for legacy in (legacy_v1, legacy_v0):
        assert sealer.open(legacy, _context("acme")) == SECRET
        assert sealer.needs_reseal(legacy, tenant="acme") is True
        moved = sealer.reseal(legacy, _context("acme"))
        assert moved[0] == 2
        assert sealer.needs_reseal(moved, tenant="acme") is False
        assert sealer.open(moved, _context("acme")) == SECRET


def test_a_version_1_envelope_keeps_its_tenant_binding() -> None:
    legacy = AesGcmSealer(MASTERS).seal(SECRET, _context("acme"))
    with pytest.raises(UnreadableEnvelope):
        _sealer(_ring("beta", BETA_1)).open(legacy, _context("beta"))


def test_malformed_headers_are_unreadable_for_needs_reseal_too() -> None:
    sealer = _sealer(_ring("acme", ACME_1))
    for bad in (b"", b"\x02", b"\x02\x02d1", b"\x07abc"):
        with pytest.raises(UnreadableEnvelope):
            sealer.needs_reseal(bad, tenant="acme")
        with pytest.raises(UnreadableEnvelope):
            sealer.open(bad, _context("acme"))


def test_telling_whether_a_version_2_envelope_is_current_needs_its_tenant() -> None:
    sealer = _sealer(_ring("acme", ACME_1))
    with pytest.raises(ValueError, match="tenant"):
        sealer.needs_reseal(sealer.seal(SECRET, _context("acme")))


# --- master rotation: re-wrap, no re-seal ------------------------------------------------------


def test_rewrapping_under_a_new_master_leaves_sealed_content_readable_as_it_is() -> None:
    wrapped_old = wrap(ACME_1, OLD)
    before = _sealer(_ring("acme", unwrap("acme", "d1", wrapped_old, OLD)))
    sealed = before.seal(SECRET, _context("acme"))

    # The rotation: unwrap with the old master, wrap with the new one; the content stays.
    wrapped_new = wrap(unwrap("acme", "d1", wrapped_old, OLD), NEW)
    assert wrapped_new != wrapped_old
    after = _sealer(_ring("acme", unwrap("acme", "d1", wrapped_new, NEW)), masters=ROTATED)
    assert after.open(sealed, _context("acme")) == SECRET
    assert after.needs_reseal(sealed, tenant="acme") is False
    with pytest.raises(UnwrapFailed):
        unwrap("acme", "d1", wrapped_new, OLD)


def test_a_wrapped_key_is_bound_to_its_tenant_id_and_master() -> None:
    wrapped = wrap(ACME_1, OLD)
    assert ACME_1.material not in wrapped
    assert unwrap("acme", "d1", wrapped, OLD).material == ACME_1.material
    relabelled = Key(key_id="k-new", material=OLD.material)
    for tenant, key_id, master in (
        ("beta", "d1", OLD),
        ("acme", "d2", OLD),
        ("acme", "d1", relabelled),
    ):
        with pytest.raises(UnwrapFailed, match="does not unwrap"):
            unwrap(tenant, key_id, wrapped, master)
    with pytest.raises(UnwrapFailed, match="bad length"):
        unwrap("acme", "d1", wrapped[:-1], OLD)


# --- a tenant's data key rotated -------------------------------------------------------------


def test_after_a_data_key_rotation_old_content_opens_and_is_flagged_for_resealing() -> None:
    sealer = _sealer(_ring("acme", ACME_1), _ring("beta", BETA_1))
    old = sealer.seal(SECRET, _context("acme"))
    beta = sealer.seal(SECRET, _context("beta"))
    sealer.install(_ring("acme", ACME_2, ACME_1))
    assert sealer.open(old, _context("acme")) == SECRET
    assert sealer.needs_reseal(old, tenant="acme") is True
    assert sealer.needs_reseal(beta, tenant="beta") is False  # beta's d1 is still current
    resealed = sealer.reseal(old, _context("acme"))
    assert resealed[2 : 2 + resealed[1]] == b"d2"
    assert sealer.needs_reseal(resealed, tenant="acme") is False


def test_a_ring_must_hold_its_own_tenants_keys_newest_first() -> None:
    with pytest.raises(ValueError, match="newest first"):
        _ring("acme", ACME_1, ACME_2)
    with pytest.raises(ValueError, match="another tenant"):
        _ring("acme", ACME_1, BETA_1)
    with pytest.raises(ValueError, match="no data key"):
        _ring("acme")


# --- crypto-shredding ------------------------------------------------------------------------


def test_shredding_makes_the_tenants_content_unreadable_and_leaves_others_alone() -> None:
    sealer = _sealer(_ring("acme", ACME_2, ACME_1), _ring("beta", BETA_1))
    acme = sealer.seal(SECRET, _context("acme"))
    beta = sealer.seal(SECRET, _context("beta"))
    sealer.shred("acme")
    with pytest.raises(ShreddedTenant, match="erased"):
        sealer.open(acme, _context("acme"))
    with pytest.raises(ShreddedTenant):
        sealer.seal(SECRET, _context("acme"))
    with pytest.raises(ShreddedTenant):
        sealer.indexer_for("acme").digest("6281234567890", purpose="phone")
    legacy = AesGcmSealer(MASTERS).seal(SECRET, _context("acme"))
    with pytest.raises(ShreddedTenant):  # not served even where the master could open it
        sealer.open(legacy, _context("acme"))
    assert isinstance(ShreddedTenant("x"), UnreadableEnvelope)
    assert sealer.open(beta, _context("beta")) == SECRET
    assert sealer.loaded("beta") and not sealer.loaded("acme") and sealer.shredded("acme")


# --- the blind index per tenant ----------------------------------------------------------------


def test_a_master_indexed_tenant_keeps_the_digests_it_already_has() -> None:
    sealer = _sealer(_ring("default", new_data_key("default", 1), master_index=True))
    phone = "6281234567890"
    expected = BlindIndex(MASTERS).digest(phone, purpose="phone")
    assert sealer.indexer_for("default").digest(phone, purpose="phone") == expected


def test_a_new_tenant_indexes_under_its_own_key_stable_across_data_key_rotation() -> None:
    sealer = _sealer(_ring("acme", ACME_1), _ring("beta", BETA_1))
    phone = "6281234567890"
    acme = sealer.indexer_for("acme").digest(phone, purpose="phone")
    beta = sealer.indexer_for("beta").digest(phone, purpose="phone")
    master = BlindIndex(MASTERS).digest(phone, purpose="phone")
    assert len({acme, beta, master}) == 3
    assert sealer.indexer_for("acme").digest("+62 812-3456-7890", purpose="phone") == acme
    sealer.install(_ring("acme", ACME_2, ACME_1))
    assert sealer.indexer_for("acme").digest(phone, purpose="phone") == acme


# --- data keys themselves ----------------------------------------------------------------------


def test_data_key_ids_name_a_generation_and_material_stays_out_of_the_repr() -> None:
    assert data_key_id(3) == "d3" and generation_of("d3") == 3
    assert generation_of("index.master") is None and generation_of("d0") is None
    with pytest.raises(ValueError):
        data_key_id(0)
    assert ACME_1.material.hex() not in repr(ACME_1)
    with pytest.raises(KeyringError):
        DataKey(tenant="acme", key_id="k1", material=bytes(32))
    with pytest.raises(KeyringError):
        DataKey(tenant="acme", key_id="d1", material=bytes(16))
    assert new_data_key("acme", 1).material != new_data_key("acme", 1).material
