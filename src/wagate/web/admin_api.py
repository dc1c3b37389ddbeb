"""Operator actions over HTTP (ID3, OU3, OU7, OU8, CP2, CP7): parse, call the operator service
as `operator:api`, render. Validation, the action and its audit record live in the service;
its errors map here to 404 (NotFound), 409 (Conflict), 403 (Forbidden) and 422 (Rejected)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from starlette.datastructures import UploadFile

from wagate.domain.identity import LinkCheck
from wagate.domain.messages import Provider
from wagate.domain.rich_messages import InvalidRichMessage, rich_message
from wagate.domain.text import storable_text
from wagate.pipeline.operator import Conflict, Forbidden, NotFound, OperatorError, Unavailable
from wagate.web.api import MAX_OFFSET
from wagate.web.middleware import BodyTooLarge
from wagate.web.scope import Caller

MAX_CSV_BYTES = 5 * 1024 * 1024
# An operator's file upload: its body streams past the body limit (web/app.py) to disk.
SEND_FILE_PATH = "/api/whatsapp/send-file"
# Room for the form's other fields and the multipart framing around the file.
SEND_FILE_OVERHEAD = 64 * 1024
_READ_BYTES = 64 * 1024


def _storable(value: Any) -> Any:
    """A 422, not a database error, for text PostgreSQL cannot hold (NUL, lone surrogates)."""
    if isinstance(value, list):
        texts = value
    elif isinstance(value, dict):
        texts = [*value.keys(), *value.values()]
    else:
        texts = [value]
    if any(isinstance(t, str) and not storable_text(t) for t in texts):
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
    """Exactly one of `message` (text), `media` (a document or image by https link),
    `interactive` (reply buttons or a list) or `reaction` (an emoji on a message the person
    sent: `{"messageId", "emoji"}`); the rich parts are checked in
    `domain/rich_messages.py` (a 422 names the rule broken)."""

    target: str = Field(min_length=3, max_length=80)
    message: str | None = Field(default=None, min_length=1, max_length=60_000)
    media: dict[str, Any] | None = None
    interactive: dict[str, Any] | None = None
    reaction: dict[str, Any] | None = None
    provider: Provider | None = None

    @model_validator(mode="after")
    def _one_part(self) -> SendBody:
        parts = (self.message, self.media, self.interactive, self.reaction)
        if len([p for p in parts if p is not None]) != 1:
            raise ValueError("give exactly one of message, media, interactive or reaction")
        return self


class SendFileFields(_Body):
    """The form fields beside `file` in `POST /api/whatsapp/send-file`."""

    target: str = Field(min_length=3, max_length=80)
    caption: str | None = Field(default=None, min_length=1, max_length=1024)
    type: Literal["document", "image"] | None = None
    filename: str | None = Field(default=None, min_length=1, max_length=240)
    provider: Provider | None = None


class _SpooledUpload:
    """An uploaded file as the operator service reads it (`IncomingFile`): Starlette spooled
    it to a temporary file as it arrived (in memory up to 1 MiB, on disk beyond)."""

    def __init__(self, upload: UploadFile) -> None:
        self._upload = upload

    @property
    def filename(self) -> str | None:
        return self._upload.filename

    @property
    def content_type(self) -> str | None:
        return self._upload.content_type

    @property
    def size(self) -> int:
        return int(self._upload.size or 0)

    async def chunks(self) -> AsyncIterator[bytes]:
        await self._upload.seek(0)
        while piece := await self._upload.read(_READ_BYTES):
            yield piece


_SEND_FILE_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["target", "file"],
                    "properties": {
                        "target": {"type": "string", "description": "phone number or group"},
                        "file": {"type": "string", "format": "binary"},
                        "caption": {"type": "string", "maxLength": 1024},
                        "type": {"type": "string", "enum": ["document", "image"]},
                        "filename": {"type": "string", "maxLength": 240},
                        "provider": {"type": "string", "enum": ["meta", "fonnte"]},
                    },
                }
            }
        },
    }
}


class TemplateBody(_Body):
    target: str = Field(min_length=3, max_length=80)
    template: str = Field(min_length=1, max_length=512)
    language: str | None = Field(default=None, max_length=20)
    parameters: list[str] | dict[str, str] = Field(default_factory=list)


# `123` or `in-7`: at most 18 digits, so always a bigint.
DEAD_LETTER_REF = Path(pattern=r"^(?i:in-)?[0-9]{1,18}$")


class TokenBody(_Body):
    token: str = Field(min_length=1, max_length=4096)


_LINK_STATUS = {
    LinkCheck.WRONG: 400,
    LinkCheck.EXPIRED: 410,
    LinkCheck.TOO_MANY_ATTEMPTS: 429,
    LinkCheck.NO_CODE: 404,
}


def status_of(error: OperatorError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Conflict):
        return 409
    if isinstance(error, Forbidden):
        return 403
    if isinstance(error, Unavailable):
        return 503
    return 422


class OperatorRoute(APIRoute):
    """Every handler of the router answers an OperatorError with its status and message."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except OperatorError as exc:
                return JSONResponse({"detail": str(exc)}, status_code=status_of(exc))

        return answer


