"""SETUJU/BERHENTI as reply buttons (issue 16 item 7): the ids, the fallbacks."""

from __future__ import annotations

from wagate.domain.consent import (
    CONSENT_BUTTON_ID,
    OPTOUT_BUTTON_ID,
    ConsentState,
    Keywords,
)
from wagate.domain.rich_messages import InteractiveMessage
from wagate.storage.conversations import reply_id_of


def test_a_tap_counts_by_its_id_whatever_its_title_says() -> None:
    keywords = Keywords()
    assert keywords.classify("Ya", CONSENT_BUTTON_ID) is ConsentState.GRANTED
    assert keywords.classify("SETUJU", OPTOUT_BUTTON_ID) is ConsentState.WITHDRAWN
    # Renamed keywords: a button sent before the change still counts.
    assert Keywords(consent="OK", optout="STOP").classify("SETUJU", CONSENT_BUTTON_ID) is (
        ConsentState.GRANTED
    )


def test_a_quick_reply_counts_by_its_payload_or_its_label_and_other_ids_by_nothing() -> None:
    keywords = Keywords()
    assert keywords.classify("Saya mau", "setuju") is ConsentState.GRANTED
    assert keywords.classify("Berhenti!", "PAYLOAD_X") is ConsentState.WITHDRAWN
    assert keywords.classify("Ya", "pidana") is None
    assert keywords.classify(None, None) is None


def test_the_buttons_are_a_valid_button_message_with_the_keywords_as_titles() -> None:
    shown = Keywords().buttons("Balas SETUJU untuk melanjutkan.")
    assert shown is not None
    message = InteractiveMessage.parse(shown)
    assert message.body == "Balas SETUJU untuk melanjutkan."
    assert [(c.id, c.title) for c in message.choices] == [
        (CONSENT_BUTTON_ID, "SETUJU"),
        (OPTOUT_BUTTON_ID, "BERHENTI"),
    ]


def test_no_buttons_where_a_button_message_cannot_carry_the_request() -> None:
    assert Keywords().buttons("x" * 1025) is None  # Meta's body limit: the text goes
    assert Keywords(consent="SAYA SETUJU DENGAN SEMUANYA").buttons("ok") is None  # title > 20


def test_the_reply_id_is_read_from_a_stored_button_or_interactive_reply() -> None:
    tap = {"content": {"kind": "interactive", "reply_type": "button_reply", "reply_id": "a"}}
    quick = {"content": {"kind": "button", "payload": "SETUJU", "text": "Setuju"}}
    assert reply_id_of(tap) == "a"
    assert reply_id_of(quick) == "SETUJU"
    assert reply_id_of({"content": {"kind": "text", "body": "SETUJU"}}) is None
    assert reply_id_of({}) is None
