"""Issue 16, item 7: every request the Meta client can make conforms to Meta's own OpenAPI
description of the Cloud API (v23.0, tests/data/meta-openapi, MIT).

The real client talks to the fake Graph API served by uvicorn (real HTTP); an ASGI wrapper in
front of the fake keeps each request exactly as it arrived — method, path, query, headers,
body. Each is checked against the operation it is meant to be (`sendMessage`,
`getPhoneNumberById`): its path template and method, its path, query and header parameters, its
bearer authentication and its request body against the body's schema, with `jsonschema` and the
spec's components resolved.

The spec as published refuses bodies its own examples show; its defects are patched in memory
in tests/contract/meta_openapi.py, each one explained there:
  1. `allOf` with `additionalProperties: false` (TextMessage and nine others): no body can pass;
     repaired as `unevaluatedProperties: false`, which keeps the strictness;
  2. no branch of `Message` for the read receipt with typing indicator;
  3. `biz_opaque_callback_data` missing from the message properties;
  4. a template button's `index` pattern (`^[2-6, 11-14]$`) refusing "0", the first button's
     index (an AUTHENTICATION template's copy-code button), against its own description.
The tests below show defects 1, 2 and 4 on the unpatched spec, and that the patched spec
still refuses what is wrong.

A file upload (`uploadImage`, `POST /{Version}/{Phone-Number-ID}/media`) is a
multipart/form-data body: its parts are read with the standard library's MIME parser and
checked against the operation's form schema; what the schema leaves open (it requires
nothing, and does not list the `type` field Meta's reference and clients send) is asserted
beside it.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from tests.contract.meta_openapi import Captured, SpecCheck, form_parts, load_spec, patched
from wagate.domain.flows import FlowMessage
from wagate.domain.messages import Provider
from wagate.domain.provider_port import FileContent
from wagate.domain.rich_messages import (
    FileMessage,
    InteractiveMessage,
    MediaMessage,
    ReactionMessage,
)
from wagate.domain.template_text import TEMPLATE_BODY_LIMIT, length
from wagate.domain.window import Template, TemplateSet
from wagate.fakes.meta import FakeGraphApi
from wagate.pipeline.ports import OutboundMessage
from wagate.pipeline.routing import AsTemplate, route
from wagate.providers.meta.client import DEFAULT_GRAPH_URL, MetaClient

TOKEN = "EAAG-openapi-contract-token"
PHONE_NUMBER_ID = "200000000000001"
USER = "6281200000001"
QUESTION = "wamid.HBgNNjI4MTIwMDAwMDAwMRUCABIYFDNBQUYzMjEzNDM2RTZGQ0MzMDJBAA=="
# The version the client really uses: the spec's path is /{Version}/…, any vN.N.
VERSION = DEFAULT_GRAPH_URL.rstrip("/").rsplit("/", 1)[1]
SEND, PROBE, UPLOAD = "sendMessage", "getPhoneNumberById", "uploadImage"
# A media id the fake holds (uploaded before the module's requests), as Meta issues them.
UPLOADED = "4490709327384033"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def pdf_content(data: bytes = PDF, name: str = "surat-kuasa.pdf") -> FileContent:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 7):  # in small pieces, as the vault hands them out
            yield data[start : start + 7]

    return FileContent(filename=name, mime_type="application/pdf", size=len(data), chunks=chunks)


def uploaded(kind: str = "document", caption: str | None = None) -> FileMessage:
    return FileMessage(
        type=kind,
        filename="surat-kuasa.pdf" if kind == "document" else "foto.jpg",
        mime_type="application/pdf" if kind == "document" else "image/jpeg",
        size=len(PDF),
        sha256="a" * 64,
        caption=caption,
    )


class Capture:
    """ASGI middleware: keeps every Graph API request (not the fake's /_fake controls) as it
    arrived, then hands it on unchanged."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[Captured] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_fake/"):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        self.requests.append(
            Captured(
                method=scope["method"],
                path=scope["path"],
                query=scope["query_string"].decode("latin-1"),
                headers={k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
                body=body,
            )
        )
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return dict(await receive())
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


@dataclass
class Graph:
    capture: Capture
    client: MetaClient

    def only_request(self) -> Captured:
        assert len(self.capture.requests) == 1, self.capture.requests
        return self.capture.requests[0]


@pytest.fixture(scope="module")
def spec() -> SpecCheck:
    return SpecCheck(patched().spec)


@pytest.fixture(scope="module")
async def graph_server(serve_app: Any) -> AsyncIterator[Graph]:
    fake = FakeGraphApi(access_token=TOKEN)
    fake.files.register({"id": UPLOADED, "data_b64": "JVBERg==", "mime_type": "application/pdf"})
    capture = Capture(fake.app)
    async with serve_app(capture) as base:
        client = MetaClient(
            graph_url=f"{base}/{VERSION}", access_token=TOKEN, phone_number_id=PHONE_NUMBER_ID
        )
        try:
            yield Graph(capture=capture, client=client)
        finally:
            await client.aclose()


@pytest.fixture
def graph(graph_server: Graph) -> Graph:
    graph_server.capture.requests.clear()
    return graph_server


def body_of(request: Captured) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(request.body)
    return body


# Every kind of request, each as the client makes it: (the call, the operation it must be).
Call = Callable[[MetaClient], Awaitable[Any]]
REQUESTS: dict[str, tuple[Call, str]] = {
    "text": (lambda c: c.send_text(to=USER, body="Berkas Anda siap."), SEND),
    "text quoting the question": (
        lambda c: c.send_text(to=USER, body="Jawabannya: ya.", reply_to=QUESTION),
        SEND,
    ),
    "text tracked by our idempotency key": (
        lambda c: c.send_text(to=USER, body="Halo", tracker="run:12:345:reply:0"),
        SEND,
    ),
    "text with a link preview": (
        lambda c: c.send_text(to=USER, body="Jadwal: https://contoh.id/j", link_preview=True),
        SEND,
    ),
    "text with every option": (
        lambda c: c.send_text(
            to=USER,
            body="Paragraf satu.\n\nParagraf dua: https://contoh.id",
            reply_to=QUESTION,
            tracker="human:7:api:k" + "x" * 600,  # cut to Meta's 512
            link_preview=True,
        ),
        SEND,
    ),
    "template without parameters": (
        lambda c: c.send_template(to=USER, name="sapa", language="id", parameters=[]),
        SEND,
    ),
    "template with positional parameters": (
        lambda c: c.send_template(
            to=USER, name="tagihan", language="id", parameters=["Budi", "INV-0001"], tracker="t:1"
        ),
        SEND,
    ),
    "template with named parameters": (
        lambda c: c.send_template(
            to=USER,
            name="pengingat_sidang",
            language="id",
            parameters=["Ibu Siti", "12 Desember"],
            parameter_names=["nama", "tanggal"],
            tracker="t:2",
        ),
        SEND,
    ),
    "read receipt": (lambda c: c.mark_read(message_id=QUESTION), SEND),
    "read receipt with typing indicator": (
        lambda c: c.mark_read(message_id=QUESTION, typing=True),
        SEND,
    ),
    "credential check": (lambda c: c.check_credentials(), PROBE),
    "flow message": (
        lambda c: c.send_flow(
            to=USER,
            flow=FlowMessage(
                flow_id="1234567890",
                flow_token="intake:7:abc",
                cta="Isi formulir",
                body="Silakan isi formulir pendaftaran perkara.",
                screen="DATA_DIRI",
            ),
            tracker="t:3",
        ),
        SEND,
    ),
    "flow message with header and footer, draft": (
        lambda c: c.send_flow(
            to=USER,
            flow=FlowMessage(
                flow_id="1234567890",
                flow_token="intake:8:def",
                cta="Daftar",
                body="Pendaftaran perkara baru.",
                screen="DATA_DIRI",
                header="LBH",
                footer="Data Anda dilindungi",
                mode="draft",
            ),
        ),
        SEND,
    ),
    "document by link with caption and filename": (
        lambda c: c.send_media(
            to=USER,
            media=MediaMessage.parse(
                {
                    "type": "document",
                    "link": "https://berkas.contoh.id/surat-kuasa.pdf",
                    "caption": "Surat kuasa untuk ditandatangani",
                    "filename": "surat-kuasa.pdf",
                }
            ),
            tracker="t:4",
        ),
        SEND,
    ),
    "image by link": (
        lambda c: c.send_media(
            to=USER,
            media=MediaMessage.parse({"type": "image", "link": "https://contoh.id/peta.jpg"}),
        ),
        SEND,
    ),
    "reply buttons": (
        lambda c: c.send_interactive(
            to=USER,
            message=InteractiveMessage.parse(
                {
                    "type": "button",
                    "body": "Apakah Anda setuju data Anda diproses?",
                    "footer": "LBH Contoh",
                    "buttons": [{"id": "setuju", "title": "SETUJU"}, "BERHENTI"],
                }
            ),
            tracker="t:5",
        ),
        SEND,
    ),
    "list with descriptions": (
        lambda c: c.send_interactive(
            to=USER,
            message=InteractiveMessage.parse(
                {
                    "type": "list",
                    "body": "Pilih jenis perkara Anda.",
                    "button": "Jenis perkara",
                    "section": "Perkara",
                    "rows": [
                        {"id": "pidana", "title": "Pidana", "description": "Laporan polisi"},
                        {"id": "perdata", "title": "Perdata"},
                        *[f"Lainnya {i}" for i in range(8)],
                    ],
                }
            ),
        ),
        SEND,
    ),
    "authentication template with its copy-code button (a link code)": (
        lambda c: c.send_template(
            to=USER,
            name="kode_verifikasi",
            language="id",
            parameters=["123456"],
            tracker="link_code:9",
            code_button="123456",
        ),
        SEND,
    ),
    "file upload (multipart)": (lambda c: c.upload_media(content=pdf_content()), UPLOAD),
    "document by its uploaded id with caption and filename": (
        lambda c: c.send_uploaded(
            to=USER,
            message=uploaded("document", caption="Surat kuasa untuk ditandatangani"),
            media_id=UPLOADED,
            tracker="operator:api:k1",
        ),
        SEND,
    ),
    "image by its uploaded id": (
        lambda c: c.send_uploaded(to=USER, message=uploaded("image"), media_id=UPLOADED),
        SEND,
    ),
    "reaction": (
        lambda c: c.send_reaction(
            to=USER,
            reaction=ReactionMessage.parse({"messageId": QUESTION, "emoji": "👍"}),
            tracker="t:6",
        ),
        SEND,
    ),
}


@pytest.mark.parametrize("kind", list(REQUESTS))
async def test_every_request_the_client_makes_conforms_to_the_spec(
    graph: Graph, spec: SpecCheck, kind: str
) -> None:
    call, operation = REQUESTS[kind]
    await call(graph.client)
    request = graph.only_request()
    assert spec.problems(request, operation) == []


def test_every_request_making_method_of_the_client_is_covered() -> None:
    """A method added to the client (media, interactive…) fails here until its requests are in
    REQUESTS: "every request the client can make" stays true."""
    makes_requests = {
        name
        for name, member in inspect.getmembers(MetaClient, inspect.iscoroutinefunction)
        if not name.startswith("_") and name != "aclose"
    }
    covered = {
        "send_text",
        "send_template",
        "send_flow",
        "send_media",
        "send_interactive",
        "send_reaction",
        "upload_media",
        "send_uploaded",
        "mark_read",
        "check_credentials",
    }
    assert makes_requests == covered
    for name in covered:
        assert any(name in inspect.getsource(call) for call, _ in REQUESTS.values()), name


async def test_an_upload_carries_the_fields_meta_requires_and_the_file_exactly(
    graph: Graph,
) -> None:
    """Beyond the form schema (which requires nothing): `messaging_product=whatsapp`, `type`
    (the MIME type, as Meta's reference and its clients send it) and the `file` part with its
    name, type and every byte; the body announced with its exact length although it was
    streamed; Meta's id for the file comes back."""
    media_id = await graph.client.upload_media(content=pdf_content())
    request = graph.only_request()
    assert request.path == f"/{VERSION}/{PHONE_NUMBER_ID}/media"
    assert int(request.headers["content-length"]) == len(request.body)
    parts = form_parts(request)
    assert parts is not None
    assert [p.name for p in parts] == ["messaging_product", "type", "file"]
    assert parts[0].value == "whatsapp" and parts[1].value == "application/pdf"
    file = parts[2]
    assert (file.filename, file.content_type, file.data) == (
        "surat-kuasa.pdf",
        "application/pdf",
        PDF,
    )
    assert media_id.isdigit()


async def test_a_large_upload_is_streamed_whole_and_a_quoted_name_stays_one_header(
    graph: Graph, spec: SpecCheck
) -> None:
    """3 MB in 64 KiB pieces, named with a quote and a line break (sanitised, not injected)."""
    data = PDF + bytes(range(256)) * (3 * 1024 * 4)
    content = pdf_content(data, name='surat "kuasa"\r\nX-Evil: 1.pdf')
    await graph.client.upload_media(content=content)
    request = graph.only_request()
    assert spec.problems(request, UPLOAD) == []
    parts = form_parts(request)
    assert parts is not None and parts[2].data == data
    assert parts[2].filename is not None and "\n" not in parts[2].filename
    assert "x-evil" not in {k.lower() for k in request.headers}


async def test_an_uploaded_file_is_sent_by_its_id_never_by_link(graph: Graph) -> None:
    await REQUESTS["document by its uploaded id with caption and filename"][0](graph.client)
    body = body_of(graph.only_request())
    assert body["type"] == "document"
    assert body["document"] == {
        "id": UPLOADED,
        "caption": "Surat kuasa untuk ditandatangani",
        "filename": "surat-kuasa.pdf",
    }
    graph.capture.requests.clear()
    await REQUESTS["image by its uploaded id"][0](graph.client)
    assert body_of(graph.only_request())["image"] == {"id": UPLOADED}


async def test_named_parameters_travel_with_their_names_and_the_language_policy_is_sent(
    graph: Graph,
) -> None:
    """Beyond the schema (which describes no `parameter_name`): Meta refuses a named template's
    values without their names, and its description requires the language policy."""
    await REQUESTS["template with named parameters"][0](graph.client)
    template = body_of(graph.only_request())["template"]
    assert template["language"] == {"policy": "deterministic", "code": "id"}
    assert template["components"] == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "parameter_name": "nama", "text": "Ibu Siti"},
                {"type": "text", "parameter_name": "tanggal", "text": "12 Desember"},
            ],
        }
    ]
    graph.capture.requests.clear()
    await REQUESTS["template with positional parameters"][0](graph.client)
    positional = body_of(graph.only_request())["template"]["components"][0]["parameters"]
    assert all("parameter_name" not in p for p in positional)


