"""A TLS reverse proxy for the end-to-end tests: what Caddy or nginx is in production. It
terminates HTTPS with the certificate it is given and forwards every request to the gateway
over plain HTTP, setting X-Forwarded-For and X-Forwarded-Proto as deploy/caddy and
deploy/nginx do (the client's values are replaced, never passed on).

    python -m tests.e2e.tls_proxy --port 8443 --cert cert.pem --key key.pem \
        --upstream http://127.0.0.1:8080
"""

from __future__ import annotations

import argparse

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_HOP_BY_HOP = {
    "connection",
    "content-length",
    "content-encoding",
    "host",
    "keep-alive",
    "transfer-encoding",
    "x-forwarded-for",
    "x-forwarded-proto",
}
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def proxy(upstream: str) -> Starlette:
    client = httpx.AsyncClient(base_url=upstream, timeout=30)

    async def forward(request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["x-forwarded-for"] = request.client.host if request.client else "unknown"
        headers["x-forwarded-proto"] = "https"
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        answer = await client.request(
            request.method, target, content=await request.body(), headers=headers
        )
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    return Starlette(routes=[Route("/{path:path}", forward, methods=_METHODS)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    uvicorn.run(
        proxy(args.upstream),
        host="127.0.0.1",
        port=args.port,
        ssl_certfile=args.cert,
        ssl_keyfile=args.key,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
