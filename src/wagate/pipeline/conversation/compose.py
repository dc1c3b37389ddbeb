"""Step 7, compose (AI6, AI9): the answer as WhatsApp messages — the AI disclosure opening a new
session, the answer in WhatsApp formatting, the disclaimer closing it — split into parts under
the provider's limit, each an outbound draft keyed on the run and its position."""

from __future__ import annotations

from dataclasses import dataclass

from wagate.domain.conversation import Notices
from wagate.domain.formatting import split_message, to_whatsapp
from wagate.pipeline.ports import Burst, OutboundDraft


@dataclass(frozen=True, slots=True, kw_only=True)
class Composed:
    parts: list[OutboundDraft]
    disclosed: bool  # the disclosure is in the first part: mark the session


@dataclass(frozen=True, slots=True, kw_only=True)
class Compose:
    notices: Notices

    def __call__(self, burst: Burst, answer: str, *, session_disclosed: bool) -> Composed:
        """Empty texts (a disclosure or disclaimer switched off) leave no blank paragraph.
        The first part quotes the burst's last message, the question answered: it ties the
        answer to it when several messages were merged or the answer comes late."""
        disclosure = None if session_disclosed else self.notices.disclosure
        framed = [disclosure, to_whatsapp(answer), self.notices.disclaimer]
        texts = split_message("\n\n".join(text for text in framed if text))
        question = burst.messages[-1].provider_message_id
        parts = [
            OutboundDraft(
                idempotency_key=f"{burst.run_key}:reply:{index}",
                text=text,
                kind="reply",
                part_index=index,
                reply_to=question if index == 0 else None,
            )
            for index, text in enumerate(texts)
        ]
        return Composed(parts=parts, disclosed=bool(disclosure))