async def test_a_link_preview_and_a_quote_are_sent_only_when_asked_for(graph: Graph) -> None:
    await REQUESTS["text with every option"][0](graph.client)
    body = body_of(graph.only_request())
    assert body["text"]["preview_url"] is True
    assert body["context"] == {"message_id": QUESTION}
    assert len(body["biz_opaque_callback_data"]) == 512
    graph.capture.requests.clear()
    await REQUESTS["text"][0](graph.client)
    plain = body_of(graph.only_request())
    assert plain["text"]["preview_url"] is False and "context" not in plain


async def test_a_long_answer_outside_the_window_goes_as_a_template_meta_accepts(
    graph: Graph, spec: SpecCheck
) -> None:
    """The finding: a 1,638-character answer with paragraphs, tabs and runs of spaces went into
    the out_of_window template unchanged (Meta: error 132018, body over 1,024). Routed as the
    pipeline routes it, then sent by the client: it conforms to the spec and to Meta's rules
    for a template parameter."""
    body_text = "Balasan kantor hukum atas pesan Anda: {{pesan}}"
    carrier = Template(
        name="balasan_umum",
        language="id",
        parameters=("pesan",),
        purpose="out_of_window",
        body=body_text,
    )
    answer = (
        "Menurut Pasal 1320 KUHPerdata ada empat syarat sahnya perjanjian:\n\n"
        + "\n".join(f"{i}.\tsyarat ke-{i},     dijelaskan panjang lebar. " * 9 for i in range(1, 5))
        + "\n\n_Informasi ini bukan nasihat hukum._"
    )[:1638]
    assert len(answer) == 1638 and "\n" in answer and "\t" in answer and "     " in answer
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    message = OutboundMessage(
        id=1,
        conversation_id=1,
        provider=Provider.META,
        channel_id=PHONE_NUMBER_ID,
        recipient=USER,
        idempotency_key="run:1:2:reply:0",
        text=answer,
        attempts=0,
        last_inbound_at=now - timedelta(days=2),
    )
    how = route(message, graph.client, TemplateSet((carrier,)), now)
    assert isinstance(how, AsTemplate)
    await graph.client.send_template(
        to=USER,
        name=how.name,
        language=how.language,
        parameters=how.values,
        tracker=message.idempotency_key,
        parameter_names=how.parameter_names,
    )
    request = graph.only_request()
    assert spec.problems(request, SEND) == []
    [parameter] = body_of(request)["template"]["components"][0]["parameters"]
    value = parameter["text"]
    assert parameter["parameter_name"] == "pesan"
    assert "\n" not in value and "\t" not in value and "     " not in value  # 132018
    fixed = length(body_text) - len("{{pesan}}")
    assert fixed + length(value) <= TEMPLATE_BODY_LIMIT
    assert value.startswith(
        "Menurut Pasal 1320 KUHPerdata ada empat syarat sahnya perjanjian: · 1."
    )
    assert value.endswith("(pesan terpotong; balas pesan ini untuk melanjutkan)")