def _platform_only(who: Caller) -> None:
    """The master keys are the platform's: a tenant's token may not rotate them."""
    if not who.platform:
        raise HTTPException(status_code=403, detail="platform administrators only")


def _key(idempotency_key: str | None) -> str | None:
    return idempotency_key or None


def admin_router(*, scope: Callable[..., Awaitable[Caller]]) -> APIRouter:
    """Each route acts for the caller's tenant, as the caller (the audit trail names them)."""
    router = APIRouter(prefix="/api", route_class=OperatorRoute)
    caller = Depends(scope)

    @router.get("/accounts")
    async def list_accounts(who: Caller = caller) -> dict[str, Any]:
        return {
            "items": [a.as_json() for a in await who.services.operator.accounts.list(by=who.actor)]
        }

    @router.post("/accounts", status_code=201)
    async def add_account(body: NewAccount, who: Caller = caller) -> dict[str, Any]:
        return (
            await who.services.operator.accounts.create(**body.model_dump(), by=who.actor)
        ).as_json()

    @router.post("/accounts/import", response_model=None)
    async def import_accounts(request: Request, who: Caller = caller) -> Response | dict[str, Any]:
        """The CSV itself as the body: username,name,role,email,phone,approved."""
        body = await request.body()
        if len(body) > MAX_CSV_BYTES:
            return JSONResponse({"detail": "file too large"}, status_code=413)
        added, updated = await who.services.operator.accounts.import_csv(
            body.decode("utf-8-sig", errors="replace"), by=who.actor, source="body"
        )
        return {"added": added, "updated": updated}

    @router.post("/accounts/{ref}/approve")
    async def approve(ref: str, who: Caller = caller) -> dict[str, Any]:
        return (await who.services.operator.accounts.approve(ref, by=who.actor)).as_json()

    @router.post("/accounts/{ref}/revoke")
    async def revoke(ref: str, who: Caller = caller) -> dict[str, Any]:
        return (
            await who.services.operator.accounts.approve(ref, by=who.actor, approved=False)
        ).as_json()

    @router.post("/accounts/{ref}/unlink")
    async def unlink(ref: str, who: Caller = caller) -> dict[str, Any]:
        return (await who.services.operator.accounts.unlink(ref, by=who.actor)).as_json()

    @router.post("/accounts/{ref}/link-directly")
    async def link_directly(ref: str, body: PhoneBody, who: Caller = caller) -> dict[str, Any]:
        """The operator vouches for the number: no code."""
        return (await who.services.operator.accounts.link(ref, body.phone, by=who.actor)).as_json()

    @router.post("/accounts/{ref}/link", status_code=202)
    async def start_link(ref: str, body: PhoneBody, who: Caller = caller) -> dict[str, Any]:
        sent = await who.services.operator.accounts.send_link_code(ref, body.phone, by=who.actor)
        # The code goes to the phone only: the caller learns where, never what.
        return {
            "account": sent.account.id,
            "phone": sent.phone,
            "sent": True,
            "expiresInSeconds": sent.expires_in_seconds,
        }

    @router.post("/accounts/{ref}/verify")
    async def verify_link(ref: str, body: CodeBody, who: Caller = caller) -> JSONResponse:
        result, account = await who.services.operator.accounts.verify(ref, body.code, by=who.actor)
        if result is not LinkCheck.OK:
            return JSONResponse({"detail": result.value}, status_code=_LINK_STATUS[result])
        return JSONResponse({"linked": True, "account": account.as_json()})

    @router.post("/whatsapp/send", status_code=202)
    async def send(
        body: SendBody,
        idempotency_key: str | None = Header(default=None, max_length=200),
        who: Caller = caller,
    ) -> dict[str, Any]:
        sending = who.services.operator.sending
        if body.message is not None:
            receipt = await sending.send(
                body.target,
                body.message,
                by=who.actor,
                provider=body.provider,
                key=_key(idempotency_key),
            )
            return receipt.as_json()
        try:
            rich = rich_message(
                media=body.media, interactive=body.interactive, reaction=body.reaction
            )
        except InvalidRichMessage as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        receipt = await sending.send_rich(
            body.target, rich, by=who.actor, provider=body.provider, key=_key(idempotency_key)
        )
        return receipt.as_json()

    @router.post("/whatsapp/send-file", status_code=202, openapi_extra=_SEND_FILE_FORM)
    async def send_file(
        request: Request,
        idempotency_key: str | None = Header(default=None, max_length=200),
        who: Caller = caller,
    ) -> dict[str, Any]:
        """A document or image uploaded as multipart/form-data (`file` beside `target` and
        the optional `caption`, `type`, `filename`, `provider`): checked by its bytes, stored
        sealed and queued; the worker uploads it to the provider and sends it once."""
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise HTTPException(status_code=415, detail="send the file as multipart/form-data")
        try:
            form = await request.form(max_files=1, max_fields=10, max_part_size=16 * 1024)
        except BodyTooLarge as exc:
            raise HTTPException(status_code=413, detail="the file is too large") from exc
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise HTTPException(status_code=422, detail="file is required")
            fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
            try:
                given = SendFileFields.model_validate(fields)
            except ValidationError as exc:
                raise RequestValidationError(exc.errors()) from exc
            receipt = await who.services.operator.sending.send_file(
                given.target,
                _SpooledUpload(upload),
                by=who.actor,
                caption=given.caption,
                kind=given.type,
                filename=given.filename,
                provider=given.provider,
                key=_key(idempotency_key),
            )
        finally:
            await form.close()
        return receipt.as_json()

    @router.post("/whatsapp/send-template", status_code=202)
    async def send_template(
        body: TemplateBody,
        idempotency_key: str | None = Header(default=None, max_length=200),
        who: Caller = caller,
    ) -> dict[str, Any]:
        receipt = await who.services.operator.sending.send_template(
            body.target,
            body.template,
            body.parameters,
            by=who.actor,
            language=body.language,
            key=_key(idempotency_key),
        )
        shown = receipt.as_json()
        del shown["provider"]
        return shown | {"template": body.template}

    @router.get("/dead-letters")
    async def list_dead_letters(
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
        who: Caller = caller,
    ) -> dict[str, Any]:
        return {
            "items": await who.services.operator.dead_letters.listing(
                by=who.actor, limit=limit, offset=offset
            )
        }

    @router.post("/dead-letters/replay")
    async def replay_all_dead_letters(who: Caller = caller) -> dict[str, Any]:
        return {"replayed": await who.services.operator.dead_letters.replay_all(by=who.actor)}

    @router.get("/dead-letters/{ref}")
    async def show_dead_letter(ref: str = DEAD_LETTER_REF, who: Caller = caller) -> dict[str, Any]:
        return await who.services.operator.dead_letters.show(ref, by=who.actor)

    @router.post("/dead-letters/{ref}/replay")
    async def replay_dead_letter(
        ref: str = DEAD_LETTER_REF, who: Caller = caller
    ) -> dict[str, Any]:
        return {"replayed": await who.services.operator.dead_letters.replay(ref, by=who.actor)}

    @router.put("/channels/{provider}/token")
    async def set_token(
        provider: Provider, body: TokenBody, who: Caller = caller
    ) -> dict[str, Any]:
        version = await who.services.operator.channels.set_token(provider, body.token, by=who.actor)
        return {"provider": provider.value, "version": version}

    @router.post("/contacts/export")
    async def export_contact(body: PhoneBody, who: Caller = caller) -> dict[str, Any]:
        return await who.services.operator.contacts.export(body.phone, by=who.actor)

    @router.post("/contacts/erase")
    async def erase_contact(body: PhoneBody, who: Caller = caller) -> dict[str, int]:
        return await who.services.operator.contacts.erase(body.phone, by=who.actor)

    @router.get("/keys/status")
    async def keys_status(who: Caller = caller) -> dict[str, int]:
        _platform_only(who)
        return await who.services.operator.keys.status(by=who.actor)

    @router.post("/keys/rotate")
    async def keys_rotate(who: Caller = caller) -> dict[str, Any]:
        """A new current key; this process follows the key file within a second, so re-seal
        (`POST /api/keys/reseal`) after that."""
        _platform_only(who)
        rotation = await who.services.operator.keys.rotate(by=who.actor)
        return {"currentKey": rotation.key_id, "keys": rotation.keys}

    @router.post("/keys/reseal")
    async def keys_reseal(who: Caller = caller) -> dict[str, int]:
        _platform_only(who)
        return await who.services.operator.keys.reseal(by=who.actor)

    return router
