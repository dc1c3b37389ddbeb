"""`wagate doctor`'s probes against the fake providers and AI (in-process ASGI, the same apps
`wagate fake …` serves), the key file on disk, and a stand-in for the gateway behind a public
URL: what each reports, and that none of them sends a message."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from wagate.doctor.database import DatabaseProbe
from wagate.doctor.endpoints import AiProbe, PublicUrlProbe
from wagate.doctor.keys import KeySource, KeysProbe, keys_open_database
from wagate.doctor.providers import FonnteDeviceProbe, MetaNumberProbe
from wagate.domain.readiness import Finding, Verdict
from wagate.fakes.fonnte import FakeFonnte
from wagate.fakes.meta import FakeGraphApi
from wagate.fakes.openai import FakeOpenAI
from wagate.security.data_keys import new_data_key, wrap
from wagate.security.keys import Key, Keyring, generate_key, load_or_create_keyfile
from wagate.storage.readiness import WrappedDataKey


def checks(findings: object) -> dict[str, Finding]:
    assert isinstance(findings, list)
    return {f.check: f for f in findings}


# ---------------------------------------------------------------- Meta


async def test_meta_names_the_number_its_token_reads() -> None:
    graph = FakeGraphApi(access_token="good")
    probe = MetaNumberProbe(
        graph_url="http://graph/v22.0",
        access_token="good",
        phone_number_id="100200300",
        transport=httpx.ASGITransport(app=graph.app),
    )
    finding = checks(list(await probe.run()))["access token"]
    assert finding.verdict is Verdict.OK
    assert "15550000000 (Fake Business), quality GREEN" in finding.detail
    assert graph.recorder.listing("send") == []
    assert [r["node"] for r in graph.recorder.listing("probe")] == ["100200300"]


async def test_meta_with_a_refused_token_asks_for_a_permanent_system_user_token() -> None:
    probe = MetaNumberProbe(
        graph_url="http://graph/v22.0",
        access_token="expired",
        phone_number_id="100200300",
        transport=httpx.ASGITransport(app=FakeGraphApi(access_token="good").app),
    )
    finding = checks(list(await probe.run()))["access token"]
    assert finding.verdict is Verdict.FAILED
    assert "HTTP 401" in finding.detail
    assert "system user" in finding.fix and "META_ACCESS_TOKEN" in finding.fix


async def test_meta_with_an_unknown_number_id_says_it_is_not_the_phone_number() -> None:
    def graph(request: httpx.Request) -> httpx.Response:
        error = {"message": "Unsupported get request.", "type": "GraphMethodException", "code": 100}
        return httpx.Response(400, json={"error": error})

    probe = MetaNumberProbe(
        graph_url="http://graph/v22.0",
        access_token="good",
        phone_number_id="6281200000001",
        transport=httpx.MockTransport(graph),
    )
    finding = checks(list(await probe.run()))["phone number id"]
    assert finding.verdict is Verdict.FAILED
    assert "Unsupported get request" in finding.detail
    assert "not the phone number itself" in finding.fix


async def test_an_unreachable_graph_api_is_a_failure_naming_the_url() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    probe = MetaNumberProbe(
        graph_url="http://graph/v22.0",
        access_token="t",
        phone_number_id="1",
        transport=httpx.MockTransport(down),
    )
    finding = checks(list(await probe.run()))["reachable"]
    assert finding.verdict is Verdict.FAILED
    assert "http://graph/v22.0" in finding.detail


# ---------------------------------------------------------------- Fonnte


async def test_fonnte_reports_the_device_and_that_the_phone_is_linked() -> None:
    fonnte = FakeFonnte(token="device-token")
    probe = FonnteDeviceProbe(
        api_url="http://fonnte/send",
        token="device-token",
        transport=httpx.ASGITransport(app=fonnte.app),
    )
    found = checks(list(await probe.run()))
    assert found["device token"].verdict is Verdict.OK
    assert "6282200000000" in found["device token"].detail
    assert "quota 1000" in found["device token"].detail
    assert found["phone linked"].verdict is Verdict.OK
    assert fonnte.recorder.listing("send") == []


async def test_fonnte_with_the_phone_logged_out_cannot_send() -> None:
    fonnte = FakeFonnte(token="device-token")
    fonnte.device_status = "disconnect"
    probe = FonnteDeviceProbe(
        api_url="http://fonnte/send",
        token="device-token",
        transport=httpx.ASGITransport(app=fonnte.app),
    )
    linked = checks(list(await probe.run()))["phone linked"]
    assert linked.verdict is Verdict.FAILED
    assert "disconnect" in linked.detail
    assert "QR code" in linked.fix


async def test_fonnte_with_a_wrong_token_says_where_to_copy_it_from() -> None:
    probe = FonnteDeviceProbe(
        api_url="http://fonnte/send",
        token="wrong",
        transport=httpx.ASGITransport(app=FakeFonnte(token="device-token").app),
    )
    finding = checks(list(await probe.run()))["device token"]
    assert finding.verdict is Verdict.FAILED
    assert finding.detail == "refused: token invalid"
    assert "FONNTE_TOKEN" in finding.fix


# ---------------------------------------------------------------- the AI endpoint


def ai_probe(app: FakeOpenAI, *, key: str, model: str = "model-a") -> AiProbe:
    return AiProbe(
        base_url="http://ai/v1",
        api_key=key,
        model=model,
        transport=httpx.ASGITransport(app=app.app),
    )


async def test_the_ai_endpoint_lists_the_model_and_answers_it() -> None:
    ai = FakeOpenAI(models=("model-a", "model-b"), api_key="sk-good")
    found = checks(list(await ai_probe(ai, key="sk-good").run()))
    assert found["models"].verdict is Verdict.OK
    assert found["chat request"].verdict is Verdict.OK
    assert len(ai.recorder.listing("chat")) == 1


async def test_the_ai_endpoint_refusing_the_key_fails_the_chat_request() -> None:
    ai = FakeOpenAI(models=("model-a",), api_key="sk-good")
    found = checks(list(await ai_probe(ai, key="sk-wrong").run()))
    assert "models" not in found  # the listing was refused too: nothing to say about it
    assert found["chat request"].verdict is Verdict.FAILED
    assert "Incorrect API key" in found["chat request"].detail
    assert "AI_API_KEY" in found["chat request"].fix


async def test_a_model_the_endpoint_does_not_list_is_a_warning() -> None:
    ai = FakeOpenAI(models=("model-a",))
    found = checks(list(await ai_probe(ai, key="any", model="model-typo").run()))
    assert found["models"].verdict is Verdict.WARN
    assert "model-typo" in found["models"].detail


def media_probe(app: Starlette | FakeOpenAI, **models: str) -> AiProbe:
    asgi = app.app if isinstance(app, FakeOpenAI) else app
    return AiProbe(
        base_url="http://ai/v1",
        api_key="any",
        model="model-a",
        transport=httpx.ASGITransport(app=asgi),
        **models,
    )


async def test_the_transcription_and_vision_models_listed_are_ok() -> None:
    ai = FakeOpenAI(models=("model-a", "whisper-1", "gpt-4o-mini"))
    probe = media_probe(ai, transcription_model="whisper-1", vision_model="gpt-4o-mini")
    found = checks(list(await probe.run()))
    assert found["transcription model"].verdict is Verdict.OK
    assert found["transcription model"].detail == "whisper-1 listed"
    assert found["vision model"].verdict is Verdict.OK
    assert found["vision model"].detail == "gpt-4o-mini listed"
    assert found["models"].verdict is Verdict.OK  # the chat model's own finding is unchanged
    # Nothing was transcribed or shown to the vision model to find that out.
    assert ai.recorder.listing("transcription") == []
    [chat] = ai.recorder.listing("chat")
    assert chat["model"] == "model-a"


async def test_a_transcription_or_vision_model_the_endpoint_does_not_list_is_named() -> None:
    ai = FakeOpenAI(models=("model-a", "whisper-1"))
    probe = media_probe(ai, transcription_model="whisper-l", vision_model="gpt-4o-vision")
    found = checks(list(await probe.run()))
    heard, seen = found["transcription model"], found["vision model"]
    assert heard.verdict is Verdict.WARN and seen.verdict is Verdict.WARN
    assert "AI_TRANSCRIPTION_MODEL=whisper-l is not in the endpoint's model list" in heard.detail
    assert "asked to write" in heard.detail
    assert "check AI_TRANSCRIPTION_MODEL" in heard.fix and "http://ai/v1/models" in heard.fix
    assert "AI_VISION_MODEL=gpt-4o-vision is not in the endpoint's model list" in seen.detail
    assert "check AI_VISION_MODEL" in seen.fix
    assert found["models"].verdict is Verdict.OK  # the chat model is listed: only these warn


async def test_unset_transcription_and_vision_models_are_not_checked() -> None:
    found = checks(list(await media_probe(FakeOpenAI(models=("model-a",))).run()))
    assert set(found) == {"models", "chat request"}


async def test_an_endpoint_without_a_model_list_cannot_vouch_for_them() -> None:
    async def no_list(request: Request) -> Response:
        return PlainTextResponse("not here", status_code=404)

    async def chat(request: Request) -> Response:
        return JSONResponse({"choices": [{"message": {"role": "assistant", "content": "OK"}}]})

    app = Starlette(
        routes=[
            Route("/v1/models", no_list),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ]
    )
    found = checks(list(await media_probe(app, vision_model="llava").run()))
    seen = found["vision model"]
    assert seen.verdict is Verdict.SKIPPED
    assert seen.detail == "AI_VISION_MODEL=llava cannot be checked: the endpoint's /models " + (
        "answered HTTP 404"
    )
    assert "transcription model" not in found and "models" not in found
    assert found["chat request"].verdict is Verdict.OK


# ---------------------------------------------------------------- the public URL


def gateway_stand_in(*, verify_token: str, health: int = 200) -> Starlette:
    """What the gateway answers on the two routes the probe reads."""

    async def healthy(request: Request) -> Response:
        status = "ok" if health == 200 else "unavailable"
        return JSONResponse({"status": status}, status_code=health)

    async def handshake(request: Request) -> Response:
        query = request.query_params
        if query.get("hub.verify_token") != verify_token:
            return PlainTextResponse("forbidden", status_code=403)
        return PlainTextResponse(query.get("hub.challenge", ""))

    return Starlette(
        routes=[
            Route("/api/health", healthy),
            Route("/webhook/whatsapp", handshake),
        ]
    )


def public_probe(app: Starlette, token: str | None, url: str = "https://wa.test") -> PublicUrlProbe:
    return PublicUrlProbe(
        public_url=url, verify_token=token, transport=httpx.ASGITransport(app=app)
    )


async def test_the_public_url_reaches_a_gateway_with_the_same_verify_token() -> None:
    found = checks(list(await public_probe(gateway_stand_in(verify_token="v"), "v").run()))
    assert found["reachable over HTTPS"].verdict is Verdict.OK
    assert found["Meta callback URL"].verdict is Verdict.OK


async def test_a_gateway_with_another_verify_token_behind_the_url_fails() -> None:
    found = checks(list(await public_probe(gateway_stand_in(verify_token="v"), "w").run()))
    callback = found["Meta callback URL"]
    assert callback.verdict is Verdict.FAILED
    assert "another one" in callback.detail


async def test_a_gateway_without_its_database_behind_the_url_fails() -> None:
    app = gateway_stand_in(verify_token="v", health=503)
    found = checks(list(await public_probe(app, "v").run()))
    assert found["reachable over HTTPS"].verdict is Verdict.FAILED
    assert "cannot reach its database" in found["reachable over HTTPS"].detail
    assert "Meta callback URL" not in found


async def test_without_meta_only_health_is_asked_and_plain_http_is_left_to_the_config() -> None:
    found = checks(list(await public_probe(gateway_stand_in(verify_token="v"), None).run()))
    assert set(found) == {"reachable over HTTPS"}
    plain = public_probe(gateway_stand_in(verify_token="v"), "v", url="http://wa.test")
    assert list(await plain.run()) == []


# ---------------------------------------------------------------- the keys


async def test_a_key_file_is_reported_with_the_backup_hint(tmp_path: Path) -> None:
    path = tmp_path / "encryption-keys.json"
    ring, _ = load_or_create_keyfile(path)
    os.chmod(path, 0o600)
    found = checks(list(await KeysProbe(source=KeySource(environment=None, keyfile=path)).run()))
    keys = found["master keys"]
    assert keys.verdict is Verdict.OK
    assert f"current {ring.current.key_id}" in keys.detail
    assert "off this machine" in keys.fix
    assert "key file permissions" not in found


async def test_a_key_file_others_can_read_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "encryption-keys.json"
    load_or_create_keyfile(path)
    os.chmod(path, 0o644)
    found = checks(list(await KeysProbe(source=KeySource(environment=None, keyfile=path)).run()))
    assert found["key file permissions"].verdict is Verdict.WARN
    assert "chmod 600" in found["key file permissions"].fix


async def test_a_missing_or_broken_key_file(tmp_path: Path) -> None:
    path = tmp_path / "encryption-keys.json"
    missing = checks(list(await KeysProbe(source=KeySource(environment=None, keyfile=path)).run()))
    assert missing["master keys"].verdict is Verdict.MISSING
    assert not path.exists()  # the doctor never creates it
    path.write_text(json.dumps({"keys": []}))
    broken = checks(list(await KeysProbe(source=KeySource(environment=None, keyfile=path)).run()))
    assert broken["master keys"].verdict is Verdict.FAILED


async def test_keys_from_the_environment(tmp_path: Path) -> None:
    good = KeySource(environment="k1:" + "A" * 43 + "=", keyfile=tmp_path / "none")
    assert checks(list(await KeysProbe(source=good).run()))["master keys"].verdict is Verdict.OK
    bad = KeySource(environment="k1:short", keyfile=tmp_path / "none")
    finding = checks(list(await KeysProbe(source=bad).run()))["master keys"]
    assert finding.verdict is Verdict.FAILED
    assert "short" not in finding.detail  # the value is never echoed


def test_the_keys_open_the_databases_data_keys_only_if_they_are_the_same_keys() -> None:
    master = generate_key()
    data_key = new_data_key("default", 1)
    stored = [
        WrappedDataKey(
            tenant="default", key_id="d1", wrapped=wrap(data_key, master), wrapped_by=master.key_id
        )
    ]
    assert keys_open_database(Keyring(keys=(master,)), stored).verdict is Verdict.OK
    impostor = Keyring(keys=(Key(key_id=master.key_id, material=bytes(32)),))
    wrong = keys_open_database(impostor, stored)
    assert wrong.verdict is Verdict.FAILED
    assert "other material" in wrong.detail
    other = keys_open_database(Keyring(keys=(generate_key(),)), stored)
    assert other.verdict is Verdict.FAILED
    assert "not configured" in other.detail
    none = keys_open_database(None, stored)
    assert none.verdict is Verdict.FAILED
    assert "encryption-keys.json" in none.fix
    assert keys_open_database(None, []).verdict is Verdict.OK


# ---------------------------------------------------------------- the database


async def test_an_unreachable_database_is_a_failed_connection(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once released
    probe_db = DatabaseProbe(
        owner_url=f"postgresql://wagate@127.0.0.1:{port}/wagate",
        data_dir=tmp_path,
        keys=KeySource(environment=None, keyfile=tmp_path / "encryption-keys.json"),
        embeddings=False,
    )
    finding = checks(list(await probe_db.run()))["connection"]
    assert finding.verdict is Verdict.FAILED
    assert str(port) in finding.detail
    assert "DATABASE_URL" in finding.fix


async def test_an_embedded_database_not_created_yet_is_missing_and_stays_uncreated(
    tmp_path: Path,
) -> None:
    probe_db = DatabaseProbe(
        owner_url=None,
        data_dir=tmp_path,
        keys=KeySource(environment=None, keyfile=tmp_path / "encryption-keys.json"),
        embeddings=False,
    )
    finding = checks(list(await probe_db.run()))["embedded server"]
    assert finding.verdict is Verdict.MISSING
    assert not (tmp_path / "pg").exists()
