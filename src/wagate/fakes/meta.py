"""A fake Graph API: records what it is sent, answers like Meta, fails on request or at random,
and can sign and post webhooks (message statuses too) to a gateway as Meta would.

Control endpoints live under `/_fake/`:
  GET    /_fake/requests?kind=send|read|probe  what it received
  DELETE /_fake/requests                    forget it, and stop chaos and status webhooks
  POST   /_fake/fail {"code": 131056, "times": 2, "http_status": 400, "kind": "send",
                      "delay_seconds": 0}   fail the next matching requests (delay → timeouts)
  POST   /_fake/token {"access_token": "…"} change the token it accepts (token expiry tests);
         with "phone_number_id": the token of that number only (another tenant's WABA)
  POST   /_fake/webhook {"url", "app_secret", "payload"} sign and deliver a webhook
  POST   /_fake/chaos {"seed": 7, "rates": {"500": 0.1, "timeout": 0.05, …}, "kind": "send",
                       "timeout_seconds": 3, "latency_seconds": 0}
                                            draw a fault for every matching request (see below)
  GET    /_fake/chaos                       the chaos in force and how often each fault was drawn
  DELETE /_fake/chaos                       stop drawing faults
  POST   /_fake/statuses {"url", "app_secret", "phone_number_id": null,
                          "send": ["sent", "delivered"], "delay_seconds": 0.2,
                          "retry_seconds": 60, "reverse": false, "duplicate": false}
                                            post signed status webhooks for accepted messages
                                            (`reverse`: last status first; `duplicate`: each
                                            one twice — Meta promises neither order nor once)
  GET    /_fake/statuses                    what was posted: {"config", "pending", "deliveries"}
  DELETE /_fake/statuses                    stop posting them
  POST   /_fake/media {…}                   hold a file under a media id (see fakes/files.py):
                                            `GET /{media-id}?phone_number_id=…` answers its
                                            link, `GET /_media/{token}` with the token its bytes
                                            (404 once the link expired; an unknown id is 404)

Uploads (`POST /{phone-number-id}/media`, multipart: messaging_product=whatsapp, type, file)
are recorded as kind "upload" (fields, file name, type, size, SHA-256) and held like any file:
the answer's `{"id"}` can be fetched back with `GET /{media-id}?phone_number_id=…`. A planned
failure of kind "upload" (`/_fake/fail {"kind": "upload", "http_status": 500}`) refuses the
next ones. A document or image message naming an `id` the fake never issued is refused with
error 100, as a media id Meta does not know.

Chaos faults, by name (a planned `/_fake/fail` takes precedence over chaos):
  "timeout"          accepted (the message is delivered, it has a wamid) but answered only after
                     `timeout_seconds`: a client with a shorter timeout never learns the outcome
  "timeout_refused"  held for `timeout_seconds`, then 504: nothing was accepted
  "429", "5xx"       that HTTP status (429 with error 130429 and Retry-After: 1), not accepted
  "5xx_accepted"     accepted with a wamid, but answered with that HTTP status and no body: an
                     edge proxy failing after the Graph API took the message
  "<code>"           a Graph error with that code, e.g. "190" (401), "131056" (400); not accepted
  "<code>_async"     accepted with a wamid, then a `failed` status webhook with that error code,
                     e.g. "131047_async" (Meta reports a closed window after accepting the send)
A Flow message (`interactive.type: flow`) missing what Meta requires is refused with error 100,
its detail naming what (`flow_message_problem`); a well-formed one is accepted and recorded.

A draw depends on the seed, the request's key (a send's `biz_opaque_callback_data`, else its
recipient and text; a read's message id) and how many requests with that key came before —
not on how concurrent requests interleave.

Every request entry records `outcome` ("accepted", "accepted_late", "async_failed" or
"refused"), `delivered` (accepted and not failed afterwards: what a user really received),
`fault` (the chaos drawn, if any) and `responded` (False while the request is still held).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wagate.fakes.fast_lane import Answer, FastLane, Handler, Incoming
from wagate.fakes.files import FakeFiles
from wagate.fakes.payloads import meta_envelope, new_wamid
from wagate.fakes.recorder import Chaos, PlannedFailure, Recorder, apply_delay
from wagate.providers.meta.signature import sign

# Bodies Meta sends for the codes the gateway must handle (see the protocol reference).
_ERROR_TEXT = {
    0: "(#0) AuthException",
    4: "(#4) Application request limit reached",
    10: "(#10) Permission denied",
    100: "(#100) Invalid parameter",
    190: "Error validating access token: Session has expired",
    131000: "(#131000) Something went wrong",
    131016: "(#131016) Service unavailable",
    131026: "(#131026) Message undeliverable",
    131047: "(#131047) Re-engagement message",
    131053: "(#131053) Media upload error",
    131056: "(#131056) (Business Account, Consumer Account) pair rate limit hit",
    130429: "(#130429) Rate limit hit",
}
# Chaos fault names that are HTTP statuses rather than Graph error codes.
_HTTP_FAULTS = frozenset({"429", "500", "502", "503", "504"})
_TIMEOUT_FAULTS = frozenset({"timeout", "timeout_refused"})
_STATUS_NAMES = frozenset({"sent", "delivered", "read"})


def error_body(code: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message": _ERROR_TEXT.get(code, f"(#{code}) Simulated error"),
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": f"simulated error {code}"},
        "fbtrace_id": "AFakeTrace",
    }
    if code == 190:
        body["error_subcode"] = 463
        del body["error_data"]
    return {"error": body}


def _detailed(code: int, details: str) -> dict[str, Any]:
    body = error_body(code)
    body["error"]["error_data"]["details"] = details
    return body


def valid_fault(name: str) -> bool:
    code = name.removesuffix("_async")
    return (
        name in _TIMEOUT_FAULTS
        or name in _HTTP_FAULTS
        or (name.removesuffix("_accepted") in _HTTP_FAULTS and name.endswith("_accepted"))
        or code.isdigit()
    )


def status_payload(
    *,
    phone_number_id: str,
    wamid: str,
    status: str,
    recipient: str,
    tracker: str | None,
    error_code: int | None = None,
) -> dict[str, Any]:
    """One status webhook in Meta's shape (protocol examples `meta-status-*.json`)."""
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient,
    }
    if tracker is not None:
        # Meta echoes the send's `biz_opaque_callback_data` on every status of the message.
        item["biz_opaque_callback_data"] = tracker
    if status == "sent":
        item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
    if error_code is not None:
        text = _ERROR_TEXT.get(error_code, f"(#{error_code}) Simulated error")
        item["errors"] = [
            {
                "code": error_code,
                "title": text,
                "message": text,
                "error_data": {"details": f"simulated asynchronous failure {error_code}"},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ]
    return meta_envelope(phone_number_id, {"statuses": [item]})


@dataclass(frozen=True, kw_only=True)
class StatusWebhooks:
    url: str
    app_secret: str
    phone_number_id: str | None = None  # None: the one the send was addressed to
    send: tuple[str, ...] = ("sent", "delivered")
    delay_seconds: float = 0.2
    retry_seconds: float = 60.0  # a gateway that keeps refusing is retried this long, like Meta
    reverse: bool = False  # "delivered" before "sent": webhooks race each other at Meta
    duplicate: bool = False  # every status twice: Meta delivers at least once, not once


class FakeGraphApi:
    def __init__(self, *, access_token: str | None = None) -> None:
        self.recorder = Recorder()
        self.access_token = access_token
        # Numbers of other tenants (other WABAs) with tokens of their own.
        self.number_tokens: dict[str, str] = {}
        self.chaos: Chaos | None = None
        self.statuses: StatusWebhooks | None = None
        self.status_log: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()  # status webhooks under way
        self._http: httpx.AsyncClient | None = None
        self.files = FakeFiles()
        self.app = FastLane(self._starlette(), self._fast_route)

    def _fast_route(
        self, method: str, segments: list[str]
    ) -> tuple[Handler, dict[str, Any]] | None:
        """The sends and read receipts, as the Starlette routes below match them."""
        if method != "POST" or segments[-1] != "messages" or not all(segments):
            return None
        if len(segments) == 3:  # /{version}/{phone_number_id}/messages
            return self.message, {"phone_number_id": segments[1]}
        if len(segments) == 2 and segments[0].isascii() and segments[0].isdigit():
            return self.message, {"phone_number_id": int(segments[0])}  # Starlette's int
        return None

    def _starlette(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/_fake/media", self._register_media, methods=["POST"]),
                Route("/_media/{token}", self._download_media, methods=["GET"]),
                Route("/_fake/requests", self._requests, methods=["GET", "DELETE"]),
                Route("/_fake/fail", self._fail, methods=["POST"]),
                Route("/_fake/token", self._token, methods=["POST"]),
                Route("/_fake/webhook", self._webhook, methods=["POST"]),
                Route("/_fake/chaos", self._chaos, methods=["GET", "POST", "DELETE"]),
                Route("/_fake/statuses", self._statuses, methods=["GET", "POST", "DELETE"]),
                Route("/{version}/{phone_number_id}/messages", self._messages, methods=["POST"]),
                Route("/{phone_number_id:int}/messages", self._messages, methods=["POST"]),
                Route("/{version}/{phone_number_id}/media", self._upload, methods=["POST"]),
                Route("/{phone_number_id:int}/media", self._upload, methods=["POST"]),
                Route("/{version}/{node}", self._node, methods=["GET"]),
                Route("/{node:int}", self._node, methods=["GET"]),
            ]
        )

    # ------------------------------------------------------------ Graph API

    async def _messages(self, request: Request) -> Response:
        incoming = Incoming(
            {"phone_number_id": request.path_params["phone_number_id"]},
            request.headers.raw,
            await request.body(),
        )
        return (await self.message(incoming)).response()

    async def message(self, request: Incoming) -> Answer:
        """`POST /{phone-number-id}/messages`: a send or a read receipt (on either lane)."""
        token = request.bearer()
        number = request.params["phone_number_id"]
        try:
            body = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            return Answer(400, error_body(100))
        kind = "read" if body.get("status") == "read" else "send"
        entry = self.recorder.record(
            kind,
            phone_number_id=number,
            body=body,
            authorized=self._authorized(token, str(number)),
            token=token,
            responded=False,
        )
        try:
            return await self._answer(entry, kind, body)
        finally:
            # A held request (latency, "timeout") shows as unanswered until here, so a test
            # can act while a send is in flight.
            entry["responded"] = True
            entry["responded_at"] = time.time()

    async def _answer(self, entry: dict[str, Any], kind: str, body: dict[str, Any]) -> Answer:
        if not entry["authorized"]:
            entry.update(outcome="refused", delivered=False, failed=401)
            return Answer(401, error_body(190))
        malformed = (
            flow_message_problem(body) or rich_message_problem(body) or self._unknown_media(body)
        )
        if malformed is not None:
            # What Meta answers a Flow message missing what it needs: a parameter error.
            refusal = error_body(100)
            refusal["error"]["error_data"]["details"] = malformed
            return _refuse(entry, 400, refusal)
        failure = self.recorder.take_failure(kind)
        if failure is not None:
            await apply_delay(failure)
            if failure.body or failure.http_status >= 400:
                return _refuse(entry, failure.http_status, failure.body or error_body(131000))
            return Answer(200, self._accept(entry, kind, body))
        chaos = self.chaos if self.chaos is not None and self.chaos.matches(kind) else None
        if chaos is None:
            return Answer(200, self._accept(entry, kind, body))
        fault = chaos.draw(_chaos_key(kind, body))
        entry["fault"] = fault
        if fault == "timeout":
            answer = self._accept(entry, kind, body, outcome="accepted_late")
            await asyncio.sleep(chaos.timeout_seconds)
            return Answer(200, answer)
        if fault == "timeout_refused":
            await asyncio.sleep(chaos.timeout_seconds)
            return _refuse(entry, 504, {})
        if fault is not None and fault.endswith("_accepted"):
            self._accept(entry, kind, body)
            await asyncio.sleep(chaos.latency_seconds)
            entry["failed"] = int(fault.removesuffix("_accepted"))
            return Answer(entry["failed"])
        if fault is not None and fault.endswith("_async"):
            answer = self._accept(entry, kind, body, fails_with=int(fault.removesuffix("_async")))
            await asyncio.sleep(chaos.latency_seconds)
            return Answer(200, answer)
        if fault is None:
            # Accepted at once, answered after the latency: a crash in between loses only the
            # answer, never the message — as with the real Graph API.
            answer = self._accept(entry, kind, body)
            await asyncio.sleep(chaos.latency_seconds)
            return Answer(200, answer)
        await asyncio.sleep(chaos.latency_seconds)
        if fault == "429":
            return _refuse(entry, 429, error_body(130429), headers=(("Retry-After", "1"),))
        if fault in _HTTP_FAULTS:
            return _refuse(entry, int(fault), error_body(131000))
        code = int(fault)
        return _refuse(entry, 401 if code == 190 else 400, error_body(code))

    def _accept(
        self,
        entry: dict[str, Any],
        kind: str,
        body: dict[str, Any],
        *,
        outcome: str = "accepted",
        fails_with: int | None = None,
    ) -> dict[str, Any]:
        """Take the message: from here on it is delivered (or fails later, asynchronously),
        whatever happens to the answer."""
        if kind == "read":
            entry.update(outcome=outcome, delivered=True)
            return {"success": True}
        wamid = new_wamid()
        to = str(body.get("to", ""))
        entry.update(
            wamid=wamid,
            outcome="async_failed" if fails_with is not None else outcome,
            delivered=fails_with is None,
        )
        if fails_with is not None:
            entry["async_failure"] = fails_with
        self._schedule_statuses(entry, wamid, to, body, fails_with)
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
            "messages": [{"id": wamid}],
        }

    async def _node(self, request: Request) -> Response:
        """GET on a node (our phone number): what a client reads to check its token."""
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        node = str(request.path_params["node"])
        if "phone_number_id" in request.query_params:  # a media id, as the gateway asks
            return self._media_info(request, node, token)
        authorized = self._authorized(token, node)
        self.recorder.record("probe", node=node, authorized=authorized)
        if not authorized:
            return JSONResponse(error_body(190), status_code=401)
        profile = {
            "display_phone_number": "15550000000",
            "verified_name": "Fake Business",
            "quality_rating": "GREEN",
        }
        # Like the Graph API: the fields asked for (and the id), else the node's defaults.
        fields = request.query_params.get("fields")
        wanted = set(fields.split(",")) if fields else set(profile)
        answer = {"id": node} | {k: v for k, v in profile.items() if k in wanted}
        return JSONResponse(answer)

    # ------------------------------------------------------------ media

    def _unknown_media(self, body: dict[str, Any]) -> str | None:
        kind = body.get("type")
        media = body.get(kind) if kind in ("document", "image") else None
        if isinstance(media, dict) and media.get("id") and str(media["id"]) not in self.files.files:
            return f"{kind}.id is not a media id of this phone number"
        return None

    async def _upload(self, request: Request) -> Response:
        """`POST /{phone-number-id}/media`: the file recorded, held and its id answered."""
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        number = str(request.path_params["phone_number_id"])
        content_type = request.headers.get("content-type", "")
        entry = self.recorder.record(
            "upload",
            phone_number_id=number,
            authorized=self._authorized(token, number),
            content_type=content_type.split(";")[0].strip(),
        )
        if not entry["authorized"]:
            return _refuse(entry, 401, error_body(190)).response()
        if not content_type.startswith("multipart/form-data"):
            return _refuse(
                entry, 400, _detailed(100, "the upload must be multipart/form-data")
            ).response()
        form = await request.form(max_files=1, max_fields=10)
        file = form.get("file")
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        entry["fields"] = fields
        if file is None or isinstance(file, str):
            return _refuse(entry, 400, _detailed(100, "file is required")).response()
        pieces, digest = [], hashlib.sha256()
        while piece := await file.read(1024 * 1024):
            pieces.append(piece)
            digest.update(piece)
        data = b"".join(pieces)
        entry.update(
            filename=file.filename,
            file_content_type=file.content_type,
            size=len(data),
            sha256=digest.hexdigest(),
        )
        if fields.get("messaging_product") != "whatsapp":
            return _refuse(
                entry, 400, _detailed(100, "messaging_product must be whatsapp")
            ).response()
        if not fields.get("type"):
            return _refuse(entry, 400, _detailed(100, "type is required")).response()
        failure = self.recorder.take_failure("upload", exact=True)
        if failure is not None:
            await apply_delay(failure)
            return _refuse(
                entry, failure.http_status, failure.body or error_body(131053)
            ).response()
        held = self.files.hold(data, fields["type"], digest.hexdigest())
        entry.update(outcome="accepted", media_id=held.id)
        return JSONResponse({"id": held.id})

    def _media_info(self, request: Request, media_id: str, token: str) -> Response:
        number = request.query_params.get("phone_number_id", "")
        authorized = self._authorized(token, number)
        file = self.files.files.get(media_id)
        self.recorder.record(
            "media_info", media_id=media_id, authorized=authorized, known=file is not None
        )
        if not authorized:
            return JSONResponse(error_body(190), status_code=401)
        failure = self.recorder.take_failure("media_info", exact=True)
        if failure is not None:
            return JSONResponse(failure.body or error_body(131000), status_code=failure.http_status)
        if file is None:
            return JSONResponse(error_body(100), status_code=404)
        answer: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "url": f"{str(request.base_url).rstrip('/')}/_media/{self.files.link(file)}",
            "mime_type": file.mime_type,
            "sha256": file.sha256,
            "id": file.id,
        }
        if file.announce_size is not None:
            answer["file_size"] = file.announce_size
        return JSONResponse(answer)

    async def _download_media(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        # The media belongs to some number: any token the fake accepts may fetch it.
        authorized = self.access_token is None or token in (
            self.access_token,
            *self.number_tokens.values(),
        )
        link = str(request.path_params["token"])
        self.recorder.record("media_download", link=link, authorized=authorized)
        if not authorized:
            return JSONResponse(error_body(190), status_code=401)
        return self.files.download(link)

    async def _register_media(self, request: Request) -> Response:
        spec = orjson.loads(await request.body())
        return JSONResponse(self.files.summary(self.files.register(spec)))

    # ------------------------------------------------------------ status webhooks

    def _schedule_statuses(
        self,
        entry: dict[str, Any],
        wamid: str,
        to: str,
        body: dict[str, Any],
        fails_with: int | None,
    ) -> None:
        config = self.statuses
        if config is None:
            return
        tracker = body.get("biz_opaque_callback_data")
        plan: list[tuple[str, int | None]] = (
            [("failed", fails_with)] if fails_with is not None else [(s, None) for s in config.send]
        )
        if config.reverse:
            plan.reverse()
        if config.duplicate:
            plan = [step for step in plan for _ in range(2)]
        payloads = [
            status_payload(
                phone_number_id=config.phone_number_id or str(entry["phone_number_id"]),
                wamid=wamid,
                status=status,
                recipient=to.lstrip("+"),
                tracker=str(tracker) if tracker is not None else None,
                error_code=code,
            )
            for status, code in plan
        ]
        task = asyncio.create_task(self._post_statuses(config, payloads))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_statuses(self, config: StatusWebhooks, payloads: list[dict[str, Any]]) -> None:
        await asyncio.sleep(config.delay_seconds)
        for payload in payloads:  # one after the other, in the planned order
            item = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
            record: dict[str, Any] = {
                "wamid": item["id"],
                "status": item["status"],
                "tracker": item.get("biz_opaque_callback_data"),
                "recipient_id": item["recipient_id"],
                "attempts": 0,
                "http_status": None,
                "delivered": False,
                "gave_up": False,
            }
            self.status_log.append(record)
            await self._deliver_until_accepted(config, payload, record)

    async def _deliver_until_accepted(
        self, config: StatusWebhooks, payload: dict[str, Any], record: dict[str, Any]
    ) -> None:
        """Like Meta: a webhook that is not answered 200 is delivered again, with backoff."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10)
        deadline = time.monotonic() + config.retry_seconds
        pause = 0.25
        while True:
            record["attempts"] += 1
            try:
                status, _ = await deliver_webhook(
                    config.url, payload, config.app_secret, client=self._http
                )
            except httpx.HTTPError as exc:
                record["http_status"] = type(exc).__name__
            else:
                record["http_status"] = status
                if 200 <= status < 300:
                    record["delivered"] = True
                    return
            if time.monotonic() + pause > deadline:
                record["gave_up"] = True
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, 3.0)

    def _stop_statuses(self) -> None:
        self.statuses = None
        for task in list(self._tasks):
            task.cancel()

    # ------------------------------------------------------------ control

    async def _requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.recorder.reset()
            self.chaos = None
            self._stop_statuses()
            self.status_log.clear()
            return JSONResponse({"cleared": True})
        # orjson: the listing grows with every request, and benchmarks poll it while they wait.
        return Answer(200, self.recorder.listing(request.query_params.get("kind"))).response()

    async def _fail(self, request: Request) -> Response:
        spec = orjson.loads(await request.body())
        code = spec.get("code")
        http_status = int(spec.get("http_status", 401 if code == 190 else 400))
        self.recorder.failures.append(
            PlannedFailure(
                kind=str(spec.get("kind", "send")),
                http_status=http_status,
                body=error_body(int(code)) if code is not None else {},
                delay_seconds=float(spec.get("delay_seconds", 0)),
                times=int(spec.get("times", 1)),
            )
        )
        return JSONResponse({"planned": len(self.recorder.failures)})

    def _authorized(self, token: str, number: str) -> bool:
        own = self.number_tokens.get(number)
        if own is not None:
            return token == own
        return self.access_token is None or token == self.access_token

    async def _token(self, request: Request) -> Response:
        """{"access_token": t} for every number, or {"access_token": t, "phone_number_id": n}
        for one number only (another tenant's WABA token)."""
        body = orjson.loads(await request.body())
        number = body.get("phone_number_id")
        if number is not None:
            self.number_tokens[str(number)] = body.get("access_token") or ""
        else:
            self.access_token = body.get("access_token")
        return JSONResponse({"ok": True})

    async def _webhook(self, request: Request) -> Response:
        spec = orjson.loads(await request.body())
        status, text = await deliver_webhook(spec["url"], spec["payload"], spec["app_secret"])
        return JSONResponse({"status": status, "body": text})

    async def _chaos(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.chaos = None
            return JSONResponse({"chaos": None})
        if request.method == "POST":
            spec = orjson.loads(await request.body())
            rates = {str(name): float(rate) for name, rate in dict(spec.get("rates", {})).items()}
            unknown = sorted(name for name in rates if not valid_fault(name))
            if unknown:
                return JSONResponse({"error": f"unknown faults: {unknown}"}, status_code=400)
            try:
                self.chaos = Chaos(
                    seed=int(spec.get("seed", 0)),
                    rates=rates,
                    kind=str(spec.get("kind", "send")),
                    timeout_seconds=float(spec.get("timeout_seconds", 3.0)),
                    latency_seconds=float(spec.get("latency_seconds", 0.0)),
                )
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"chaos": self.chaos.summary() if self.chaos else None})

    async def _statuses(self, request: Request) -> Response:
        if request.method == "DELETE":
            self._stop_statuses()
            return JSONResponse({"config": None})
        if request.method == "POST":
            spec = orjson.loads(await request.body())
            send = tuple(str(s) for s in spec.get("send", ("sent", "delivered")))
            if not set(send) <= _STATUS_NAMES:
                return JSONResponse(
                    {"error": f"send: only {sorted(_STATUS_NAMES)}"}, status_code=400
                )
            phone_number_id = spec.get("phone_number_id")
            self.statuses = StatusWebhooks(
                url=str(spec["url"]),
                app_secret=str(spec["app_secret"]),
                phone_number_id=str(phone_number_id) if phone_number_id else None,
                send=send,
                delay_seconds=float(spec.get("delay_seconds", 0.2)),
                retry_seconds=float(spec.get("retry_seconds", 60.0)),
                reverse=bool(spec.get("reverse", False)),
                duplicate=bool(spec.get("duplicate", False)),
            )
        config = self.statuses
        return JSONResponse(
            {
                "config": None
                if config is None
                else {
                    "url": config.url,
                    "phone_number_id": config.phone_number_id,
                    "send": list(config.send),
                    "delay_seconds": config.delay_seconds,
                    "retry_seconds": config.retry_seconds,
                    "reverse": config.reverse,
                    "duplicate": config.duplicate,
                },
                "pending": len(self._tasks),
                "deliveries": self.status_log,
            }
        )

    async def aclose(self) -> None:
        """Stop posting statuses and close the client (for in-process use)."""
        self._stop_statuses()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def _chaos_key(kind: str, body: dict[str, Any]) -> str:
    if kind == "read":
        return f"read:{body.get('message_id')}"
    tracker = body.get("biz_opaque_callback_data")
    if tracker is not None:
        return f"send:{tracker}"
    content = orjson.dumps(body.get("text") or body.get("template"), option=orjson.OPT_SORT_KEYS)
    return f"send:{body.get('to')}:{content.decode()}"


def flow_message_problem(body: dict[str, Any]) -> str | None:
    """Why Meta would refuse this interactive Flow message (None: not one, or well-formed):
    the parameters its reference requires (`flow_message_version` 3, a Flow by id or name,
    the button's label, a first screen when navigating) and a body text."""
    interactive = body.get("interactive")
    if body.get("type") != "interactive" or not isinstance(interactive, dict):
        return None
    if interactive.get("type") != "flow":
        return None
    action = interactive.get("action")
    parameters = action.get("parameters") if isinstance(action, dict) else None
    if not isinstance(action, dict) or action.get("name") != "flow":
        return "action.name must be flow"
    if not isinstance(parameters, dict):
        return "action.parameters is required"
    if parameters.get("flow_message_version") != "3":
        return "flow_message_version must be 3"
    if bool(parameters.get("flow_id")) == bool(parameters.get("flow_name")):
        return "exactly one of flow_id and flow_name is required"
    cta = parameters.get("flow_cta")
    if not isinstance(cta, str) or not 0 < len(cta) <= 30:
        return "flow_cta must be 1 to 30 characters"
    navigate = parameters.get("flow_action", "navigate") == "navigate"
    payload = parameters.get("flow_action_payload")
    if navigate and not (isinstance(payload, dict) and payload.get("screen")):
        return "flow_action_payload.screen is required to navigate"
    text = (interactive.get("body") or {}).get("text")
    if not isinstance(text, str) or not text:
        return "body.text is required"
    return None


def rich_message_problem(body: dict[str, Any]) -> str | None:
    """Why Meta would refuse this document, image, reply-button, list or reaction message (None: not
    one, or well-formed), by the limits of its reference."""
    kind = body.get("type")
    if kind == "reaction":
        reaction = body.get("reaction")
        if not isinstance(reaction, dict) or not reaction.get("message_id"):
            return "reaction.message_id is required"
        if not isinstance(reaction.get("emoji"), str):
            return "reaction.emoji must be text"
        return None
    if kind in ("document", "image"):
        media = body.get(kind)
        if not isinstance(media, dict) or bool(media.get("id")) == bool(media.get("link")):
            return f"{kind} needs exactly one of id and link"
        if len(str(media.get("caption", ""))) > 1024:
            return "caption is longer than 1024 characters"
        return None
    interactive = body.get("interactive")
    if kind != "interactive" or not isinstance(interactive, dict):
        return None
    found = interactive.get("action")
    action: dict[str, Any] = found if isinstance(found, dict) else {}
    text = (interactive.get("body") or {}).get("text")
    if interactive.get("type") in ("button", "list") and not (isinstance(text, str) and text):
        return "body.text is required"
    if interactive.get("type") == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            return "action.buttons must hold 1 to 3 buttons"
        if any(not 0 < len(str(b.get("reply", {}).get("title", ""))) <= 20 for b in buttons):
            return "a button title must be 1 to 20 characters"
    if interactive.get("type") == "list":
        sections = action.get("sections")
        if not action.get("button") or not isinstance(sections, list) or not sections:
            return "action.button and action.sections are required"
        if sum(len(s.get("rows", [])) for s in sections) > 10:
            return "a list holds at most 10 rows"
    return None


def _refuse(
    entry: dict[str, Any],
    http_status: int,
    body: dict[str, Any],
    headers: tuple[tuple[str, str], ...] = (),
) -> Answer:
    entry.update(outcome="refused", delivered=False, failed=http_status)
    return Answer(http_status, body or None, headers)


async def deliver_webhook(
    url: str, payload: dict[str, Any], app_secret: str, *, client: httpx.AsyncClient | None = None
) -> tuple[int, str]:
    """Sign `payload` with the app secret and POST it, as Meta does."""
    body = orjson.dumps(payload)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, app_secret)}
    if client is None:
        async with httpx.AsyncClient(timeout=30) as own:
            response = await own.post(url, content=body, headers=headers)
    else:
        response = await client.post(url, content=body, headers=headers)
    return response.status_code, response.text
