"""The echo provider's fake, a real HTTP server in its own process:
`python -m tests.plugins.echo_fake --port N --token T --webhook-secret S`.

  POST /messages, POST /read, GET /me      what the adapter calls (recorded; bearer token checked)
  GET|DELETE /_fake/requests[?kind=send]   what was recorded
  POST /_fake/webhook {"url", "message", "secret"?}   deliver a webhook to the gateway, as the
                                           provider would; answers the gateway's status and body
"""

from __future__ import annotations

import argparse
import itertools
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wagate.fakes.recorder import Recorder


class FakeEcho:
    def __init__(self, *, token: str, webhook_secret: str) -> None:
        self.recorder = Recorder()
        self.token = token
        self.webhook_secret = webhook_secret
        self._ids = itertools.count(1)
        self.app = Starlette(
            routes=[
                Route("/messages", self._send, methods=["POST"]),
                Route("/read", self._read, methods=["POST"]),
                Route("/me", self._me, methods=["GET"]),
                Route("/_fake/requests", self._requests, methods=["GET", "DELETE"]),
                Route("/_fake/webhook", self._webhook, methods=["POST"]),
            ]
        )

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    async def _send(self, request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        entry = self.recorder.record("send", body=body, authorized=self._authorized(request))
        if not entry["authorized"]:
            return JSONResponse({"error": "bad token"}, status_code=401)
        entry["id"] = f"echo-{next(self._ids)}"
        return JSONResponse({"id": entry["id"]})

    async def _read(self, request: Request) -> Response:
        self.recorder.record("read", body=await request.json())
        return JSONResponse({"ok": self._authorized(request)})

    async def _me(self, request: Request) -> Response:
        self.recorder.record("me")
        return JSONResponse({"name": "echo"}, status_code=200 if self._authorized(request) else 401)

    async def _requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.recorder.reset()
            return JSONResponse({"cleared": True})
        return JSONResponse(self.recorder.listing(request.query_params.get("kind")))

    async def _webhook(self, request: Request) -> Response:
        spec: dict[str, Any] = await request.json()
        secret = spec.get("secret", self.webhook_secret)
        headers = {"X-Echo-Secret": secret} if secret else {}
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(spec["url"], json=spec["message"], headers=headers)
        return JSONResponse({"status": response.status_code, "body": response.text})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--webhook-secret", required=True)
    args = parser.parse_args()
    fake = FakeEcho(token=args.token, webhook_secret=args.webhook_secret)
    uvicorn.run(fake.app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