# ---------------------------------------------------------------- the patches, and the check


def examples() -> Mapping[str, Any]:
    operation = load_spec()["paths"]["/{Version}/{Phone-Number-ID}/messages"]["post"]
    found: Mapping[str, Any] = operation["requestBody"]["content"]["application/json"]["examples"]
    return found


@pytest.mark.parametrize(
    ("example", "defect"),
    [
        ("Send Text Message", "allOf with additionalProperties: false"),
        ("Send Reply to Text Message", "allOf with additionalProperties: false"),
        ("Send typing indicator and read receipt", "no read-receipt branch"),
    ],
)
def test_the_published_spec_refuses_its_own_example_and_the_patched_one_accepts_it(
    spec: SpecCheck, example: str, defect: str
) -> None:
    published = SpecCheck(load_spec())
    body = examples()[example]["value"]
    assert published.body_problems(body, "Message") != [], defect
    assert spec.body_problems(body, "Message") == []


async def test_a_link_code_template_carries_the_code_in_its_body_and_its_button(
    graph: Graph, spec: SpecCheck
) -> None:
    """Meta's shape for a one-time code: the AUTHENTICATION template's body parameter and its
    copy-code button's parameter are the code. The published spec refuses the button's index
    "0" (DEFECT 4); the patched one accepts it and would still refuse an index of "10"."""
    await REQUESTS["authentication template with its copy-code button (a link code)"][0](
        graph.client
    )
    body = body_of(graph.only_request())
    assert body["template"]["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "123456"}]},
        {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": "123456"}],
        },
    ]
    button = body["template"]["components"][1]
    published = SpecCheck(load_spec())
    assert any("index" in p for p in published.body_problems(button, "ButtonComponent"))
    assert spec.body_problems(button, "ButtonComponent") == []
    assert spec.body_problems(body, "Message") == []
    body["template"]["components"][1]["index"] = "10"
    assert spec.body_problems(body, "Message") != []


