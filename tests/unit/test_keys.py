"""Encryption keys: `WAGATE_ENCRYPTION_KEYS` parsing that never echoes key material, the key file
created once (0600, atomically, race-safe) and extended by rotation, and HKDF sub-keys."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import re
import stat
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from wagate.security.keys import (
    AES_GCM_PURPOSE,
    BLIND_INDEX_PURPOSE,
    Key,
    Keyring,
    KeyringError,
    add_key_to_file,
    derive,
    generate_key,
    load_or_create_keyfile,
    read_keyfile,
)

MATERIAL_A = bytes(range(32))
MATERIAL_B = bytes(range(100, 132))
# 0xfb/0xff bytes make the standard and URL-safe alphabets differ (`+/` vs `-_`).
MATERIAL_C = bytes([0xFB, 0xFF] * 16)
KEY_ID_FORMAT = re.compile(r"k\d{8}-[0-9a-f]{6}")
Outcome = tuple[tuple[str, ...], bytes, bool]


def _spellings(material: bytes) -> list[str]:
    standard = base64.b64encode(material).decode()
    urlsafe = base64.urlsafe_b64encode(material).decode()
    return [standard, standard.rstrip("="), urlsafe, urlsafe.rstrip("=")]


# --- Keyring.parse -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoded", _spellings(MATERIAL_C), ids=["std", "std-nopad", "url", "url-nopad"]
)
def test_parse_accepts_standard_and_urlsafe_base64_with_or_without_padding(encoded: str) -> None:
    keyring = Keyring.parse(f"k1:{encoded}")
    assert keyring.current == Key(key_id="k1", material=MATERIAL_C)


def test_parse_keeps_order_and_the_first_key_is_current() -> None:
    a, b = _spellings(MATERIAL_A)[0], _spellings(MATERIAL_B)[3]
    keyring = Keyring.parse(f" new.2:{b} ,\n old_1:{a},")
    assert keyring.ids == ("new.2", "old_1")
    assert keyring.current.key_id == "new.2"
    assert keyring.current.material == MATERIAL_B
    assert keyring.oldest.key_id == "old_1"
    assert keyring.get("old_1") == Key(key_id="old_1", material=MATERIAL_A)
    assert keyring.get("missing") is None


A64 = _spellings(MATERIAL_A)[0]
B64 = _spellings(MATERIAL_B)[0]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (" , ,", "empty"),
        (A64, "entry 1 is not of the form id:base64"),
        (f"k1:{A64},{B64}", "entry 2 is not of the form id:base64"),
        (f"k1:{A64},k1:{B64}", "'k1' appears more than once"),
        (f"bad id:{A64}", "entry 1: a key id must be 1-32 characters"),
        (f":{A64}", "entry 1: a key id must be 1-32 characters"),
        (f"{'k' * 33}:{A64}", "entry 1: a key id must be 1-32 characters"),
        (f"k/1:{A64}", "a key id must be"),
        (f"{A64}:k1", "a key id must be"),  # id and key swapped: the key is not echoed
        ("k1:", "entry 1: key 'k1' is not valid base64"),
        ("k1:***", "key 'k1' is not valid base64"),
        (f"k1:{A64[:-5]}!{A64[-4:]}", "key 'k1' is not valid base64"),
        (
            f"k1:{base64.b64encode(MATERIAL_A[:16]).decode()}",
            "decodes to 16 bytes; AES-256 needs 32",
        ),
        (f"k1:{base64.b64encode(MATERIAL_A + b'x').decode()}", "decodes to 33 bytes"),
        (f"k1:{A64},k2:{base64.b64encode(b'short').decode()}", "entry 2: key 'k2' decodes to 5"),
    ],
)
def test_parse_errors_say_what_to_fix_and_never_contain_key_material(
    spec: str, message: str
) -> None:
    with pytest.raises(KeyringError, match=re.escape(message)) as raised:
        Keyring.parse(spec)
    text = str(raised.value)
    for material in (MATERIAL_A, MATERIAL_B, MATERIAL_A[:16], MATERIAL_A + b"x"):
        for spelling in _spellings(material):
            assert spelling[:12] not in text
    assert isinstance(raised.value, ValueError)


def test_keyring_and_key_reprs_do_not_show_material() -> None:
    keyring = Keyring.parse(f"k1:{A64}")
    for text in (repr(keyring), str(keyring), repr(keyring.current)):
        assert "k1" in text
        assert A64[:12] not in text
        assert repr(MATERIAL_A)[:20] not in text
        assert MATERIAL_A.hex()[:16] not in text


def test_a_key_must_be_32_bytes_and_a_keyring_non_empty_with_unique_ids() -> None:
    with pytest.raises(KeyringError, match="31 bytes"):
        Key(key_id="k1", material=MATERIAL_A[:31])
    with pytest.raises(KeyringError, match="empty"):
        Keyring(keys=())
    with pytest.raises(KeyringError, match="more than once"):
        Keyring(keys=(Key(key_id="k", material=MATERIAL_A), Key(key_id="k", material=MATERIAL_B)))


# --- derive ------------------------------------------------------------------------------


def test_derived_sub_keys_are_32_bytes_deterministic_and_distinct_per_purpose() -> None:
    aes = derive(MATERIAL_A, AES_GCM_PURPOSE)
    index = derive(MATERIAL_A, BLIND_INDEX_PURPOSE)
    assert len(aes) == len(index) == 32
    assert aes == derive(MATERIAL_A, AES_GCM_PURPOSE)
    assert aes != index
    assert MATERIAL_A not in (aes, index)
    assert derive(MATERIAL_B, AES_GCM_PURPOSE) != aes
    with pytest.raises(ValueError, match="purpose"):
        derive(MATERIAL_A, "")


def test_generated_keys_are_random_with_a_dated_id() -> None:
    first, second = generate_key(), generate_key()
    assert KEY_ID_FORMAT.fullmatch(first.key_id)
    assert first.key_id != second.key_id
    assert first.material != second.material
    assert len(first.material) == 32


# --- key file ----------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_start_creates_a_private_key_file_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "data" / "keys.json"
    keyring, created = load_or_create_keyfile(path)
    assert created is True
    assert _mode(path) == 0o600
    assert len(keyring.keys) == 1
    assert KEY_ID_FORMAT.fullmatch(keyring.current.key_id)
    document = json.loads(path.read_text())
    assert document == {
        "keys": [
            {
                "id": keyring.current.key_id,
                "key": base64.b64encode(keyring.current.material).decode(),
            }
        ]
    }
    assert sorted(p.name for p in path.parent.iterdir()) == ["keys.json"]  # no temp left


def test_the_key_file_is_private_even_under_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        load_or_create_keyfile(tmp_path / "keys.json")
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "keys.json") == 0o600


def test_a_second_start_reuses_the_key_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    first, _ = load_or_create_keyfile(path)
    second, created = load_or_create_keyfile(path)
    assert created is False
    assert second == first


def test_losing_the_creation_race_reads_the_winners_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keys.json"
    winner = Keyring(keys=(Key(key_id="winner", material=MATERIAL_B),))
    real_link = os.link

    def competitor_links_first(src: str | Path, dst: str | Path) -> None:
        path.write_text(json.dumps({"keys": [{"id": "winner", "key": B64}]}))
        real_link(src, dst)  # raises FileExistsError, as O_EXCL would

    monkeypatch.setattr(os, "link", competitor_links_first)
    keyring, created = load_or_create_keyfile(path)
    assert created is False
    assert keyring == winner
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json"]


def test_without_hard_links_creation_falls_back_to_o_excl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: str | Path, dst: str | Path) -> None:
        raise PermissionError("hard links not supported")

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "keys.json"
    keyring, created = load_or_create_keyfile(path)
    assert created is True
    assert _mode(path) == 0o600
    assert read_keyfile(path) == keyring
    assert load_or_create_keyfile(path) == (keyring, False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json"]


def _race_to_create(path: str, barrier: Barrier, results: Queue[Outcome]) -> None:
    barrier.wait()
    keyring, created = load_or_create_keyfile(Path(path))
    results.put((keyring.ids, keyring.current.material, created))


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    starters = 8
    barrier = context.Barrier(starters)
    results: Queue[Outcome] = context.Queue()
    path = tmp_path / "keys.json"
    processes = [
        context.Process(target=_race_to_create, args=(str(path), barrier, results))
        for _ in range(starters)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=30) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert len({(ids, material) for ids, material, _ in outcomes}) == 1
    assert [created for _, _, created in outcomes].count(True) == 1
    assert read_keyfile(path).current.material == outcomes[0][1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json"]


def test_rotation_prepends_a_new_current_key_and_keeps_the_old_ones(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    original, _ = load_or_create_keyfile(path)
    rotated = add_key_to_file(path)
    again = add_key_to_file(path)
    assert rotated.keys[1:] == original.keys
    assert again.keys[1:] == rotated.keys
    assert len({key.key_id for key in again.keys}) == 3
    assert len({key.material for key in again.keys}) == 3
    assert read_keyfile(path) == again
    assert load_or_create_keyfile(path) == (again, False)
    assert _mode(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json"]


def test_a_rotation_already_in_progress_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    original, _ = load_or_create_keyfile(path)
    staging = tmp_path / ".keys.json.rotating"
    staging.write_text("partial")
    with pytest.raises(KeyringError, match="another key rotation"):
        add_key_to_file(path)
    assert staging.read_text() == "partial"
    assert read_keyfile(path) == original


def test_rotating_a_missing_key_file_fails_and_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="cannot be read"):
        add_key_to_file(tmp_path / "keys.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot be read as JSON"),
        ("[]", 'no "keys" list'),
        ('{"keys": []}', 'no "keys" list'),
        ('{"keys": ["k1"]}', "entry 1 is not an object"),
        ('{"keys": [{"id": "k1"}]}', 'entry 1 needs string fields "id" and "key"'),
        (json.dumps({"keys": [{"id": A64, "key": "k1"}]}), "a key id must be"),
        (json.dumps({"keys": [{"id": "k1", "key": A64[:20]}]}), "key 'k1' decodes to 15 bytes"),
        (
            json.dumps({"keys": [{"id": "k1", "key": A64}, {"id": "k1", "key": B64}]}),
            "'k1' appears more than once",
        ),
    ],
)
def test_a_broken_key_file_is_refused_without_echoing_key_material(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "keys.json"
    path.write_text(content)
    with pytest.raises(KeyringError, match=re.escape(message)) as raised:
        load_or_create_keyfile(path)
    assert str(path) in str(raised.value)
    assert A64[:12] not in str(raised.value)
    assert B64[:12] not in str(raised.value)
