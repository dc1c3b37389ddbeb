"""Sandbox mode (OB5): no credentials at all → a fake Graph API runs in-process on loopback and
the gateway is configured against it, so the whole path can be tried without Meta.

`sandbox.json` in the data dir tells other commands (`wagate chat`, tests) how to reach it.
The console's chat page plays the WhatsApp user through `SandboxChat`, and a newcomer gets a
first admin user (`first_admin`) whose credentials the start banner shows once and that file
keeps. Answers come after a short debounce (`SANDBOX_DEBOUNCE_SECONDS`) unless one is set.
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

import httpx
import structlog
import uvicorn

from wagate.fakes.meta import FakeGraphApi, StatusWebhooks, deliver_webhook
from wagate.fakes.payloads import meta_text
from wagate.pipeline.operator import Actor
from wagate.pipeline.operator.users import Users
from wagate.runtime.sandbox_file import SANDBOX_FILE, sandbox_meta_settings
from wagate.sample_knowledge import sample_documents
from wagate.settings import Settings
from wagate.web.server import QuietServer

log = structlog.get_logger(__name__)

SANDBOX_PHONE_NUMBER_ID = "100000000000099"
# The fake Graph API takes any Flow id: with this one, `DAFTAR` sends the case-intake Flow
# message in the sandbox too (a configured INTAKE_FLOW_ID is kept).
SANDBOX_INTAKE_FLOW_ID = "100000000000777"
SANDBOX_ADMIN = "admin"
# The quiet time before an answer when DEBOUNCE_SECONDS is not set (production's is 15 s).
SANDBOX_DEBOUNCE_SECONDS = 1.0
# The sandbox acts as the host's operator when it creates the first user (audited so).
SANDBOX_ACTOR = Actor(via="sandbox")


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
        self.details: dict[str, Any] = {}

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
        # Production's debounce (15 s) makes every answer in a first try feel broken; a set
        # DEBOUNCE_SECONDS (the tests', or someone trying bursts) is kept as it is.
        if "debounce_seconds" not in settings.model_fields_set:
            update["debounce_seconds"] = SANDBOX_DEBOUNCE_SECONDS
        debounce = update.get("debounce_seconds", settings.debounce_seconds)
        details: dict[str, Any] = {
            "graph_url": f"http://127.0.0.1:{graph_port}/v22.0",
            "fake_url": f"http://127.0.0.1:{graph_port}",
            "app_secret": secrets.token_urlsafe(24),
            "verify_token": secrets.token_urlsafe(16),
            "phone_number_id": SANDBOX_PHONE_NUMBER_ID,
            # The fake's token too: operator commands run beside the sandbox configure its
            # number exactly as this process does (`join_sandbox`); the file is private.
            "access_token": access_token,
            "intake_flow_id": settings.intake_flow_id or SANDBOX_INTAKE_FLOW_ID,
            "gateway_port": gateway_port,
            "debounce_seconds": debounce,
        }
        # The assistant is not faked: without AI_BASE_URL the offline assistant answers from
        # the knowledge base (the sample one, in an empty KB_DIR), so the first question gets
        # a real answer; a configured AI endpoint is used as it is.
        self._data_dir.mkdir(parents=True, exist_ok=True)
        details["knowledge"] = str(seed_knowledge(settings.knowledge_dir))
        # The console credentials of an earlier start stay: the user they name still exists.
        earlier = self._read()
        if "console" in earlier:
            details["console"] = earlier["console"]
        self.details = details
        path = self._write()
        # The start banner tells the person at the terminal; this is for the log.
        log.info(
            "sandbox.started",
            fake_graph_api=details["fake_url"],
            details_file=str(path.resolve()),
            debounce_seconds=debounce,
        )
        meta = sandbox_meta_settings(details)
        assert meta is not None, "the details name every Meta setting"
        return settings.model_copy(update=update | meta)

    @property
    def path(self) -> Path:
        return self._data_dir / SANDBOX_FILE

    def _read(self) -> dict[str, Any]:
        try:
            found = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def _write(self) -> Path:
        # Created private: it holds the fake's app secret and the console password.
        path = self.path
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text(json.dumps(self.details, indent=2))
        return path

    def report_statuses(self, *, host: str, port: int) -> None:
        """The fake reports each accepted message `sent`, then `delivered`, to this gateway's
        webhook, signed as Meta does: delivery ticks show, and `wagate smoke-test` in the
        sandbox sees the status it waits for instead of timing out."""
        assert self.graph is not None, "start the sandbox first"
        self.graph.statuses = StatusWebhooks(
            url=f"http://{loopback(host)}:{port}/webhook/whatsapp",
            app_secret=self.details["app_secret"],
        )

    def chat(self, *, host: str, port: int) -> SandboxChat:
        """The console chat page's stand-in WhatsApp user, posting to this gateway."""
        assert self.graph is not None, "start the sandbox first"
        return SandboxChat(
            graph=self.graph,
            webhook_url=f"http://{loopback(host)}:{port}/webhook/whatsapp",
            app_secret=self.details["app_secret"],
            phone_number_id=self.details["phone_number_id"],
        )

    async def first_admin(self, users: Users, *, console_url: str) -> tuple[str, str] | None:
        """When the default tenant has no operator user yet, create `admin` with a random
        password, keep it in sandbox.json and return (name, password); else None.

        Only ever called in sandbox mode: a real deployment's users are made on purpose."""
        if await users.list(by=SANDBOX_ACTOR):
            return None
        password = secrets.token_urlsafe(15)
        await users.add(SANDBOX_ADMIN, role="admin", password=password, by=SANDBOX_ACTOR)
        self.details["console"] = {
            "url": console_url,
            "user": SANDBOX_ADMIN,
            "password": password,
        }
        self._write()
        return SANDBOX_ADMIN, password

    async def stop(self) -> None:
        for server, task in self._servers:
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._servers.clear()


