"""Issue 11: a name found once in a conversation never shows again in a later masked turn,
in any case, because the conversation's vault carries it to every later call."""

from __future__ import annotations

import pytest

from wagate.domain.privacy import PlaceholderVault, mask, mask_turns, unmask
from wagate.domain.privacy.spans import Span

CONVERSATION = (
    "Suami saya Pak Taufik Hidayat pergi dari rumah sejak 2022.",
    "Taufik Hidayat sekarang tinggal dengan perempuan lain.",
    "kalau taufik tidak datang sidang bagaimana? TAUFIK juga blokir nomor saya",
    "Pelakunya, Marlina Sitompul, teman kerjanya. hidayat dan marlina sering bertemu.",
    "Apakah saya bisa melaporkan Marlina? MARLINA SITOMPUL juga mengancam saya.",
)
FOUND = ("taufik", "hidayat", "marlina", "sitompul")


def _conversation(turns: tuple[str, ...], known: tuple[str, ...] = ()) -> list[list[str]]:
    """What the gateway sends on each call: the whole history so far, masked with the one
    vault of the conversation (loaded, used, stored again: to_dict/from_dict)."""
    stored: dict[str, object] | None = None
    calls = []
    for end in range(1, len(turns) + 1):
        vault = PlaceholderVault.from_dict(stored) if stored else PlaceholderVault()
        calls.append([mask(turn, vault=vault, known_names=known) for turn in turns[:end]])
        stored = vault.to_dict()
    return calls


def test_a_found_name_never_shows_again_in_any_later_turn_in_any_case() -> None:
    calls = _conversation(CONVERSATION)
    for number, masked_turns in enumerate(calls, start=1):
        sent = " ".join(masked_turns).casefold()
        for word in FOUND:
            first_said = next(i for i, t in enumerate(CONVERSATION, 1) if word in t.casefold())
            if number >= first_said:
                assert word not in sent, (number, word, masked_turns)


@pytest.mark.parametrize("later", ["Budi Santoso", "BUDI SANTOSO", "budi santoso", "santoso"])
def test_a_name_found_after_an_honorific_is_masked_at_its_next_mention(later: str) -> None:
    vault = PlaceholderVault()
    mask("Notaris Budi Santoso menahan sertifikat saya.", vault=vault)
    masked = mask(f"{later} tidak bisa dihubungi sejak kemarin.", vault=vault)
    assert later.casefold() not in masked.casefold()
    assert "[NAMA_" in masked


def test_other_mentions_in_the_same_message_are_masked_too() -> None:
    vault = PlaceholderVault()
    text = "Bu Marlina menuduh saya. Padahal marlina sendiri yang menaruh barang itu."
    masked = mask(text, vault=vault)
    assert "marlina" not in masked.casefold()
    assert unmask(masked, vault).casefold() == text.casefold()  # restored as first written


def test_the_surname_after_a_first_name_profile_is_masked() -> None:
    vault = PlaceholderVault()
    masked = mask("Halo, Andi Wijaya di sini, mau tanya.", vault=vault, known_names=("Andi",))
    assert "Wijaya" not in masked


def test_an_ordinary_word_that_was_part_of_a_name_stays_a_word_in_lower_case() -> None:
    vault = PlaceholderVault()
    mask("Kepala desa, Pak Bunga Siregar, tidak mau tanda tangan.", vault=vault)
    assert mask("bunga pinjamannya 20% sebulan", vault=vault) == "bunga pinjamannya 20% sebulan"
    assert "Siregar" not in mask("siregar bilang besok", vault=vault).title()


def test_vault_lists_its_names() -> None:
    vault = PlaceholderVault()
    mask("Pak Joko dan NIK 3171014508900003", vault=vault)
    assert vault.names() == ("Joko",)
    assert PlaceholderVault.from_dict(vault.to_dict()).names() == ("Joko",)


def test_mask_turns_hides_a_name_in_earlier_turns_of_the_same_call() -> None:
    turns = ["tadi budiman datang lagi ke rumah", "Tetangga saya, Budiman, menagih utang."]
    vault = PlaceholderVault()
    assert mask(turns[0], vault=PlaceholderVault()) == turns[0]  # no cue in the first turn
    masked = mask_turns(turns, vault=vault)
    assert masked == [
        "tadi [NAMA_1] datang lagi ke rumah",
        "Tetangga saya, [NAMA_1], menagih utang.",
    ]


def _mask_turns_twice(turns: list[str], vault: PlaceholderVault) -> list[str]:
    """mask_turns by its definition: every turn scanned once to fill the vault, then every
    turn masked with all the names the vault then knows (two scans of every turn)."""
    for turn in turns:
        mask(turn, vault=vault)
    return [mask(turn, vault=vault) for turn in turns]


@pytest.mark.parametrize("end", range(1, len(CONVERSATION) + 1))
@pytest.mark.parametrize("order", ["as told", "reversed"])
def test_mask_turns_scans_once_and_masks_as_two_scans_would(end: int, order: str) -> None:
    turns = list(CONVERSATION[:end])
    turns += ["tadi budiman datang lagi", "Tetangga saya, Budiman, NIK 3174012304850003."]
    if order == "reversed":  # names first met in a later turn: earlier turns scanned again
        turns.reverse()
    ours, theirs = PlaceholderVault(), PlaceholderVault()
    assert mask_turns(turns, vault=ours) == _mask_turns_twice(turns, theirs)
    assert ours.to_dict() == theirs.to_dict()


def test_mask_turns_runs_the_recognisers_once_per_turn_when_no_new_name_turns_up() -> None:
    calls: list[str] = []

    def stage(text: str) -> list[Span]:
        calls.append(text)
        return []

    turns = ["NIK saya 3174012304850003", "email saya a.b@contoh.co.id", "terima kasih"]
    masked = mask_turns(turns, vault=PlaceholderVault(), stages=[stage])
    assert masked == ["NIK saya [NIK_1]", "email saya [EMAIL_1]", "terima kasih"]
    assert calls == turns
