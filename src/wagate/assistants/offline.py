"""The assistant used when no AI endpoint is configured: it says so, honestly, in Indonesian.

Today it answers every message with the same fixed text. A later issue makes it answer from the
knowledge base (retrieved passages, no LLM); until then it promises nothing it cannot do.
"""

from __future__ import annotations

from collections.abc import Sequence

from wagate.domain.chat import AssistantReply, ChatTurn

OFFLINE_MODEL = "offline"

DEFAULT_MESSAGE = (
    "Maaf, asisten AI belum dikonfigurasi di gateway ini, jadi pesan Anda belum bisa dijawab "
    "otomatis. Silakan hubungi kami lagi nanti atau tunggu balasan dari petugas kami."
)


class OfflineAssistant:
    def __init__(self, *, message: str | None = None) -> None:
        # An empty override would send a blank WhatsApp message; fall back to the default.
        self._message = (message or "").strip() or DEFAULT_MESSAGE

    async def reply(self, turns: Sequence[ChatTurn]) -> AssistantReply:
        return AssistantReply(text=self._message, model=OFFLINE_MODEL)

    async def aclose(self) -> None:
        return None
