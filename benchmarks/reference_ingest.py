"""The minimal durable webhook handler: the yardstick `ingest_vs_reference.py` measures
wagate's ingest against (issue 18).

What an honest, minimal Python service does to acknowledge a Meta webhook durably, and
nothing more: uvicorn (httptools + uvloop, as wagate runs), a plain ASGI callable, the
HMAC-SHA256 check of X-Hub-Signature-256 over the raw bytes, the message id read from the
JSON, one autocommit INSERT of the raw body and that id through a psycopg 3 pool, and a 200
once PostgreSQL has committed (an fsync per commit, whatever the server's settings say for
both). Duplicates are absorbed by the primary key. No encryption, no tenants, no queue, no
request ids, no read deadlines: the difference to wagate is what those cost.

    python benchmarks/reference_ingest.py --database-url postgresql://postgres@127.0.0.1/x \
        --port 8081 --app-secret bench-app-secret

It creates its one table if missing, serves POST /webhook/whatsapp and GET /health, and
stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import signal
from typing import Any

import orjson
import uvicorn
from psycopg_pool import AsyncConnectionPool

PATH = "/webhook/whatsapp"
MAX_BODY = 1024 * 1024  # wagate's default body limit
CREATE_SQL = """
CREATE TABLE IF NOT EXISTS reference_inbound (
  message_id text PRIMARY KEY,
  body bytea NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
)"""
INSERT_SQL = (
    "INSERT INTO reference_inbound (message_id, body) VALUES (%s, %s) "
    "ON CONFLICT (message_id) DO NOTHING"
)

Scope = dict[str, Any]


def _response(status: int, body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    head = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    return head, {"type": "http.response.body", "body": body}


OK = _response(200, b'{"status":"ok"}')
NOT_FOUND = _response(404, b'{"detail":"not found"}')
UNSIGNED = _response(401, b'{"detail":"invalid signature"}')
FORGED = _response(403, b'{"detail":"invalid signature"}')
MALFORMED = _response(400, b'{"detail":"malformed"}')
TOO_LARGE = _response(413, b'{"detail":"too large"}')
UNAVAILABLE = _response(503, b'{"detail":"retry later"}')


def message_id(body: bytes) -> str | None:
    """entry[0].changes[0].value.messages[0].id, or None for anything else."""
    try:
        payload = orjson.loads(body)
        value = payload["entry"][0]["changes"][0]["value"]
        found = value["messages"][0]["id"]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        return None
    return found if isinstance(found, str) and found else None


class Reference:
    def __init__(self, pool: AsyncConnectionPool[Any], app_secret: str) -> None:
        self.pool = pool
        self.secret = app_secret.encode()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/health":
            await self._send(send, OK)
            return
        if scope["path"] != PATH or scope["method"] != "POST":
            await self._send(send, NOT_FOUND)
            return
        signature = b""
        for name, value in scope["headers"]:
            if name == b"x-hub-signature-256":
                signature = value
        chunks = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await self._send(send, TOO_LARGE)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if not signature:
            await self._send(send, UNSIGNED)
            return
        expected = b"sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(expected, signature.lower()):
            await self._send(send, FORGED)
            return
        found = message_id(body)
        if found is None:
            await self._send(send, MALFORMED)
            return
        try:
            async with self.pool.connection() as conn:
                await conn.execute(INSERT_SQL, (found, body))
        except Exception:
            await self._send(send, UNAVAILABLE)  # not committed: the provider retries
            return
        await self._send(send, OK)

    @staticmethod
    async def _send(send: Any, response: tuple[dict[str, Any], dict[str, Any]]) -> None:
        await send(response[0])
        await send(response[1])


async def serve(args: argparse.Namespace) -> None:
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        args.database_url,
        min_size=2,
        max_size=args.pool_size,
        kwargs={"autocommit": True},
        open=False,
    )
    await pool.open(wait=True, timeout=30)
    async with pool.connection() as conn:
        await conn.execute(CREATE_SQL)
    config = uvicorn.Config(
        Reference(pool, args.app_secret),
        host=args.host,
        port=args.port,
        http="httptools",
        loop="none",
        lifespan="off",
        log_config=None,
        access_log=False,
        backlog=2048,
    )
    server = uvicorn.Server(config)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
    server.capture_signals = _no_signals  # type: ignore[method-assign]
    try:
        await server.serve()
    finally:
        await pool.close()


def _no_signals() -> Any:
    import contextlib

    return contextlib.nullcontext()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app-secret", required=True)
    parser.add_argument("--pool-size", type=int, default=10, help="as wagate's (default 10)")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - comes with uvicorn[standard]
        asyncio.run(serve(args))
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(serve(args))


if __name__ == "__main__":
    main()
