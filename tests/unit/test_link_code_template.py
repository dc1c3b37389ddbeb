"""Link codes outside the 24-hour window go as an AUTHENTICATION template (issue 16 item 7):
queued with the template configured (LINK_CODE_TEMPLATE), routed as it outside the window
with the code in the body and in the copy-code button, as text inside it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.unit.operator_fakes import World
from wagate.domain.capabilities import Capabilities
from wagate.domain.messages import Provider
from wagate.domain.window import TemplateSet
from wagate.pipeline.operator import API
from wagate.pipeline.ports import OutboundMessage
from wagate.pipeline.routing import AsTemplate, FreeForm, route

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NUMBER = "6281200000001"
CARRIER = TemplateSet.parse(
    [{"name": "umum", "language": "id", "parameters": ["pesan"], "purpose": "out_of_window"}]
)


class _Meta:
    capabilities = Capabilities(window_24h=True, templates=True)


def _queued_code(template: tuple[str, str] | None) -> dict[str, Any]:
    world = World(link_code_template=template)
    op = world.service()
    asyncio.run(op.accounts.create(username="siti", by=API))
    asyncio.run(op.accounts.send_link_code("siti", NUMBER, by=API))
    [queued] = world.outbox.queued.values()
    return queued


def _row(queued: dict[str, Any], last_inbound: datetime | None) -> OutboundMessage:
    return OutboundMessage(
        id=1,
        conversation_id=1,
        provider=Provider.META,
        channel_id="100",
        recipient=NUMBER,
        idempotency_key="k",
        text=queued["text"],
        attempts=0,
        kind=queued["kind"],
        code_template=queued["code_template"],
        last_inbound_at=last_inbound,
    )


def test_a_code_is_queued_with_its_authentication_template_when_one_is_configured() -> None:
    queued = _queued_code(("kode_verifikasi", "id"))
    assert queued["code_template"] == {
        "name": "kode_verifikasi",
        "language": "id",
        "code": "123456",
    }
    assert "123456" in queued["text"]  # inside the window the text goes
    assert _queued_code(None)["code_template"] is None


def test_outside_the_window_the_code_goes_as_the_authentication_template_with_its_button() -> None:
    queued = _queued_code(("kode_verifikasi", "en_US"))
    how = route(_row(queued, NOW - timedelta(days=3)), _Meta(), CARRIER, NOW)  # type: ignore[arg-type]
    assert how == AsTemplate(
        name="kode_verifikasi", language="en_US", values=["123456"], code_button="123456"
    )
    inside = route(_row(queued, NOW - timedelta(hours=1)), _Meta(), CARRIER, NOW)  # type: ignore[arg-type]
    assert isinstance(inside, FreeForm)


def test_without_the_setting_a_code_outside_the_window_takes_the_generic_template() -> None:
    queued = _queued_code(None)
    how = route(_row(queued, None), _Meta(), CARRIER, NOW)  # type: ignore[arg-type]
    assert isinstance(how, AsTemplate) and how.name == "umum" and how.code_button is None
