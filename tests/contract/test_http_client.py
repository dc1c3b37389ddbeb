"""The lean outbound HTTP client (wagate.http_client) over real sockets on loopback: uvicorn for
well-behaved peers, raw asyncio servers for the misbehaving ones, a TLS server with its own
certificate authority. What is checked is what the adapters rely on: keep-alive reuse, the
request exactly as meant, and every failure raised as the httpx error that says whether the
request may have left (providers/transport.py turns that into "retry" or "outcome unknown")."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.contract.conftest import serve
from wagate.domain import errors as e
from wagate.http_client import HttpxClient, LeanHttpClient, http_client, proxied
from wagate.http_client.connection import Http11Connection
from wagate.providers.transport import transport_error

# ---------------------------------------------------------------------------- peers


async def _echo(request: Request) -> Response:
    """What arrived: method, path, query, headers, body, and the client's port (which
    connection it came on)."""
    body = await request.body()
    client = request.client
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": dict(request.headers),
            "body": body.decode("utf-8", "replace"),
            "port": client.port if client else None,
        },
        headers={"X-Twice": "a"},
    )


async def _slow(request: Request) -> Response:
    await asyncio.sleep(float(request.query_params.get("s", "1")))
    return JSONResponse({"late": True})


async def _status(request: Request) -> Response:
    code = int(request.path_params["code"])
    return JSONResponse({"error": {"code": code}}, status_code=code, headers={"Retry-After": "7"})


ECHO_APP = Starlette(
    routes=[
        Route("/slow", _slow, methods=["GET", "POST"]),
        Route("/status/{code:int}", _status, methods=["GET", "POST"]),
        Route("/base/status/{code:int}", _status, methods=["GET", "POST"]),
        Route("/{rest:path}", _echo, methods=["GET", "POST", "PUT", "DELETE"]),
    ]
)


@asynccontextmanager
async def raw_server(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[tuple[str, list[int]]]:
    """A TCP server running `handle` per connection: (its URL, one entry per connection)."""
    accepted: list[int] = []

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            await handle(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", accepted
    finally:
        server.close()


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + await reader.readexactly(length)


def _answer(body: bytes, *extra: bytes) -> bytes:
    lines = [b"HTTP/1.1 200 OK", b"Content-Type: application/json", *extra]
    if not any(x.lower().startswith((b"content-length", b"transfer-encoding")) for x in extra):
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# ---------------------------------------------------------------------------- requests


async def test_sequential_requests_share_one_kept_alive_connection() -> None:
    async with serve(ECHO_APP) as url:
        client = LeanHttpClient(f"{url}/v22.0/", headers={"Authorization": "Bearer tok"})
        try:
            answers = [
                await client.request(
                    "POST",
                    "123/messages",
                    content=b'{"n": %d}' % n,
                    content_type="application/json",
                )
                for n in range(5)
            ]
        finally:
            await client.aclose()
    seen = [orjson.loads(a.content) for a in answers]
    assert all(a.status_code == 200 and a.is_success for a in answers)
    assert len({s["port"] for s in seen}) == 1  # one connection, reused
    first = seen[0]
    assert (first["method"], first["path"], first["body"]) == (
        "POST",
        "/v22.0/123/messages",
        '{"n": 0}',
    )
    assert first["headers"]["authorization"] == "Bearer tok"
    assert first["headers"]["content-type"] == "application/json"
    assert first["headers"]["host"] == url.removeprefix("http://")
    assert first["headers"]["user-agent"].startswith("wagate/")
    assert answers[0].headers["x-twice"] == "a"  # header names come back in lower case


async def test_concurrent_requests_open_one_connection_each_and_reuse_them() -> None:
    async with serve(ECHO_APP) as url:
        client = LeanHttpClient(url)
        try:
            ports: set[int] = set()
            for _ in range(3):
                answers = await asyncio.gather(*(client.request("GET", "x") for _ in range(8)))
                ports |= {orjson.loads(a.content)["port"] for a in answers}
        finally:
            await client.aclose()
    assert 1 <= len(ports) <= 8  # 24 requests, never more connections than at once


async def test_get_with_a_query_and_the_base_url_itself() -> None:
    async with serve(ECHO_APP) as url:
        client = LeanHttpClient(f"{url}/send")
        try:
            base = orjson.loads((await client.request("POST", content=b"a=1")).content)
            query = orjson.loads((await client.request("GET", "x?fields=id")).content)
        finally:
            await client.aclose()
    assert (base["path"], base["body"]) == ("/send", "a=1")
    assert (query["method"], query["path"], query["query"]) == ("GET", "/send/x", "fields=id")
    assert "content-length" not in query["headers"]  # a GET without a body says nothing of one


async def test_a_path_from_configuration_cannot_forge_a_header() -> None:
    received: list[bytes] = []

    async def keep(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await _read_request(reader))
        writer.write(_answer(b"{}"))
        await writer.drain()

    async with raw_server(keep) as (url, _):
        client = LeanHttpClient(url)
        try:
            await client.request("POST", "1 2\r\nX-Evil: yes/messages", content=b"{}")
        finally:
            await client.aclose()
    request_line, *headers = received[0].split(b"\r\n\r\n")[0].split(b"\r\n")
    assert request_line == b"POST /1%202%0D%0AX-Evil:%20yes/messages HTTP/1.1"
    assert not [h for h in headers if h.lower().startswith(b"x-evil")]


async def test_a_header_with_a_line_break_is_refused_before_anything_is_sent() -> None:
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise AssertionError("nothing should connect")

    async with raw_server(never) as (url, accepted):
        client = LeanHttpClient(url, headers={"Authorization": "tok\r\nX-Evil: yes"})
        with pytest.raises(httpx.LocalProtocolError):
            await client.request("POST", "m", content=b"{}")
        await client.aclose()
    assert accepted == []


async def test_error_statuses_come_back_as_answers_with_their_headers() -> None:
    async with serve(ECHO_APP) as url:
        client = LeanHttpClient(url)
        try:
            answer = await client.request("POST", "status/429", content=b"{}")
            again = await client.request("GET", "again")  # the connection is still usable
        finally:
            await client.aclose()
    assert (answer.status_code, answer.is_success) == (429, False)
    assert answer.headers["retry-after"] == "7"
    assert orjson.loads(answer.content) == {"error": {"code": 429}}
    assert again.status_code == 200


# ---------------------------------------------------------------------------- answers


async def test_chunked_close_delimited_and_gzip_answers_are_read_whole() -> None:
    body = orjson.dumps({"messages": [{"id": "wamid.1"}], "pad": "x" * 5000})
    chunked = b"".join(
        b"%x\r\n%b\r\n" % (len(body[i : i + 999]), body[i : i + 999])
        for i in range(0, len(body), 999)
    )
    answers = [
        _answer(chunked + b"0\r\n\r\n", b"Transfer-Encoding: chunked"),
        _answer(gzip.compress(body), b"Content-Encoding: gzip"),
        b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + body,  # ends at close
    ]

    async def answer_in_turn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while answers:
            await _read_request(reader)
            reply = answers.pop(0)
            for i in range(0, len(reply), 700):  # in pieces, as a network delivers them
                writer.write(reply[i : i + 700])
                await writer.drain()
            if reply.startswith(b"HTTP/1.0"):
                return

    async with raw_server(answer_in_turn) as (url, accepted):
        client = LeanHttpClient(url)
        try:
            got = [await client.request("POST", "m", content=b"{}") for _ in range(3)]
        finally:
            await client.aclose()
    assert [g.content for g in got] == [body, body, body]
    assert len(accepted) == 1  # chunked and gzip kept the connection; the last ended it


async def test_an_answer_saying_connection_close_is_not_reused() -> None:
    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(_answer(b"{}", b"Connection: close"))
        await writer.drain()

    async with raw_server(once) as (url, accepted):
        client = LeanHttpClient(url)
        try:
            for _ in range(3):
                assert (await client.request("POST", "m", content=b"{}")).status_code == 200
        finally:
            await client.aclose()
    assert len(accepted) == 3


async def test_an_idle_connection_the_server_closed_is_never_used_again() -> None:
    async def answer_then_hang_up(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await _read_request(reader)
        writer.write(_answer(b"{}"))  # keep-alive by HTTP/1.1 default…
        await writer.drain()
        # …then closed while idle, as a server's keep-alive timeout does

    async with raw_server(answer_then_hang_up) as (url, accepted):
        client = LeanHttpClient(url)
        try:
            for _ in range(3):
                assert (await client.request("POST", "m", content=b"{}")).status_code == 200
                await asyncio.sleep(0.1)  # the close reaches us while the connection is idle
        finally:
            await client.aclose()
    assert len(accepted) == 3


async def test_a_connection_whose_close_arrived_this_loop_pass_is_not_handed_out() -> None:
    # The peer's FIN marks the transport closing at once, but `connection_lost` (which sets
    # `closed`) runs a loop pass later: a request woken in between must get a new connection,
    # not an error saying its request may have left.
    async def answer_then_hang_up(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await _read_request(reader)
        writer.write(_answer(b"{}"))
        await writer.drain()

    async with raw_server(answer_then_hang_up) as (url, accepted):
        client = LeanHttpClient(url)
        second: list[asyncio.Future[httpx.Response]] = []
        original = Http11Connection.eof_received

        def eof_then_request(connection: Http11Connection) -> bool:
            answer = original(connection)
            if not second:  # a request woken in the same pass as the FIN
                second.append(asyncio.ensure_future(client.request("POST", "m", content=b"{}")))
            return answer

        try:
            assert (await client.request("POST", "m", content=b"{}")).status_code == 200
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(Http11Connection, "eof_received", eof_then_request)
                for _ in range(100):
                    if second:
                        break
                    await asyncio.sleep(0.01)
                assert second, "the server's close never arrived"
                assert (await second[0]).status_code == 200
        finally:
            await client.aclose()
    assert len(accepted) == 2


# ---------------------------------------------------------------------------- failures


async def test_nothing_listening_is_a_connect_error_meaning_not_sent(closed_port: int) -> None:
    client = LeanHttpClient(f"http://127.0.0.1:{closed_port}/", timeout=2)
    with pytest.raises(httpx.ConnectError) as raised:
        await client.request("POST", "m", content=b"{}")
    await client.aclose()
    assert isinstance(transport_error("Graph API", raised.value), e.ProviderUnavailable)


async def test_a_slow_answer_is_a_read_timeout_meaning_outcome_unknown() -> None:
    async with serve(ECHO_APP) as url:
        client = LeanHttpClient(url, timeout=0.3)
        try:
            with pytest.raises(httpx.ReadTimeout) as raised:
                await client.request("POST", "slow?s=2", content=b"{}")
            after = await client.request("GET", "fine")  # a fresh connection, not the aborted one
        finally:
            await client.aclose()
    assert isinstance(transport_error("Graph API", raised.value), e.OutcomeUnknown)
    assert after.status_code == 200


async def test_a_server_hanging_up_without_an_answer_is_outcome_unknown() -> None:
    async def read_and_hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)

    async with raw_server(read_and_hang_up) as (url, _):
        client = LeanHttpClient(url)
        with pytest.raises(httpx.RemoteProtocolError) as raised:
            await client.request("POST", "m", content=b"{}")
        await client.aclose()
    assert isinstance(transport_error("Graph API", raised.value), e.OutcomeUnknown)


async def test_a_half_answer_then_hang_up_and_garbage_are_protocol_errors() -> None:
    replies = [
        b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"messages"',
        b"SMTP ready\r\n\r\n",
    ]

    async def misbehave(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(replies.pop(0))
        await writer.drain()

    async with raw_server(misbehave) as (url, _):
        client = LeanHttpClient(url)
        for _ in range(2):
            with pytest.raises(httpx.RemoteProtocolError):
                await client.request("POST", "m", content=b"{}")
        await client.aclose()


async def test_a_full_pool_is_a_pool_timeout_and_its_slot_comes_back() -> None:
    async with serve(ECHO_APP) as url:
        client = LeanHttpClient(url, timeout=5, max_connections=1, pool_timeout=0.2)
        try:
            holder = asyncio.create_task(client.request("GET", "slow?s=0.6"))
            await asyncio.sleep(0.05)
            with pytest.raises(httpx.PoolTimeout):
                await client.request("GET", "x")
            waiting = asyncio.create_task(client.request("GET", "x"))
            await asyncio.sleep(0.05)
            waiting.cancel()  # a waiter that gives up must not keep a slot
            assert (await holder).status_code == 200
            answers = await asyncio.gather(client.request("GET", "a"), client.request("GET", "b"))
        finally:
            await client.aclose()
    assert [a.status_code for a in answers] == [200, 200]
    ports = {orjson.loads(a.content)["port"] for a in answers}
    assert len(ports) == 1  # one connection at most, handed from one request to the next


async def test_a_cancelled_request_frees_its_connection_slot() -> None:
    async with serve(ECHO_APP) as url:
        client = LeanHttpClient(url, timeout=5, max_connections=1, pool_timeout=1)
        try:
            stuck = asyncio.create_task(client.request("GET", "slow?s=3"))
            await asyncio.sleep(0.1)
            stuck.cancel()
            with pytest.raises(asyncio.CancelledError):
                await stuck
            assert (await client.request("GET", "x")).status_code == 200
        finally:
            await client.aclose()


async def test_a_url_that_is_not_http_is_unsupported_at_request_time() -> None:
    client = LeanHttpClient("ftp://graph.example/")
    with pytest.raises(httpx.UnsupportedProtocol) as raised:
        await client.request("POST", "m")
    assert isinstance(transport_error("Graph API", raised.value), e.ProviderUnavailable)


# ---------------------------------------------------------------------------- TLS


def _certificate_authority(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1: (certificate, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@asynccontextmanager
async def tls_server(directory: Path) -> AsyncIterator[tuple[str, Path]]:
    cert_file, key_file = _certificate_authority(directory)
    config = uvicorn.Config(
        ECHO_APP,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        ssl_certfile=str(cert_file),
        ssl_keyfile=str(key_file),
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"https://localhost:{port}", cert_file
    finally:
        server.should_exit = True
        await task


async def test_tls_is_verified_against_the_trust_store(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    async with tls_server(tmp_path) as (url, cert_file):
        public_cas_only = LeanHttpClient(url, timeout=5)
        with pytest.raises(httpx.ConnectError) as raised:
            await public_cas_only.request("GET", "x")
        await public_cas_only.aclose()
        assert isinstance(transport_error("Graph API", raised.value), e.ProviderUnavailable)

        trusting = LeanHttpClient(
            url, timeout=5, verify=ssl.create_default_context(cafile=cert_file)
        )
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # as httpx reads it, too
        from_environment = http_client(url, timeout=5)
        try:
            for client in (trusting, from_environment):
                answers = [await client.request("GET", "x") for _ in range(2)]
                ports = {orjson.loads(a.content)["port"] for a in answers}
                assert len(ports) == 1  # the TLS connection is kept alive too
        finally:
            await trusting.aclose()
            await from_environment.aclose()


async def test_a_peer_that_never_completes_the_handshake_is_a_connect_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts the TCP connection, never speaks TLS

    async with raw_server(silent) as (url, _):
        client = LeanHttpClient(url.replace("http://", "https://"), timeout=0.3)
        with pytest.raises(httpx.ConnectTimeout) as raised:
            await client.request("GET", "x")
        await client.aclose()
    assert isinstance(transport_error("Graph API", raised.value), e.ProviderUnavailable)


# ---------------------------------------------------------------------------- choosing


def test_a_proxy_in_the_environment_hands_the_url_to_httpx(monkeypatch: Any) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    assert isinstance(http_client("https://graph.facebook.com/v22.0/"), LeanHttpClient)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.firm.internal:3128")
    assert proxied("https://graph.facebook.com/v22.0/")
    assert isinstance(http_client("https://graph.facebook.com/v22.0/"), HttpxClient)
    assert isinstance(http_client("http://127.0.0.1:8083/v1"), LeanHttpClient)  # https only
    monkeypatch.setenv("NO_PROXY", "facebook.com")
    assert isinstance(http_client("https://graph.facebook.com/v22.0/"), LeanHttpClient)


async def test_both_implementations_answer_alike() -> None:
    async with serve(ECHO_APP) as url:
        lean = LeanHttpClient(f"{url}/base", headers={"Authorization": "k"})
        fallback = HttpxClient(f"{url}/base", headers={"Authorization": "k"})
        try:
            answers = [
                await c.request("POST", "p/q", content=b"{}", content_type="application/json")
                for c in (lean, fallback)
            ]
            statuses = [await c.request("POST", "status/503") for c in (lean, fallback)]
        finally:
            await lean.aclose()
            await fallback.aclose()
    seen = [orjson.loads(a.content) for a in answers]
    for key in ("method", "path", "body"):
        assert seen[0][key] == seen[1][key]
    for header in ("authorization", "content-type", "user-agent", "accept"):
        assert seen[0]["headers"][header] == seen[1]["headers"][header]
    assert [s.status_code for s in statuses] == [503, 503]
    assert statuses[0].headers["retry-after"] == statuses[1].headers["retry-after"] == "7"
