"""The provider port (issue 9): the open provider name, and each built-in adapter's inbound half
turning a request into a verdict the web edge only maps to a status code."""

from __future__ import annotations

import copy
import ipaddress
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from wagate.domain.messages import Provider
from wagate.domain.provider_port import (
    Accepted,
    Challenge,
    InboundRequest,
    Refusal,
    Rejected,
    Verdict,
)
from wagate.providers.fonnte.inbound import FonnteWebhook
from wagate.providers.meta.inbound import MetaWebhook
from wagate.providers.meta.signature import sign
from wagate.web.webhooks import STATUS

DATA = Path(__file__).parent.parent / "data" / "payloads"
NOW = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
META_BODY = (DATA / "meta-inbound-text.json").read_bytes()
FONNTE_FIELDS: dict[str, Any] = json.loads((DATA / "fonnte-inbound-text.json").read_text("utf-8"))
META = MetaWebhook(app_secret="app-secret", verify_token="verify-me")
SECRET = "fonnte-secret-0123456789"
FONNTE = FonnteWebhook(secret=SECRET)


# ---------------------------------------------------------------- the provider name


def test_a_provider_name_is_interned_text_like_the_enum_it_replaces() -> None:
    assert Provider("meta") is Provider.META and Provider("fonnte") is Provider.FONNTE
    assert Provider.META.value == "meta" and type(Provider.META.value) is str
    assert Provider.META == "meta" and f"{Provider.FONNTE}" == "fonnte"
    assert {Provider.META: 1}["meta"] == 1
    assert copy.deepcopy(Provider.META) is Provider.META  # as job arguments and caches copy it
    assert Provider(Provider.META) is Provider.META


def test_a_plugin_brings_its_own_name() -> None:
    echo = Provider("echo")
    assert echo is Provider("echo") and echo.value == "echo"
    assert echo not in (Provider.META, Provider.FONNTE)


@pytest.mark.parametrize("name", ["", "META", "me ta", "1meta", "x" * 33, "méta", 7, None])
def test_a_name_that_cannot_be_a_provider_is_refused(name: Any) -> None:
    with pytest.raises(ValueError, match="not a provider name"):
        Provider(name)


class Body(BaseModel):
    provider: Provider | None = None


def test_pydantic_validates_parses_and_documents_the_name() -> None:
    assert Body(provider="meta").provider is Provider.META  # type: ignore[arg-type]
    assert Body.model_validate_json('{"provider": "echo"}').provider is Provider("echo")
    assert Body(provider=Provider.FONNTE).model_dump_json() == '{"provider":"fonnte"}'
    with pytest.raises(ValidationError):
        Body(provider="Not A Name")  # type: ignore[arg-type]
    schema = json.dumps(Body.model_json_schema())
    assert '"type": "string"' in schema and '"examples": ["meta", "fonnte"]' in schema


# ---------------------------------------------------------------- Meta's inbound half


def meta_post(body: bytes, signature: str | None) -> Verdict:
    headers = {} if signature is None else {"x-hub-signature-256": signature}
    return META.receive(InboundRequest(method="POST", headers=headers, body=body), now=NOW)


def test_a_signed_meta_delivery_is_accepted_with_its_parsed_batch() -> None:
    verdict = meta_post(META_BODY, sign(META_BODY, "app-secret"))
    assert isinstance(verdict, Accepted)
    [message] = verdict.batch.messages
    assert message.provider is Provider.META


@pytest.mark.parametrize(
    ("signature", "reason", "cause"),
    [
        (None, Refusal.UNSIGNED, "signature_missing"),
        ("", Refusal.UNSIGNED, "signature_missing"),
        ("sha256=zz", Refusal.FORGED, "signature_malformed"),
        (sign(META_BODY, "other-secret"), Refusal.FORGED, "signature_mismatch"),
    ],
)
def test_an_unsigned_or_forged_meta_delivery_is_refused(
    signature: str | None, reason: Refusal, cause: str
) -> None:
    verdict = meta_post(META_BODY, signature)
    assert verdict == Rejected(reason=reason, detail="invalid signature", cause=cause)


def test_authentic_meta_bytes_that_are_not_json_are_malformed() -> None:
    verdict = meta_post(b"{not json", sign(b"{not json", "app-secret"))
    assert isinstance(verdict, Rejected) and verdict.reason is Refusal.MALFORMED


