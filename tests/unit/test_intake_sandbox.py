"""Case intake in the sandbox (FL1): the sandbox sets a Flow id of its own (a configured one is
kept), so `DAFTAR` sends the Flow message to the built-in fake, and the chat page reads it as
the text above the button."""

from __future__ import annotations

from pathlib import Path

from wagate.domain.case_intake import IntakeFlow
from wagate.runtime.sandbox import SANDBOX_INTAKE_FLOW_ID, Sandbox, sent_text
from wagate.settings import load_settings


async def started_flow_id(tmp_path: Path, **settings: str) -> str | None:
    sandbox = Sandbox(tmp_path / "data")
    base = load_settings(_env_file=None, wagate_data_dir=tmp_path / "data", **settings)
    try:
        configured = await sandbox.start(base, gateway_port=1)
    finally:
        await sandbox.stop()
    return configured.intake_flow_id


async def test_the_sandbox_has_a_flow_unless_one_is_configured(tmp_path: Path) -> None:
    assert await started_flow_id(tmp_path) == SANDBOX_INTAKE_FLOW_ID
    assert await started_flow_id(tmp_path, intake_flow_id="123") == "123"


def test_the_chat_page_reads_a_flow_message_as_its_text() -> None:
    flow = IntakeFlow(flow_id=SANDBOX_INTAKE_FLOW_ID).invitation("k")
    body = {"type": "interactive", "interactive": {"type": "flow", "body": {"text": flow.body}}}
    assert sent_text(body) == flow.body
