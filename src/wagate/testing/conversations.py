"""The conversation side's stores in memory: bursts and runs, who is writing, sessions and
PII vaults. `MemoryConversationStore.finish` hands its drafts to a MemoryOutbox when given one,
so a whole run can be followed from the user's message to the provider's send."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from wagate.domain.chat import ChatTurn, Role
from wagate.domain.consent import ConsentState
from wagate.domain.conversation import session_expired
from wagate.domain.identity import AccountView
from wagate.domain.messages import Provider
from wagate.pipeline.ports import (
    Burst,
    Identity,
    OutboundMessage,
    PendingMessage,
    ReplyRecord,
    RunOpening,
    Session,
)
from wagate.testing.outbox import MemoryOutbox, Row


@dataclass
class MemorySessionStore:
    """One session per conversation until `idle_timeout` of silence starts the next."""

    history: dict[int, list[ChatTurn]] = field(default_factory=dict)  # session id → turns
    disclosed: set[int] = field(default_factory=set)
    _current: dict[int, tuple[int, datetime]] = field(default_factory=dict)  # conv → id, seen

    async def current(
        self,
        conversation_id: int,
        *,
        now: datetime,
        idle_timeout: timedelta,
        history: int,
        opening: RunOpening | None = None,
    ) -> Session:
        known = self._current.get(conversation_id)
        if known is None or session_expired(known[1], now=now, idle_timeout=idle_timeout):
            session_id = len(self.history) + 1
            self.history[session_id] = []
        else:
            session_id = known[0]
        self._current[conversation_id] = (session_id, now)
        return Session(
            id=session_id,
            history=list(self.history[session_id][-history:]) if history else [],
            disclosed=session_id in self.disclosed,
        )

    async def mark_disclosed(self, session_id: int, *, at: datetime) -> None:
        self.disclosed.add(session_id)


@dataclass
class MemoryConversationStore:
    """Bursts to answer (`receive` adds messages), and what every run wrote (`finished`)."""

    bursts: dict[int, Burst] = field(default_factory=dict)
    finished: list[ReplyRecord] = field(default_factory=list)
    deferred: list[tuple[int, datetime, int]] = field(default_factory=list)  # conv, at, attempt
    failures_cleared: list[int] = field(default_factory=list)  # conversations
    earlier: list[datetime] = field(default_factory=list)  # arrivals in the minute before
    sessions: MemorySessionStore | None = None  # gets the run's turns
    outbox: MemoryOutbox | None = None  # gets the run's drafts as pending rows
    _next_message: int = 0

    def receive(
        self,
        text: str | None,
        *,
        at: datetime,
        conversation_id: int = 1,
        kind: str = "text",
        contact_name: str | None = None,
        flow_response: str | None = None,
        flow_completion: bool = False,
        reply_id: str | None = None,
    ) -> PendingMessage:
        """A message from 6281234567890 arrives (stored, not yet processed); with
        `flow_completion`, a completed WhatsApp Flow whose response_json is `flow_response`."""
        self._next_message += 1
        message = PendingMessage(
            id=self._next_message,
            provider_message_id=f"wamid.in.{self._next_message}",
            kind=kind,
            sent_at=at,
            received_at=at,
            text=text,
            flow_completion=flow_completion,
            flow_response=flow_response,
            reply_id=reply_id,
        )
        burst = self.bursts.get(conversation_id) or Burst(
            conversation_id=conversation_id,
            provider=Provider.META,
            channel_id="pn",
            contact_key="6281234567890",
            contact_phone="6281234567890",
            messages=[],
        )
        self.bursts[conversation_id] = replace(
            burst,
            messages=[*burst.messages, message],
            contact_name=contact_name or burst.contact_name,
        )
        return message

    async def load_burst(
        self,
        conversation_id: int,
        *,
        history: int | None = None,
        session_fresh_since: datetime | None = None,
    ) -> Burst | None:  # no opening reads: the memory stores answer at once
        return self.bursts.get(conversation_id)

    async def defer(self, conversation_id: int, *, run_at: datetime, attempt: int) -> None:
        self.deferred.append((conversation_id, run_at, attempt))

    async def clear_failures(self, conversation_id: int) -> None:
        self.failures_cleared.append(conversation_id)

    async def earlier_arrivals(self, conversation_id: int, *, before: datetime) -> list[datetime]:
        return list(self.earlier)

    async def finish(self, record: ReplyRecord) -> bool:
        self.finished.append(record)
        burst = self.bursts.get(record.run.conversation_id)
        if burst is not None:
            done = set(record.run.message_ids)
            left = [m for m in burst.messages if m.id not in done]
            self.bursts[burst.conversation_id] = replace(burst, messages=left)
        if self.sessions is not None and record.session_id is not None:
            turns = self.sessions.history.setdefault(record.session_id, [])
            if record.user_turn is not None:
                turns.append(ChatTurn(role=Role.USER, content=record.user_turn))
            if record.assistant_turn is not None:
                turns.append(ChatTurn(role=Role.ASSISTANT, content=record.assistant_turn))
            if record.disclosed:
                self.sessions.disclosed.add(record.session_id)
        if self.outbox is not None and burst is not None:
            self._to_outbox(self.outbox, burst, record)
        if self.outbox is not None and record.due_read is not None:
            # The delivery's opening read, after the run's rows, as PostgreSQL's store does.
            read = record.due_read
            read.found = await self.outbox.due(
                read.conversation_id, recent_since=read.recent_since, screen=read.screen
            )
        return False  # no audit chain here: the recorder appends the events itself

    def _to_outbox(self, outbox: MemoryOutbox, burst: Burst, record: ReplyRecord) -> None:
        keys = {row.message.idempotency_key for row in outbox.rows.values()}
        for draft in record.drafts:
            if draft.idempotency_key in keys:  # a retried run writes the same rows: no-op
                continue
            row_id = len(outbox.rows) + 1
            outbox.rows[row_id] = Row(
                OutboundMessage(
                    id=row_id,
                    conversation_id=burst.conversation_id,
                    provider=burst.provider,
                    channel_id=burst.channel_id,
                    recipient=record.recipient,
                    idempotency_key=draft.idempotency_key,
                    text=draft.text,
                    attempts=0,
                    kind=draft.kind,
                    reply_to=draft.reply_to,
                    flow=draft.flow,
                    interactive=draft.interactive,
                    last_inbound_at=burst.messages[-1].received_at if burst.messages else None,
                    inbound_received_at=draft.inbound_received_at,
                )
            )


@dataclass
class MemoryIdentityStore:
    """One contact (id 1). `account` is what resolving finds (None: no linked account);
    `create_account` in `open` policy makes an approved one."""

    account: AccountView | None = None
    account_name: str | None = None
    link_notice_at: datetime | None = None
    rate_notice_at: datetime | None = None
    consent_state: ConsentState | None = None
    consent_prompted_at: datetime | None = None
    notices: list[tuple[str, datetime]] = field(default_factory=list)
    consents: list[tuple[ConsentState, str, str]] = field(default_factory=list)  # state, id, text

    async def resolve(self, burst: Burst, *, create_account: bool) -> Identity:
        if self.account is None and create_account:
            self.account = AccountView(id=1, username="whatsapp_6281234567890", approved=True)
        return Identity(
            contact_id=1,
            account=self.account,
            link_notice_at=self.link_notice_at,
            rate_notice_at=self.rate_notice_at,
            consent_state=self.consent_state,
            consent_prompted_at=self.consent_prompted_at,
            account_name=self.account_name,
        )

    async def mark_notice(self, contact_id: int, *, kind: str, at: datetime) -> None:
        self.notices.append((kind, at))
        if kind == "link":
            self.link_notice_at = at
        elif kind == "rate":
            self.rate_notice_at = at
        elif kind == "consent_prompt":
            self.consent_prompted_at = at

    async def record_consent(
        self,
        contact_id: int,
        *,
        state: ConsentState,
        provider_message_id: str,
        text: str,
        at: datetime,
    ) -> None:
        self.consent_state = state
        self.consents.append((state, provider_message_id, text))


@dataclass
class MemoryVaultStore:
    vaults: dict[int, dict[str, object]] = field(default_factory=dict)

    async def load(
        self, conversation_id: int, *, opening: RunOpening | None = None
    ) -> dict[str, object] | None:
        return self.vaults.get(conversation_id)

    async def save(self, conversation_id: int, vault: dict[str, object]) -> None:
        self.vaults[conversation_id] = dict(vault)


def texts(records: Sequence[ReplyRecord]) -> list[str]:
    """Every draft's text, run after run."""
    return [draft.text for record in records for draft in record.drafts]