def test_the_patches_are_the_ones_described() -> None:
    repaired = patched()
    assert "TextMessage" in repaired.allof_closed and len(repaired.allof_closed) == 10
    assert {"Message", "ParameterObject", "TemplateComponent"} <= set(repaired.discriminators)
    assert repaired.button_index == ["TemplateComponent", "ButtonComponent"]
    assert (
        load_spec()["components"]["schemas"]["TextMessage"]["allOf"][1].get("additionalProperties")
        is False
    ), "the published copy is left as it is"


TEXT = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": USER}


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({**TEXT, "type": "text", "text": {"body": "x"}, "preview_url": True}, "field misplaced"),
        ({**TEXT, "type": "text", "text": {"body": "x", "preview": True}}, "unknown field"),
        ({**TEXT, "type": "text"}, "text missing"),
        (
            {**TEXT, "type": "text", "text": {"body": "x"}, "biz_opaque_callback_data": "x" * 513},
            ">512",
        ),
        (
            {**TEXT, "type": "template", "template": {"name": "t", "language": {"code": "id"}}},
            "language policy missing",
        ),
        (
            {
                **TEXT,
                "type": "template",
                "template": {
                    "name": "t",
                    "language": {"policy": "deterministic", "code": "id"},
                    "components": [{"type": "body", "parameters": [{"type": "text"}]}],
                },
            },
            "a text parameter without its text",
        ),
        (
            {"messaging_product": "whatsapp", "status": "delivered", "message_id": QUESTION},
            "only 'read' may be posted",
        ),
        (
            {
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": QUESTION,
                "typing_indicator": {"type": "audio"},
            },
            "typing indicator of another type",
        ),
    ],
)
def test_the_patched_spec_still_refuses_what_is_wrong(
    spec: SpecCheck, body: dict[str, Any], why: str
) -> None:
    assert spec.body_problems(body, "Message") != [], why


