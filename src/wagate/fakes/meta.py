"""A fake Graph API: records what it is sent, answers like Meta, fails on request, and can sign
and post webhooks to a gateway as Meta would.

Control endpoints live under `/_fake/`:
  GET    /_fake/requests?kind=send|read     what it received
  DELETE /_fake/requests                    forget it
  POST   /_fake/fail {"code": 131056, "times": 2, "http_status": 400, "kind": "send",
                      "delay_seconds": 0}   fail the next matching requests (delay → timeouts)
  POST   /_fake/token {"access_token": "…"} change the token it accepts (token expiry tests)
  POST   /_fake/webhook {"url", "app_secret", "payload"} sign and deliver a webhook
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wagate.fakes.payloads import new_wamid
from wagate.fakes.recorder import PlannedFailure, Recorder, apply_delay
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
    131056: "(#131056) (Business Account, Consumer Account) pair rate limit hit",
    130429: "(#130429) Rate limit hit",
}


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


class FakeGraphApi:
    def __init__(self, *, access_token: str | None = None) -> None:
        self.recorder = Recorder()
        self.access_token = access_token
        self.app = Starlette(
            routes=[
                Route("/_fake/requests", self._requests, methods=["GET", "DELETE"]),
                Route("/_fake/fail", self._fail, methods=["POST"]),
                Route("/_fake/token", self._token, methods=["POST"]),
                Route("/_fake/webhook", self._webhook, methods=["POST"]),
                Route("/{version}/{phone_number_id}/messages", self._messages, methods=["POST"]),
                Route("/{phone_number_id:int}/messages", self._messages, methods=["POST"]),
            ]
        )

    # ------------------------------------------------------------ Graph API

    async def _messages(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return JSONResponse(error_body(100), status_code=400)
        kind = "read" if body.get("status") == "read" else "send"
        entry = self.recorder.record(
            kind,
            phone_number_id=request.path_params["phone_number_id"],
            body=body,
            authorized=self.access_token is None or token == self.access_token,
        )
        if not entry["authorized"]:
            return JSONResponse(error_body(190), status_code=401)
        failure = self.recorder.take_failure(kind)
        await apply_delay(failure)
        if failure is not None and (failure.body or failure.http_status >= 400):
            entry["failed"] = failure.http_status
            return JSONResponse(failure.body or error_body(131000), status_code=failure.http_status)
        if kind == "read":
            return JSONResponse({"success": True})
        wamid = new_wamid()
        entry["wamid"] = wamid
        to = str(body.get("to", ""))
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
                "messages": [{"id": wamid}],
            }
        )

    # ------------------------------------------------------------ control

    async def _requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.recorder.reset()
            return JSONResponse({"cleared": True})
        return JSONResponse(self.recorder.listing(request.query_params.get("kind")))

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

    async def _token(self, request: Request) -> Response:
        self.access_token = orjson.loads(await request.body()).get("access_token")
        return JSONResponse({"ok": True})

    async def _webhook(self, request: Request) -> Response:
        spec = orjson.loads(await request.body())
        status, text = await deliver_webhook(spec["url"], spec["payload"], spec["app_secret"])
        return JSONResponse({"status": status, "body": text})


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