def test_the_meta_handshake_answers_the_challenge_only_for_our_token() -> None:
    def get(**query: str) -> Verdict:
        return META.receive(InboundRequest(method="GET", query=query), now=NOW)

    ours = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"}
    assert get(**ours) == Challenge(answer="42")
    for wrong in ({**ours, "hub.verify_token": "nope"}, {**ours, "hub.mode": "unsubscribe"}):
        verdict = get(**wrong)
        assert isinstance(verdict, Rejected) and verdict.reason is Refusal.FORGED


# ---------------------------------------------------------------- Fonnte's inbound half


def fonnte_post(
    *,
    secret: str = SECRET,
    body: bytes = b"",
    content_type: str = "application/json",
    form: dict[str, str] | None = None,
    client: str | None = "127.0.0.1",
    webhook: FonnteWebhook = FONNTE,
) -> Verdict:
    request = InboundRequest(
        method="POST",
        path_params={"secret": secret},
        headers={"content-type": content_type},
        body=body,
        form=form,
        client=client,
    )
    return webhook.receive(request, now=NOW)


def test_fonnte_json_and_form_bodies_are_both_accepted() -> None:
    as_json = fonnte_post(body=json.dumps(FONNTE_FIELDS).encode())
    as_form = fonnte_post(
        content_type="application/x-www-form-urlencoded; charset=utf-8",
        form={k: str(v) for k, v in FONNTE_FIELDS.items()},
    )
    assert isinstance(as_json, Accepted) and isinstance(as_form, Accepted)
    assert as_json.batch.messages[0].message_id == as_form.batch.messages[0].message_id


def test_a_wrong_fonnte_path_secret_reveals_nothing() -> None:
    verdict = fonnte_post(secret="guess", body=json.dumps(FONNTE_FIELDS).encode())
    assert verdict == Rejected(reason=Refusal.NOT_FOUND, detail="not found", cause="secret")


@pytest.mark.parametrize(
    ("client", "allowed"),
    [("10.1.2.3", True), ("192.0.2.1", True), ("192.0.2.2", False), (None, False), ("x", False)],
)
def test_the_fonnte_allow_list_is_checked_against_the_peer_address(
    client: str | None, allowed: bool
) -> None:
    guarded = FonnteWebhook(
        secret=SECRET,
        networks=(ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("192.0.2.1/32")),
    )
    verdict = fonnte_post(body=json.dumps(FONNTE_FIELDS).encode(), client=client, webhook=guarded)
    if allowed:
        assert isinstance(verdict, Accepted)
    else:
        assert isinstance(verdict, Rejected) and verdict.reason is Refusal.SOURCE_NOT_ALLOWED


@pytest.mark.parametrize(
    ("body", "content_type", "form"),
    [
        (b"", "application/json", None),
        (b"[1,2]", "application/json", None),
        (b"not json", "text/plain", None),
        (b"a=1", "application/x-www-form-urlencoded", None),  # the edge could not decode it
    ],
)
def test_unreadable_fonnte_bodies_are_malformed(
    body: bytes, content_type: str, form: dict[str, str] | None
) -> None:
    verdict = fonnte_post(body=body, content_type=content_type, form=form)
    assert isinstance(verdict, Rejected) and verdict.reason is Refusal.MALFORMED


# ---------------------------------------------------------------- the edge's side


def test_every_refusal_has_a_status_code() -> None:
    assert set(STATUS) == set(Refusal)
    assert STATUS[Refusal.UNSIGNED] == 401 and STATUS[Refusal.FORGED] == 403
    assert STATUS[Refusal.NOT_FOUND] == 404 and STATUS[Refusal.MALFORMED] == 400


def test_the_content_type_is_read_without_its_parameters() -> None:
    request = InboundRequest(method="POST", headers={"content-type": "Multipart/Form-Data; b=1"})
    assert request.content_type == "multipart/form-data"
    assert InboundRequest(method="POST").content_type == ""


def test_typer_parses_the_name_on_the_command_line() -> None:
    import typer
    from typer.testing import CliRunner

    seen: list[Provider] = []
    app = typer.Typer()

    @app.command()
    def set_token(provider: Provider) -> None:
        seen.append(provider)

    assert CliRunner().invoke(app, ["echo"]).exit_code == 0
    assert seen == [Provider("echo")] and seen[0] is Provider("echo")
    refused = CliRunner().invoke(app, ["META"])
    assert refused.exit_code == 2 and not seen[1:]
