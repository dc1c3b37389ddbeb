"""Meta message content types (protocol §4.1, §4.2): each lands in our value type with the
fields the protocol reference lists, read from the committed fixtures and pywa's examples."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from wagate.domain.messages import (
    ButtonTap,
    InboundMessage,
    InteractiveReply,
    Location,
    Media,
    Reaction,
    SharedContacts,
    SystemNotice,
    Text,
    Unsupported,
)
from wagate.providers.meta.webhook import parse_payload

DATA = Path(__file__).parent.parent / "data"
NOW = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def fixture_message(name: str) -> tuple[InboundMessage, Mapping[str, Any]]:
    payload = _load(DATA / "payloads" / f"meta-inbound-{name}.json")
    return _only(payload)


def pywa_message(file: str, name: str) -> tuple[InboundMessage, Mapping[str, Any]]:
    payload = _load(DATA / "pywa" / f"pywa-{file}.json")[name]
    return _only(payload)


def _only(payload: Any) -> tuple[InboundMessage, Mapping[str, Any]]:
    [raw] = payload["entry"][0]["changes"][0]["value"]["messages"]
    batch = parse_payload(payload, now=NOW)
    [message] = batch.messages
    assert message.message_id == raw["id"]
    return message, raw


def test_text_body_is_kept() -> None:
    message, raw = fixture_message("text")
    assert message.content == Text(body=raw["text"]["body"])
    assert message.context is None


@pytest.mark.parametrize("name", ["image", "document", "voice"])
def test_media_reference_fields_are_kept(name: str) -> None:
    message, raw = fixture_message(name)
    kind = raw["type"]
    body = raw[kind]
    media = message.content
    assert isinstance(media, Media)
    assert media.media_type == kind
    assert media.media_id == body["id"]
    assert media.mime_type == body["mime_type"]
    assert media.sha256 == body["sha256"]
    assert media.caption == body.get("caption")
    assert media.filename == body.get("filename")
    assert media.voice is (body.get("voice") is True)


def test_voice_note_is_flagged_and_plain_audio_is_not() -> None:
    voice, _ = fixture_message("voice")
    audio, raw = pywa_message("message", "audio")
    assert raw["audio"]["voice"] is False
    assert isinstance(voice.content, Media) and voice.content.voice is True
    assert isinstance(audio.content, Media) and audio.content.voice is False


def test_media_url_and_sticker_animation_are_kept() -> None:
    image, raw = pywa_message("message", "media_with_url")
    sticker, _ = pywa_message("message", "animated_sticker")
    assert isinstance(image.content, Media) and image.content.url == raw["image"]["url"]
    assert isinstance(sticker.content, Media)
    assert (sticker.content.media_type, sticker.content.animated) == ("sticker", True)


def test_location_coordinates_are_floats_with_place_details() -> None:
    message, raw = fixture_message("location")
    place = raw["location"]
    assert message.content == Location(
        latitude=-6.2001,
        longitude=106.8166,
        name=place["name"],
        address=place["address"],
        url=place["url"],
    )
    assert isinstance(message.content.latitude, float)


def test_button_reply_keeps_id_and_title() -> None:
    message, raw = fixture_message("button-reply")
    reply = raw["interactive"]["button_reply"]
    assert message.content == InteractiveReply(
        reply_type="button_reply", reply_id=reply["id"], title=reply["title"]
    )


def test_list_reply_keeps_id_title_and_description() -> None:
    message, raw = fixture_message("list-reply")
    row = raw["interactive"]["list_reply"]
    assert message.content == InteractiveReply(
        reply_type="list_reply",
        reply_id=row["id"],
        title=row["title"],
        description=row["description"],
    )


def test_flow_completion_keeps_response_json_as_the_original_string() -> None:
    message, raw = fixture_message("nfm-reply")
    content = message.content
    assert isinstance(content, InteractiveReply) and content.reply_type == "nfm_reply"
    assert content.flow_response_json == raw["interactive"]["nfm_reply"]["response_json"]
    assert json.loads(content.flow_response_json)["flow_token"] == "FLOWTOKEN-0001"


def test_template_quick_reply_keeps_payload_and_label_and_quotes_the_template() -> None:
    message, raw = fixture_message("template-button")
    assert message.content == ButtonTap(payload="RESCHEDULE_APPT_42", text=raw["button"]["text"])
    assert message.context is not None
    assert message.context.quoted_message_id == "wamid.TEST_OUTBOUND_TEMPLATE"


def test_reaction_names_the_message_and_emoji() -> None:
    message, _ = fixture_message("reaction")
    assert message.content == Reaction(message_id="wamid.TEST_OUTBOUND_0001", emoji="👍")


@pytest.mark.parametrize("name", ["unreaction_empty", "unreaction_no_emoji"])
def test_removed_reaction_has_no_emoji(name: str) -> None:
    message, raw = pywa_message("message", name)
    assert message.content == Reaction(message_id=raw["reaction"]["message_id"], emoji=None)


def test_reply_context_names_the_quoted_message() -> None:
    message, raw = fixture_message("reply-context")
    assert message.context is not None
    assert message.context.quoted_message_id == raw["context"]["id"]
    assert not message.context.forwarded and not message.context.frequently_forwarded


def test_forwarded_and_frequently_forwarded_flags() -> None:
    document, _ = fixture_message("document")
    many, _ = pywa_message("message", "forwarded_many_times")
    assert document.context is not None and document.context.forwarded
    assert document.context.quoted_message_id is None
    assert many.context is not None and many.context.frequently_forwarded


def test_unsupported_message_takes_its_type_from_the_unsupported_object() -> None:
    message, raw = fixture_message("unsupported")
    assert message.content == Unsupported(
        type_name=raw["unsupported"]["type"], reason=raw["errors"][0]["error_data"]["details"]
    )
    assert message.content.type_name == "poll"


def test_unsupported_without_subtype_is_named_unsupported() -> None:
    message, _ = pywa_message("message", "unsupported")
    assert isinstance(message.content, Unsupported)
    assert message.content.type_name == "unsupported"


def test_message_without_its_content_object_uses_the_change_level_error() -> None:
    message, _ = pywa_message("message", "interactive_message_with_err")
    assert message.content == Unsupported(
        type_name="interactive", reason="Unsupported webhook payload"
    )


def test_order_is_unsupported_but_kept() -> None:
    message, raw = pywa_message("message", "order")
    assert message.content == Unsupported(type_name="order")
    assert message.raw == raw


def test_shared_contacts_keep_names_and_numbers() -> None:
    message, raw = pywa_message("message", "contacts")
    content = message.content
    assert isinstance(content, SharedContacts)
    assert [c.name for c in content.contacts] == [
        c["name"]["formatted_name"] for c in raw["contacts"]
    ]
    assert content.contacts[0].phones == (raw["contacts"][0]["phones"][0]["phone"],)


def test_changed_number_notice_carries_the_new_wa_id() -> None:
    message, raw = pywa_message("system", "phone_number_change")
    assert message.content == SystemNotice(
        notice_type="user_changed_number", body=raw["system"]["body"], new_wa_id="972912345678"
    )
