"""Operator actions over HTTP (ID3, OU8): accounts, number linking, manual sends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

from wagate.domain.audit import AuditEvent, AuditTrail
from wagate.domain.conversation import Notices
from wagate.domain.identity import LINK_CODE_TTL, LinkCheck
from wagate.domain.messages import Provider
from wagate.pipeline.send import OperatorSend, SendRejected
from wagate.providers.payload import clean as storable_text
from wagate.storage.accounts import AccountAdmin, AccountError
from wagate.storage.dead_letters import DeadLetters, NotADeadLetter
from wagate.storage.outbound import IdempotencyConflict
from wagate.web.api import MAX_BIGINT, MAX_OFFSET, bearer_guard


def _storable(value: Any) -> Any:
    """A 422, not a database error, for text PostgreSQL cannot hold (NUL, lone surrogates)."""
    if isinstance(value, list):
        texts = value
    elif isinstance(value, dict):
        texts = [*value.keys(), *value.values()]
    else:
        texts = [value]
    if any(isinstance(t, str) and storable_text(t) != t for t in texts):
        raise ValueError("contains a character that cannot be stored (NUL or lone surrogate)")
    return value


class _Body(BaseModel):
    @field_validator("*", mode="after")
    @classmethod
    def _no_unstorable_text(cls, value: Any) -> Any:
        return _storable(value)


class NewAccount(_Body):
    username: str = Field(min_length=1, max_length=200)
    name: str | None = None
    role: str = "user"
    email: str | None = None
    phone: str | None = None
    approved: bool = False


class PhoneBody(_Body):
    phone: str = Field(min_length=3, max_length=40)


class CodeBody(_Body):
    code: str = Field(min_length=4, max_length=12)


class SendBody(_Body):
    target: str = Field(min_length=3, max_length=80)
    message: str = Field(min_length=1, max_length=60_000)
    provider: Provider | None = None


class TemplateBody(_Body):
    target: str = Field(min_length=3, max_length=80)
    template: str = Field(min_length=1, max_length=512)
    language: str | None = Field(default=None, max_length=20)
    parameters: list[str] | dict[str, str] = Field(default_factory=list)


# `123` or `in-7`: at most 18 digits, so always a bigint.
DEAD_LETTER_REF = Path(pattern=r"^(?i:in-)?[0-9]{1,18}$")

_LINK_STATUS = {
    LinkCheck.WRONG: 400,
    LinkCheck.EXPIRED: 410,
    LinkCheck.TOO_MANY_ATTEMPTS: 429,
    LinkCheck.NO_CODE: 404,
}


def admin_router(
    *,
    audit: AuditTrail,
    dead_letters: DeadLetters,
    accounts: AccountAdmin,
    sender: OperatorSend,
    api_token: str,
    clock: Callable[[], datetime],
    notices: Notices,
) -> APIRouter:
    router = APIRouter(prefix="/api", dependencies=[Depends(bearer_guard(api_token))])

    async def record(action: str, subject: str | None, **details: object) -> None:
        """CP3: every operator action, as facts (ids, counts), never message text."""
        await audit.record(
            AuditEvent(action=action, actor="operator:api", subject=subject, details=details),
            at=clock(),
        )

    async def account_or_404(ref: str) -> Any:
        text = ref.strip()
        numeric = text.isdigit()
        if not text or (numeric and not (text.isascii() and int(text) <= MAX_BIGINT)):
            raise HTTPException(status_code=404, detail=f"no account {ref!r}")
        try:
            return await accounts.get(ref)
        except (AccountError, ValueError) as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    @router.get("/accounts")
    async def list_accounts() -> dict[str, Any]:
        return {"items": [a.as_json() for a in await accounts.list()]}

    @router.post("/accounts", status_code=201)
    async def add_account(body: NewAccount) -> dict[str, Any]:
        try:
            created = await accounts.add(**body.model_dump())
            await record("account.created", f"account:{created.id}", approved=created.approved)
            return created.as_json()
        except AccountError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc

    @router.post("/accounts/{ref}/approve")
    async def approve(ref: str) -> dict[str, Any]:
        await account_or_404(ref)
        approved = await accounts.approve(ref)
        await record("account.approved", f"account:{approved.id}")
        return approved.as_json()

    @router.post("/accounts/{ref}/unlink")
    async def unlink(ref: str) -> dict[str, Any]:
        await account_or_404(ref)
        unlinked = await accounts.unlink(ref)
        await record("account.unlinked", f"account:{unlinked.id}")
        return unlinked.as_json()

    @router.post("/accounts/{ref}/link", status_code=202)
    async def start_link(ref: str, body: PhoneBody) -> dict[str, Any]:
        await account_or_404(ref)
        try:
            account, phone, code = await accounts.start_link(ref, body.phone, now=clock())
            text = notices.link_code.format(
                code=code, minutes=int(LINK_CODE_TTL.total_seconds() // 60)
            )
            await sender.send(phone, text, kind="link_code")
        except (SendRejected, ValueError) as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        await record("account.link_code_sent", f"account:{account.id}")
        # The code goes to the phone only: the caller learns where, never what.
        return {
            "account": account.id,
            "phone": phone,
            "sent": True,
            "expiresInSeconds": int(LINK_CODE_TTL.total_seconds()),
        }

    @router.post("/accounts/{ref}/verify")
    async def verify_link(ref: str, body: CodeBody) -> JSONResponse:
        await account_or_404(ref)
        result, account = await accounts.verify_link(ref, body.code, now=clock())
        await record("account.link_verified", f"account:{account.id}", result=result.value)
        if result is not LinkCheck.OK:
            return JSONResponse({"detail": result.value}, status_code=_LINK_STATUS[result])
        return JSONResponse({"linked": True, "account": account.as_json()})

    @router.post("/whatsapp/send", status_code=202)
    async def send(
        body: SendBody, idempotency_key: str | None = Header(default=None, max_length=200)
    ) -> dict[str, Any]:
        try:
            receipt = await sender.send(
                body.target,
                body.message,
                provider=body.provider,
                key=f"api:{idempotency_key}" if idempotency_key else None,
            )
        except IdempotencyConflict as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
        except SendRejected as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        await record(
            "operator.send",
            f"conversation:{receipt.conversation_id}",
            queued=receipt.queued,
            parts=len(receipt.idempotency_keys),
        )
        return {
            "queued": receipt.queued,
            "target": receipt.target,
            "provider": receipt.provider.value,
            "conversationId": receipt.conversation_id,
            "idempotencyKeys": list(receipt.idempotency_keys),
        }

    @router.post("/whatsapp/send-template", status_code=202)
    async def send_template(
        body: TemplateBody, idempotency_key: str | None = Header(default=None, max_length=200)
    ) -> dict[str, Any]:
        try:
            receipt = await sender.send_template(
                body.target,
                body.template,
                body.parameters,
                language=body.language,
                key=f"api:{idempotency_key}" if idempotency_key else None,
            )
        except IdempotencyConflict as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
        except SendRejected as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        await record(
            "operator.send_template",
            f"conversation:{receipt.conversation_id}",
            template=body.template,
            queued=receipt.queued,
        )
        return {
            "queued": receipt.queued,
            "target": receipt.target,
            "template": body.template,
            "conversationId": receipt.conversation_id,
            "idempotencyKeys": list(receipt.idempotency_keys),
        }

    @router.get("/dead-letters")
    async def list_dead_letters(
        limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=MAX_OFFSET)
    ) -> dict[str, Any]:
        return {"items": await dead_letters.listing(limit=limit, offset=offset)}

    @router.get("/dead-letters/{ref}")
    async def show_dead_letter(ref: str = DEAD_LETTER_REF) -> dict[str, Any]:
        try:
            found = await dead_letters.show(ref)
        except NotADeadLetter as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        if found is None:
            raise HTTPException(status_code=404, detail="no such dead letter")
        return found

    @router.post("/dead-letters/{ref}/replay")
    async def replay_dead_letter(ref: str = DEAD_LETTER_REF) -> dict[str, Any]:
        try:
            replayed = await dead_letters.replay(ref, at=clock())
        except NotADeadLetter as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        if not replayed:
            raise HTTPException(
                status_code=409,
                detail="not a dead letter (only failed messages and bursts can be replayed)",
            )
        subject = ref if ref.startswith("in-") else f"outbound:{ref}"
        await record("dead_letter.replayed", subject)
        return {"replayed": replayed}

    return router
