"""Documents, images, reply buttons and lists an operator sends (issue 16, item 3): the rules
from Meta's spec, the send refused by capability and by the 24-hour window, delivery routing,
and Fonnte's `url` form."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.unit.operator_fakes import FakeAuditLog, FakeOutbox
from wagate.domain.capabilities import Capabilities
from wagate.domain.messages import Provider
from wagate.domain.rich_messages import (
    InteractiveMessage,
    InvalidRichMessage,
    MediaMessage,
    ReactionMessage,
    from_json,
    rich_message,
)
from wagate.domain.window import TemplateSet
from wagate.pipeline.operator import API, Conflict, Rejected
from wagate.pipeline.operator.recorder import Recorder
from wagate.pipeline.operator.sending import Sending
from wagate.pipeline.ports import OutboundMessage
from wagate.pipeline.routing import FreeForm, WindowClosed, route
from wagate.providers.fonnte.client import FonnteClient

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NUMBER = "6281200000001"
DOCUMENT = {"type": "document", "link": "https://contoh.id/a.pdf", "filename": "a.pdf"}
BUTTONS = {"type": "button", "body": "Setuju?", "buttons": ["SETUJU", "BERHENTI"]}


# ---------------------------------------------------------------- the rules


def test_a_document_by_https_link_round_trips_through_its_stored_form() -> None:
    media = rich_message(media=DOCUMENT | {"caption": "Surat kuasa"})
    assert isinstance(media, MediaMessage)
    assert from_json(media.as_json()) == media
    assert media.summary() == "[document a.pdf] Surat kuasa"


@pytest.mark.parametrize(
    ("media", "rule"),
    [
        (DOCUMENT | {"link": "http://contoh.id/a.pdf"}, "https"),
        (DOCUMENT | {"link": "https:///a.pdf"}, "https"),
        (DOCUMENT | {"link": "file:///etc/passwd"}, "https"),
        (DOCUMENT | {"type": "video"}, "document or image"),
        (DOCUMENT | {"caption": "x" * 1025}, "1024"),
        (DOCUMENT | {"filename": "../a.pdf"}, "path"),
        ({"type": "image", "link": "https://contoh.id/a.jpg", "filename": "a.jpg"}, "filename"),
    ],
)
def test_media_breaking_a_rule_is_refused_with_the_rule(media: dict[str, Any], rule: str) -> None:
    with pytest.raises(InvalidRichMessage, match=rule):
        rich_message(media=media)


def test_buttons_get_ids_from_their_titles_order_and_round_trip() -> None:
    buttons = rich_message(interactive=BUTTONS)
    assert isinstance(buttons, InteractiveMessage)
    assert [(c.id, c.title) for c in buttons.choices] == [
        ("button-1", "SETUJU"),
        ("button-2", "BERHENTI"),
    ]
    assert from_json(buttons.as_json()) == buttons


@pytest.mark.parametrize(
    ("interactive", "rule"),
    [
        (BUTTONS | {"buttons": []}, "at least one"),
        (BUTTONS | {"buttons": ["a", "b", "c", "d"]}, "at most 3"),
        (BUTTONS | {"buttons": ["x" * 21]}, "20"),
        (BUTTONS | {"buttons": ["Ya", "Ya"]}, "unique"),
        (BUTTONS | {"body": ""}, "body"),
        (BUTTONS | {"body": "x" * 1025}, "1024"),
        (BUTTONS | {"type": "carousel"}, "button or list"),
        ({"type": "list", "body": "Pilih", "button": "Buka", "rows": ["r"] * 11}, "at most 10"),
        ({"type": "list", "body": "Pilih", "rows": ["r"]}, "list button"),
        ({"type": "list", "body": "Pilih", "button": "Buka", "rows": ["x" * 25]}, "24"),
    ],
)
def test_interactive_breaking_a_rule_is_refused_with_the_rule(
    interactive: dict[str, Any], rule: str
) -> None:
    with pytest.raises(InvalidRichMessage, match=rule):
        rich_message(interactive=interactive)


def test_exactly_one_rich_part_is_required() -> None:
    with pytest.raises(InvalidRichMessage):
        rich_message()
    with pytest.raises(InvalidRichMessage):
        rich_message(media=DOCUMENT, interactive=BUTTONS)


# ---------------------------------------------------------------- the operator's send


@dataclass
class WindowedOutbox(FakeOutbox):
    last: dict[str, datetime] = field(default_factory=dict)

    async def last_inbound(self, provider: Provider, target: str) -> datetime | None:
        return self.last.get(target)


def _sending(outbox: FakeOutbox) -> Sending:
    return Sending(
        outbox=outbox,
        channels={Provider.META: "100", Provider.FONNTE: "fonnte"},
        capabilities={
            Provider.META: Capabilities(window_24h=True, media=True, interactive=True),
            Provider.FONNTE: Capabilities(media=True),
        },
        recorder=Recorder(audit=FakeAuditLog(), clock=lambda: NOW),
    )


def test_a_document_in_the_window_is_queued_with_its_stored_form_once_per_key() -> None:
    outbox = WindowedOutbox(last={NUMBER: NOW - timedelta(hours=2)})
    message = rich_message(media=DOCUMENT)
    first = asyncio.run(_sending(outbox).send_rich(NUMBER, message, by=API, key="k"))
    again = asyncio.run(_sending(outbox).send_rich(NUMBER, message, by=API, key="k"))
    assert (first.queued, again.queued) == (1, 0)
    [queued] = outbox.queued.values()
    assert queued["rich"] == message.as_json() and queued["text"] == "[document a.pdf]"


def test_outside_the_window_a_rich_message_is_a_conflict_and_nothing_is_queued() -> None:
    outbox = WindowedOutbox(last={NUMBER: NOW - timedelta(hours=25)})
    with pytest.raises(Conflict, match="only a template"):
        asyncio.run(_sending(outbox).send_rich(NUMBER, rich_message(interactive=BUTTONS), by=API))
    assert outbox.queued == {}


def test_a_provider_without_the_capability_is_refused_but_fonnte_sends_files() -> None:
    outbox = WindowedOutbox()
    buttons = rich_message(interactive=BUTTONS)
    with pytest.raises(Rejected, match="fonnte cannot send interactive"):
        asyncio.run(_sending(outbox).send_rich(NUMBER, buttons, by=API, provider=Provider.FONNTE))
    document = rich_message(media=DOCUMENT)
    receipt = asyncio.run(
        _sending(outbox).send_rich(NUMBER, document, by=API, provider=Provider.FONNTE)
    )
    assert receipt.queued == 1  # Fonnte has no 24-hour window to check


# ---------------------------------------------------------------- delivery


@dataclass
class _Provider:
    capabilities: Capabilities


def _row(last_inbound: datetime | None, kind: str = "operator") -> OutboundMessage:
    return OutboundMessage(
        id=1,
        conversation_id=1,
        provider=Provider.META,
        channel_id="100",
        recipient=NUMBER,
        idempotency_key="api:k",
        text="[document a.pdf]",
        attempts=0,
        kind=kind,
        rich=rich_message(media=DOCUMENT).as_json(),
        last_inbound_at=last_inbound,
    )


def test_a_rich_row_goes_free_form_inside_the_window_and_never_as_a_template_outside() -> None:
    meta: Any = _Provider(Capabilities(window_24h=True, media=True))
    templates = TemplateSet.parse(
        [{"name": "umum", "language": "id", "parameters": ["pesan"], "purpose": "out_of_window"}]
    )
    assert isinstance(route(_row(NOW - timedelta(hours=1)), meta, templates, NOW), FreeForm)
    assert isinstance(route(_row(NOW - timedelta(hours=30)), meta, templates, NOW), WindowClosed)
    # Rerouted after Meta's own window refusal (131047): still not a template.
    rerouted = _row(NOW - timedelta(hours=1), kind="window_template")
    assert isinstance(route(rerouted, meta, templates, NOW), WindowClosed)


def test_fonnte_sends_a_file_with_its_url_and_filename() -> None:
    seen: list[dict[str, str]] = []

    def fonnte(request: httpx.Request) -> httpx.Response:
        seen.append(dict(httpx.QueryParams(request.content.decode())))
        return httpx.Response(200, json={"status": True, "id": ["77"], "target": [NUMBER]})

    async def send() -> str:
        client = FonnteClient(
            api_url="http://fonnte.test/send", token="t", transport=httpx.MockTransport(fonnte)
        )
        try:
            media = rich_message(media=DOCUMENT | {"caption": "Surat"})
            assert isinstance(media, MediaMessage)
            return (await client.send_media(to=NUMBER, media=media)).provider_message_id
        finally:
            await client.aclose()

    assert asyncio.run(send()) == "77"
    assert seen == [
        {
            "target": NUMBER,
            "message": "Surat",
            "countryCode": "0",
            "url": DOCUMENT["link"],
            "filename": "a.pdf",
        }
    ]


# ---------------------------------------------------------------- reactions (item 7)

REACTION = {"messageId": "wamid.HBgNNjI4MTIwMDAwMDAwMRUCABIYFDNB", "emoji": "👍"}


def test_a_reaction_round_trips_and_says_what_it_is() -> None:
    reaction = rich_message(reaction=REACTION)
    assert isinstance(reaction, ReactionMessage)
    assert from_json(reaction.as_json()) == reaction
    assert reaction.summary() == "[reaction 👍]"
    # A family emoji with its joiners is still one emoji.
    assert rich_message(reaction=REACTION | {"emoji": "👨‍👩‍👧‍👦"})


@pytest.mark.parametrize(
    ("reaction", "rule"),
    [
        (REACTION | {"emoji": "ok"}, "not text"),
        (REACTION | {"emoji": "👍 👍"}, "not text"),
        (REACTION | {"emoji": ""}, "emoji"),
        (REACTION | {"emoji": "👍" * 17}, "16"),
        ({"emoji": "👍"}, "messageId is required"),
        (REACTION | {"messageId": "wamid x"}, "spaces"),
    ],
)
def test_a_reaction_breaking_a_rule_is_refused_with_the_rule(
    reaction: dict[str, Any], rule: str
) -> None:
    with pytest.raises(InvalidRichMessage, match=rule):
        rich_message(reaction=reaction)
    with pytest.raises(InvalidRichMessage, match="one of"):
        rich_message(reaction=REACTION, media=DOCUMENT)


def test_a_reaction_needs_a_provider_that_reacts_and_the_window() -> None:
    outbox = WindowedOutbox(last={NUMBER: NOW - timedelta(hours=1)})
    reaction = rich_message(reaction=REACTION)
    with pytest.raises(Rejected, match="fonnte cannot send reactions"):
        asyncio.run(_sending(outbox).send_rich(NUMBER, reaction, by=API, provider=Provider.FONNTE))
    sending = _sending(outbox)
    meta = Capabilities(window_24h=True, reactions=True)
    reacting = Sending(
        outbox=outbox,
        channels=sending.channels,
        capabilities={**sending.capabilities, Provider.META: meta},
        recorder=sending.recorder,
    )
    assert asyncio.run(reacting.send_rich(NUMBER, reaction, by=API)).queued == 1
    closed = WindowedOutbox(last={NUMBER: NOW - timedelta(hours=30)})
    with pytest.raises(Conflict):
        asyncio.run(
            Sending(
                outbox=closed,
                channels=sending.channels,
                capabilities={**sending.capabilities, Provider.META: meta},
                recorder=sending.recorder,
            ).send_rich(NUMBER, reaction, by=API)
        )
