"""CP1: masking with conversation-stable placeholders, the vault that holds them, and restoring
them in the AI's answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wagate.domain.privacy import EntityType, PlaceholderVault, find_pii, mask, unmask
from wagate.domain.privacy.vault import canonical

PII_DATA = Path(__file__).parent.parent / "data" / "pii"
NIK = "3171012304900001"
NIK_2 = "3273456304900002"


def test_each_value_gets_a_placeholder_numbered_per_type() -> None:
    vault = PlaceholderVault()
    text = f"Pak Budi, NIK {NIK} dan {NIK_2}, hp 0812-3456-7890, Bu Ani"
    assert mask(text, vault=vault) == (
        "Pak [NAMA_1], NIK [NIK_1] dan [NIK_2], hp [TELEPON_1], Bu [NAMA_2]"
    )


def test_placeholders_are_stable_across_messages_of_a_conversation() -> None:
    vault = PlaceholderVault()
    first = mask(f"NIK {NIK}, email budi@gmail.com", vault=vault)
    second = mask(f"email BUDI@gmail.com lagi, NIK saya {NIK}, NIK istri {NIK_2}", vault=vault)
    assert first == "NIK [NIK_1], email [EMAIL_1]"
    assert second == "email [EMAIL_1] lagi, NIK saya [NIK_1], NIK istri [NIK_2]"


def test_one_phone_number_in_different_spellings_is_one_placeholder() -> None:
    vault = PlaceholderVault()
    masked = mask("0812-3456-7890, +62 812 3456 7890, 6281234567890", vault=vault)
    assert masked == "[TELEPON_1], [TELEPON_1], [TELEPON_1]"
    assert unmask("[TELEPON_1]", vault) == "0812-3456-7890"  # the spelling first seen


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        (EntityType.TELEPON, "(021) 555-1234", "+62 21 5551234"),
        (EntityType.TELEPON, "0044 20 7946 0958", "+44 20 7946 0958"),
        (EntityType.TELEPON, "+62 (0)812 9876 5432", "0812-9876-5432"),
        (EntityType.NIK, "3171 0123 0490 0001", NIK),
        (EntityType.NPWP, "01.234.567.8-901.000", "012345678901000"),
        (EntityType.NAMA, "Budi  Santoso", "BUDI SANTOSO"),
        (EntityType.EMAIL, "Budi@Gmail.com", "budi@gmail.com"),
    ],
)
def test_canonical_forms(kind: EntityType, a: str, b: str) -> None:
    assert canonical(kind, a) == canonical(kind, b)


def test_different_values_of_different_types_never_share_a_placeholder() -> None:
    vault = PlaceholderVault()
    assert vault.placeholder_for(EntityType.REKENING, "1234567890") == "[REKENING_1]"
    assert vault.placeholder_for(EntityType.TELEPON, "1234567890") == "[TELEPON_1]"


def test_vault_round_trips_through_a_plain_dict() -> None:
    vault = PlaceholderVault()
    mask(f"Pak Budi, NIK {NIK}, a.n. RINA WATI", vault=vault)
    snapshot = vault.to_dict()
    assert json.loads(json.dumps(snapshot)) == snapshot
    restored = PlaceholderVault.from_dict(snapshot)
    assert restored.to_dict() == snapshot
    assert mask("Bu Ani", vault=restored) == "Bu [NAMA_3]"  # counters continue
    assert mask(f"NIK {NIK}", vault=restored) == "NIK [NIK_1]"


@pytest.mark.parametrize(
    "snapshot",
    [
        {},
        {"version": 2, "entries": []},
        {"version": 1, "entries": {}},
        {"version": 1, "entries": ["[NIK_1]"]},
        {"version": 1, "entries": [{"placeholder": "[NIK_0]", "value": "x"}]},
        {"version": 1, "entries": [{"placeholder": "[KTP_1]", "value": "x"}]},
        {"version": 1, "entries": [{"placeholder": "[NIK_1]", "value": 1}]},
        {
            "version": 1,
            "entries": [
                {"placeholder": "[NIK_1]", "value": "a"},
                {"placeholder": "[NIK_1]", "value": "b"},
            ],
        },
    ],
)
def test_vault_rejects_malformed_snapshots(snapshot: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        PlaceholderVault.from_dict(snapshot)


def test_empty_vault_snapshot() -> None:
    assert PlaceholderVault().to_dict() == {"version": 1, "entries": []}
    assert len(PlaceholderVault.from_dict({"version": 1, "entries": []})) == 0


@pytest.fixture
def vault() -> PlaceholderVault:
    vault = PlaceholderVault()
    mask(f"Pak Budi Santoso, NIK {NIK}, hp 0812-3456-7890", vault=vault)
    return vault


@pytest.mark.parametrize(
    "written",
    ["[NIK_1]", "[nik_1]", "[ NIK_1 ]", "[NIK 1]", "[NIK-1]", "[Nik_01]", "NIK_1", "NIK\\_1"],
)
def test_unmask_tolerates_how_models_copy_placeholders(
    vault: PlaceholderVault, written: str
) -> None:
    assert unmask(f"NIK Anda {written} sudah tercatat.", vault) == f"NIK Anda {NIK} sudah tercatat."


def test_unmask_restores_every_kind_and_leaves_unknown_placeholders(
    vault: PlaceholderVault,
) -> None:
    answer = "Baik Pak [NAMA_1], kami hubungi [TELEPON_1]. [NAMA_7] dan [EMAIL_1] tidak ada."
    assert unmask(answer, vault) == (
        "Baik Pak Budi Santoso, kami hubungi 0812-3456-7890. [NAMA_7] dan [EMAIL_1] tidak ada."
    )


def test_unmask_does_not_touch_words_that_merely_look_alike(vault: PlaceholderVault) -> None:
    text = "NIK 1 dan NAMA_ 1, NIK_1x, xNIK_1, nik_1"
    assert unmask(text, vault) == text


def test_mask_leaves_text_without_pii_alone() -> None:
    vault = PlaceholderVault()
    text = "Selamat pagi, mau tanya jadwal sidang tgl 17-08-2024 jam 10.00, biaya Rp 2.500.000"
    assert mask(text, vault=vault) == text
    assert len(vault) == 0


def _corpus() -> list[dict[str, Any]]:
    lines = []
    for name in ("corpus.jsonl", "handwritten.jsonl"):
        text = (PII_DATA / name).read_text(encoding="utf-8")
        lines += [json.loads(line) for line in text.splitlines() if line.strip()]
    return lines


def test_mask_then_unmask_gives_back_every_corpus_line() -> None:
    for line in _corpus():
        text, known = line["text"], tuple(line["known_names"])
        vault = PlaceholderVault()
        masked = mask(text, vault=vault, known_names=known)
        assert unmask(masked, vault) == text
        for span in find_pii(text, known_names=known):
            assert span.value not in masked or span.kind is EntityType.NAMA, (text, span)


# ---------------------------------------------------------------- properties

_FILLER = st.sampled_from(
    ["mohon", "dicek", "ya", "kak", "sidang", "tgl", "17-08-2024", "Rp", "2.500.000", "jam",
     "10.30", "dan", "perkara", "no.", "123/Pdt.G/2024", ",", ".", "\n", "🙏", "INV-2024-000123"]
)  # fmt: skip


@st.composite
def _nik(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from([11, 31, 32, 35, 51, 73, 94, 96]))
    day = draw(st.integers(1, 28)) + draw(st.sampled_from([0, 40]))
    month, year = draw(st.integers(1, 12)), draw(st.integers(0, 99))
    serial = draw(st.integers(1, 9999))
    return f"{province}7101{day:02d}{month:02d}{year:02d}{serial:04d}"


_DIGITS = st.text("0123456789", min_size=8, max_size=8)
_PII = st.one_of(
    _nik(),
    _DIGITS.map(lambda d: f"0812-{d[:4]}-{d[4:]}"),
    _DIGITS.map(lambda d: f"+62 857 {d[:4]} {d[4:]}"),
    st.from_regex(r"[a-z]{2,8}(\.[a-z]{2,6})?@(gmail\.com|kemenkumham\.go\.id)", fullmatch=True),
    st.sampled_from(["Budi", "Rina Wati", "Ahmad Fauzi", "Siti"]).map(lambda n: f"Pak {n}"),
    _DIGITS.map(lambda d: f"rek BCA 12{d}"),
    _DIGITS.map(lambda d: f"NPWP 01.{d[:3]}.{d[3:6]}.{d[6]}-{d[7]}00.000"),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_FILLER, _PII), min_size=1, max_size=12))
def test_unmask_inverts_mask_for_text_with_generated_pii(pieces: list[str]) -> None:
    text = " ".join(pieces)
    vault = PlaceholderVault()
    masked = mask(text, vault=vault)
    assert unmask(masked, vault) == text
    assert "@" not in masked
    restored = PlaceholderVault.from_dict(vault.to_dict())
    assert unmask(masked, restored) == text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 +-.()/@abcPakBu,\n"), max_size=80))
def test_mask_never_loses_text_on_arbitrary_input(text: str) -> None:
    vault = PlaceholderVault()
    assert unmask(mask(text, vault=vault), vault) == text
