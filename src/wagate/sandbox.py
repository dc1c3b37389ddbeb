"""Sandbox mode (OB5): no credentials at all → a fake Graph API runs in-process on loopback and
the gateway is configured against it, so the whole path can be tried without Meta.

`sandbox.json` in the data dir tells other commands (`wagate chat`, tests) how to reach it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
from pathlib import Path
from typing import Any

import structlog
import uvicorn

from wagate.fakes.meta import FakeGraphApi
from wagate.settings import Settings
from wagate.web.server import QuietServer

log = structlog.get_logger(__name__)

SANDBOX_PHONE_NUMBER_ID = "100000000000099"
SANDBOX_FILE = "sandbox.json"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class Sandbox:
    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._server: QuietServer | None = None
        self._task: asyncio.Task[None] | None = None
        self.graph: FakeGraphApi | None = None

    async def start(self, settings: Settings, *, gateway_port: int) -> Settings:
        access_token = secrets.token_urlsafe(16)
        self.graph = FakeGraphApi(access_token=access_token)
        port = free_port()
        config = uvicorn.Config(
            self.graph.app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        self._server = QuietServer(config)
        self._task = asyncio.create_task(self._server.serve(), name="sandbox-graph")
        while not self._server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.02)
        details: dict[str, Any] = {
            "graph_url": f"http://127.0.0.1:{port}/v22.0",
            "fake_url": f"http://127.0.0.1:{port}",
            "app_secret": secrets.token_urlsafe(24),
            "verify_token": secrets.token_urlsafe(16),
            "phone_number_id": SANDBOX_PHONE_NUMBER_ID,
            "gateway_port": gateway_port,
        }
        self._data_dir.mkdir(parents=True, exist_ok=True)
        path = self._data_dir / SANDBOX_FILE
        path.write_text(json.dumps(details, indent=2))
        path.chmod(0o600)
        log.warning(
            "sandbox.started",
            banner="SANDBOX MODE: no provider credentials, talking to a built-in fake WhatsApp",
            fake_graph_api=details["fake_url"],
            details_file=str(path.resolve()),
        )
        return settings.model_copy(
            update={
                "meta_app_secret": _secret(details["app_secret"]),
                "meta_access_token": _secret(access_token),
                "meta_phone_number_id": SANDBOX_PHONE_NUMBER_ID,
                "meta_webhook_verify_token": _secret(details["verify_token"]),
                "meta_graph_url": details["graph_url"],
                "sandbox_active": True,
            }
        )

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _secret(value: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(value)
