"""Sandbox mode (OB5): no credentials at all → a fake Graph API runs in-process on loopback and
the gateway is configured against it, so the whole path can be tried without Meta.

`sandbox.json` in the data dir tells other commands (`wagate chat`, tests) how to reach it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import shutil
import socket
from pathlib import Path
from typing import Any

import structlog
import uvicorn
from pydantic import SecretStr

from wagate.fakes.meta import FakeGraphApi
from wagate.sample_knowledge import sample_documents
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


def seed_knowledge(folder: Path) -> Path:
    """An empty knowledge folder gets the sample knowledge base (a legal-aid office's guides,
    marked "contoh"), so a newcomer's first question has a real answer; the worker reads the
    folder at start. A folder with anything in it is the operator's and is left alone."""
    if folder.is_dir() and any(folder.iterdir()):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for document in sample_documents():
        shutil.copyfile(document, folder / document.name)
    log.info("sandbox.sample_knowledge", folder=str(folder.resolve()))
    return folder


class Sandbox:
    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._servers: list[tuple[QuietServer, asyncio.Task[None]]] = []
        self.graph: FakeGraphApi | None = None

    async def _serve(self, app: Any, name: str) -> int:
        port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
        )
        server = QuietServer(config)
        task = asyncio.create_task(server.serve(), name=name)
        while not server.started:
            if task.done():
                task.result()  # surfaces the start-up error
            await asyncio.sleep(0.02)
        self._servers.append((server, task))
        return port

    async def start(self, settings: Settings, *, gateway_port: int) -> Settings:
        access_token = secrets.token_urlsafe(16)
        self.graph = FakeGraphApi(access_token=access_token)
        graph_port = await self._serve(self.graph.app, "sandbox-graph")
        update: dict[str, Any] = {"sandbox_active": True}
        details: dict[str, Any] = {
            "graph_url": f"http://127.0.0.1:{graph_port}/v22.0",
            "fake_url": f"http://127.0.0.1:{graph_port}",
            "app_secret": secrets.token_urlsafe(24),
            "verify_token": secrets.token_urlsafe(16),
            "phone_number_id": SANDBOX_PHONE_NUMBER_ID,
            "gateway_port": gateway_port,
            "debounce_seconds": settings.debounce_seconds,
        }
        # The assistant is not faked: without AI_BASE_URL the offline assistant answers from
        # the knowledge base (the sample one, in an empty KB_DIR), so the first question gets
        # a real answer; a configured AI endpoint is used as it is.
        self._data_dir.mkdir(parents=True, exist_ok=True)
        details["knowledge"] = str(seed_knowledge(settings.knowledge_dir))
        path = self._data_dir / SANDBOX_FILE
        path.write_text(json.dumps(details, indent=2))
        path.chmod(0o600)
        log.warning(
            "sandbox.started",
            banner="SANDBOX MODE: no provider credentials. WhatsApp is a built-in fake; without "
            "AI_BASE_URL answers come from the knowledge base (a sample one in an empty KB_DIR). "
            "Try it: `wagate chat` in another terminal.",
            fake_graph_api=details["fake_url"],
            details_file=str(path.resolve()),
        )
        return settings.model_copy(
            update=update
            | {
                "meta_app_secret": SecretStr(details["app_secret"]),
                "meta_access_token": SecretStr(access_token),
                "meta_phone_number_id": SANDBOX_PHONE_NUMBER_ID,
                "meta_webhook_verify_token": SecretStr(details["verify_token"]),
                "meta_graph_url": details["graph_url"],
            }
        )

    async def stop(self) -> None:
        for server, task in self._servers:
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._servers.clear()
