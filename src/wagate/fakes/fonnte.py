"""A fake Fonnte: `/send` that records form fields and answers like Fonnte (errors in-band with
HTTP 200), plus the same `/_fake/` control endpoints as the fake Graph API:
  POST /_fake/fail {"reason": "request invalid on disconnected device", "times": 1}
  POST /_fake/webhook {"url", "fields", "encoding": "json"|"form"}
  POST /_fake/device {"device_status": "disconnect"}   the linked phone's state /device reports
`/device` answers the device profile (protocol §1.6) to the device token, as Fonnte does.
A send carrying a `file` (an uploaded document or image) is recorded with the file's name,
type, size and SHA-256; over 4 MB it is refused as Fonnte refuses it.
  POST /_fake/files {…}   hold a file (see fakes/files.py) → {"id", "size", "sha256", "url"};
                          `GET /_files/{token}` serves it (404 once expired), recording
                          whether an Authorization header came along (it must not)
"""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wagate.fakes.files import FakeFiles
from wagate.fakes.recorder import PlannedFailure, Recorder, apply_delay

FILE_MAX_BYTES = 4 * 1024 * 1024


class FakeFonnte:
    def __init__(self, *, token: str | None = None) -> None:
        self.recorder = Recorder()
        self.token = token
        self._ids = itertools.count(80000000)
        self.device_status = "connect"
        self.files = FakeFiles()
        self.app = Starlette(
            routes=[
                Route("/_fake/files", self._register_file, methods=["POST"]),
                Route("/_files/{token}", self._download_file, methods=["GET"]),
                Route("/send", self._send, methods=["POST"]),
                Route("/device", self._device, methods=["POST"]),
                Route("/_fake/device", self._set_device, methods=["POST"]),
                Route("/_fake/requests", self._requests, methods=["GET", "DELETE"]),
                Route("/_fake/fail", self._fail, methods=["POST"]),
                Route("/_fake/webhook", self._webhook, methods=["POST"]),
            ]
        )

    async def _send(self, request: Request) -> Response:
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("file")
        file: dict[str, Any] | None = None
        if upload is not None and not isinstance(upload, str):
            data = await upload.read()
            file = {
                "filename": upload.filename,
                "content_type": upload.content_type,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        authorized = self.token is None or request.headers.get("authorization") == self.token
        entry = self.recorder.record(
            "send",
            fields=fields,
            authorized=authorized,
            token=request.headers.get("authorization"),
            **({"file": file} if file is not None else {}),
        )
        if not authorized:
            return JSONResponse({"reason": "token invalid", "status": False})
        if file is not None and int(file["size"]) > FILE_MAX_BYTES:
            entry["failed"] = "file size must under 4MB"
            return JSONResponse({"reason": "file size must under 4MB", "status": False})
        failure = self.recorder.take_failure("send")
        await apply_delay(failure)
        if failure is not None and failure.body:
            entry["failed"] = failure.body.get("reason")
            return JSONResponse(failure.body, status_code=failure.http_status)
        targets = [t.split("|")[0] for t in fields.get("target", "").split(",") if t]
        ids = [str(next(self._ids)) for _ in targets]
        entry["ids"] = ids
        return JSONResponse(
            {
                "detail": "success! message in queue",
                "id": ids,
                "process": "pending",
                "requestid": next(self._ids),
                "status": True,
                "target": targets,
            }
        )

    async def _device(self, request: Request) -> Response:
        """The device profile: what `wagate doctor` and the credential check read."""
        authorized = self.token is None or request.headers.get("authorization") == self.token
        self.recorder.record("device", authorized=authorized)
        if not authorized:
            return JSONResponse({"reason": "token invalid", "status": False})
        return JSONResponse(
            {
                "device": "6282200000000",
                "device_status": self.device_status,
                "expired": "18 November 2029",
                "messages": 0,
                "name": "Fake Device",
                "package": "Reguler",
                "quota": "1000",
                "status": True,
            }
        )

    async def _set_device(self, request: Request) -> Response:
        spec = orjson.loads(await request.body())
        self.device_status = str(spec.get("device_status", "connect"))
        return JSONResponse({"device_status": self.device_status})

    async def _register_file(self, request: Request) -> Response:
        spec = orjson.loads(await request.body())
        file = self.files.register(spec)
        # Fonnte keeps a file about half an hour: `expired` hands out a dead link at once.
        if spec.get("expired"):
            file.expire_first = 1
        token = self.files.link(file)
        url = f"{str(request.base_url).rstrip('/')}/_files/{token}"
        return JSONResponse({**self.files.summary(file), "url": url})

    async def _download_file(self, request: Request) -> Response:
        token = str(request.path_params["token"])
        self.recorder.record(
            "file_download", link=token, authorization=request.headers.get("authorization")
        )
        return self.files.download(token)

    async def _requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.recorder.reset()
            return JSONResponse({"cleared": True})
        return JSONResponse(self.recorder.listing(request.query_params.get("kind")))

    async def _fail(self, request: Request) -> Response:
        spec = orjson.loads(await request.body())
        body = {"reason": spec["reason"], "status": False} if spec.get("reason") else {}
        self.recorder.failures.append(
            PlannedFailure(
                kind="send",
                http_status=int(spec.get("http_status", 200)),
                body=body,
                delay_seconds=float(spec.get("delay_seconds", 0)),
                times=int(spec.get("times", 1)),
            )
        )
        return JSONResponse({"planned": len(self.recorder.failures)})

    async def _webhook(self, request: Request) -> Response:
        spec = orjson.loads(await request.body())
        status, text = await deliver_fonnte_webhook(
            spec["url"], spec["fields"], encoding=spec.get("encoding", "json")
        )
        return JSONResponse({"status": status, "body": text})


async def deliver_fonnte_webhook(
    url: str,
    fields: dict[str, Any],
    *,
    encoding: str = "json",
    client: httpx.AsyncClient | None = None,
) -> tuple[int, str]:
    own = client is None
    http = client or httpx.AsyncClient(timeout=30)
    try:
        if encoding == "form":
            response = await http.post(url, data={k: str(v) for k, v in fields.items()})
        else:
            response = await http.post(
                url, content=orjson.dumps(fields), headers={"Content-Type": "application/json"}
            )
    finally:
        if own:
            await http.aclose()
    return response.status_code, response.text