def loopback(host: str) -> str:
    """Where this machine reaches a server listening on `host`."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class SandboxChat:
    """`SandboxPeer`: a WhatsApp user played from the console. A message is signed with the
    fake's app secret and posted to the gateway's own webhook over loopback HTTP, exactly as
    Meta would (queue, debounce and worker included); the answers are what the gateway sent to
    the in-process fake Graph API."""

    def __init__(
        self, *, graph: FakeGraphApi, webhook_url: str, app_secret: str, phone_number_id: str
    ) -> None:
        self._graph = graph
        self._webhook_url = webhook_url
        self._app_secret = app_secret
        self._phone_number_id = phone_number_id

    async def say(self, number: str, text: str, *, name: str) -> int:
        payload = meta_text(
            phone_number_id=self._phone_number_id, sender=number, text=text, name=name
        )
        async with httpx.AsyncClient(timeout=30) as http:
            status, _ = await deliver_webhook(
                self._webhook_url, payload, self._app_secret, client=http
            )
        return status

    async def answers(self, number: str, *, after: int) -> list[dict[str, Any]]:
        found = []
        for request in self._graph.recorder.listing("send"):
            body = request.get("body") or {}
            if request["seq"] <= after or body.get("to") != number:
                continue
            kind = str(body.get("type", "text"))
            found.append(
                {"seq": request["seq"], "text": sent_text(body), "kind": kind, "at": request["at"]}
            )
        return found


def sent_text(body: dict[str, Any]) -> str:
    """What a person reads of a Graph API send: its text, a template's name, or its kind."""
    kind = body.get("type", "text")
    part = body.get(kind)
    if kind == "text" and isinstance(part, dict):
        return str(part.get("body", ""))
    if kind == "interactive" and isinstance(part, dict):
        return str((part.get("body") or {}).get("text", ""))
    if kind == "template" and isinstance(part, dict):
        return f"[template {part.get('name', '')}]"
    return f"[{kind}]"