def test_the_request_check_sees_a_wrong_operation_path_and_authentication(spec: SpecCheck) -> None:
    body = orjson.dumps({**TEXT, "type": "text", "text": {"body": "x"}})
    good = Captured(
        method="POST",
        path=f"/{VERSION}/{PHONE_NUMBER_ID}/messages",
        query="",
        headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json"},
        body=body,
    )
    assert spec.problems(good, SEND) == []
    unsigned = Captured(**{**good.__dict__, "headers": {"content-type": "application/json"}})
    assert any("authentication" in p for p in spec.problems(unsigned, SEND))
    assert any("Authorization" in p for p in spec.problems(unsigned, SEND))
    as_form = Captured(
        **{**good.__dict__, "headers": {**good.headers, "content-type": "text/plain"}}
    )
    assert spec.problems(as_form, SEND) != []
    wrong_path = Captured(**{**good.__dict__, "path": f"/{VERSION}/{PHONE_NUMBER_ID}/message"})
    assert spec.problems(wrong_path, SEND) != []
    wrong_method = Captured(**{**good.__dict__, "method": "PUT"})
    assert spec.problems(wrong_method, SEND) != []
    probe = Captured(
        method="GET",
        path=f"/{VERSION}/{PHONE_NUMBER_ID}",
        query="fields=id&debug=all",
        headers={"authorization": f"Bearer {TOKEN}"},
        body=b"",
    )
    assert spec.problems(probe, PROBE) == ["query parameter 'debug' is not in the spec"]


def test_the_upload_check_sees_a_broken_form_a_wrong_path_and_no_token(spec: SpecCheck) -> None:
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="messaging_product"\r\n\r\n'
        f"whatsapp\r\n--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        f"Content-Type: application/pdf\r\n\r\n%PDF-1.7\r\n--{boundary}--\r\n"
    ).encode()
    good = Captured(
        method="POST",
        path=f"/{VERSION}/{PHONE_NUMBER_ID}/media",
        query="",
        headers={
            "authorization": f"Bearer {TOKEN}",
            "content-type": f"multipart/form-data; boundary={boundary}",
        },
        body=body,
    )
    assert spec.problems(good, UPLOAD) == []
    broken = Captured(**{**good.__dict__, "body": body.replace(b"form-data;", b"inline;")})
    assert spec.problems(broken, UPLOAD) == ["the multipart body does not parse"]
    wrong_path = Captured(**{**good.__dict__, "path": f"/{VERSION}/{PHONE_NUMBER_ID}/messages"})
    assert spec.problems(wrong_path, UPLOAD) != []
    unsigned = Captured(
        **{**good.__dict__, "headers": {"content-type": good.headers["content-type"]}}
    )
    assert any("authentication" in p for p in spec.problems(unsigned, UPLOAD))
