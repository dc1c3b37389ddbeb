"""The 24-hour window (CP5) and templates (TP1): predicted before sending, and enforced again
when Meta reports 131047 after accepting a send."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.e2e.harness import PHONE_NUMBER_ID, FakePeer, Gateway, fresh_database, wait_until
from wagate.fakes.payloads import meta_status, meta_text

TEMPLATES = json.dumps(
    [
        {
            "name": "balasan_umum",
            "language": "id",
            "parameters": ["pesan"],
            "purpose": "out_of_window",
        },
        {"name": "pengingat_sidang", "language": "id", "parameters": ["nama", "tanggal"]},
    ]
)


def _sends_to(fake_meta: FakePeer, number: str) -> list[dict[str, Any]]:
    return [r for r in fake_meta.requests("send") if r["body"].get("to") == number]


@pytest.fixture(scope="module")
def templated(workdir: Path, fake_meta: FakePeer) -> Iterator[tuple[Gateway, str]]:
    with fresh_database() as url:
        gateway = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            WHATSAPP_TEMPLATES=TEMPLATES,
        ).start()
        yield gateway, url
        gateway.stop()


def test_outside_the_window_without_a_template_the_message_waits_as_a_dead_letter(
    gateway: Gateway, fake_meta: FakePeer, database_url: str, sender: str
) -> None:
    response = gateway.api_post("/api/whatsapp/send", {"target": sender, "message": "halo"})
    assert response.status_code == 202
    key = response.json()["idempotencyKeys"][0]

    def status() -> tuple[str, str | None] | None:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT status, error_code FROM outbound_messages WHERE idempotency_key = %s",
                (key,),
            ).fetchone()
        return (row[0], row[1]) if row else None

    assert wait_until(lambda: status() == ("failed", "window_closed"), timeout=20)
    assert _sends_to(fake_meta, sender) == []  # nothing was tried: predicted, not attempted


def test_outside_the_window_the_out_of_window_template_carries_the_message(
    templated: tuple[Gateway, str], fake_meta: FakePeer, sender: str
) -> None:
    gateway, _ = templated
    assert (
        gateway.api_post(
            "/api/whatsapp/send", {"target": sender, "message": "Berkas Anda siap."}
        ).status_code
        == 202
    )
    sent = wait_until(lambda: _sends_to(fake_meta, sender), timeout=20)
    assert sent[0]["body"]["type"] == "template"
    assert sent[0]["body"]["template"]["components"][0]["parameters"][0]["text"] == (
        "Berkas Anda siap."
    )


def test_a_131047_failure_after_acceptance_is_resent_as_the_template(
    templated: tuple[Gateway, str], fake_meta: FakePeer, sender: str
) -> None:
    gateway, _ = templated
    assert (
        gateway.post_meta(
            meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="halo")
        ).status_code
        == 200
    )  # opens the window
    assert (
        gateway.api_post(
            "/api/whatsapp/send", {"target": sender, "message": "Jadwal sidang berubah."}
        ).status_code
        == 202
    )
    # The operator's text, not the (offline) assistant's answer to "halo": both go out as text
    # and either may reach the fake first.
    free_form = wait_until(
        lambda: [
            r
            for r in _sends_to(fake_meta, sender)
            if r["body"]["type"] == "text" and r["body"]["text"]["body"] == "Jadwal sidang berubah."
        ],
        timeout=20,
    )[0]
    # …but Meta reports, asynchronously, that the window had closed after all
    failed = meta_status(
        phone_number_id=PHONE_NUMBER_ID,
        message_id=free_form["wamid"],
        status="failed",
        recipient=sender,
        error_code=131047,
    )
    assert gateway.post_meta(failed).status_code == 200
    resent = wait_until(
        lambda: [r for r in _sends_to(fake_meta, sender) if r["body"]["type"] == "template"],
        timeout=30,
    )
    assert resent[0]["body"]["template"]["name"] == "balasan_umum"
    assert resent[0]["body"]["template"]["components"][0]["parameters"][0]["text"] == (
        "Jadwal sidang berubah."
    )


def test_send_template_sends_a_named_template_with_its_parameters(
    templated: tuple[Gateway, str], fake_meta: FakePeer, sender: str
) -> None:
    gateway, _ = templated
    response = gateway.api_post(
        "/api/whatsapp/send-template",
        {
            "target": sender,
            "template": "pengingat_sidang",
            "parameters": {"nama": "Ibu Siti", "tanggal": "12 Desember"},
        },
    )
    assert response.status_code == 202
    sent = wait_until(lambda: _sends_to(fake_meta, sender), timeout=20)[0]["body"]["template"]
    values = [p["text"] for p in sent["components"][0]["parameters"]]
    assert sent["name"] == "pengingat_sidang" and values == ["Ibu Siti", "12 Desember"]
    # Declared with named parameters ({{nama}}): each value goes with its name.
    names = [p["parameter_name"] for p in sent["components"][0]["parameters"]]
    assert names == ["nama", "tanggal"]
    assert sent["language"] == {"policy": "deterministic", "code": "id"}
    for wrong in (
        {"target": sender, "template": "tidak_ada"},
        {"target": sender, "template": "pengingat_sidang", "parameters": ["satu"]},
    ):
        assert gateway.api_post("/api/whatsapp/send-template", wrong).status_code == 422


def test_a_long_message_with_paragraphs_is_fitted_into_the_template_as_meta_requires(
    templated: tuple[Gateway, str], fake_meta: FakePeer, sender: str
) -> None:
    """Meta refuses a template parameter with a line break, a tab or five spaces in a row
    (132018) and a template body over 1,024 characters: the text goes on one line, cut at a
    word with a note saying so."""
    gateway, _ = templated
    message = "\n\n".join(
        f"Bagian {i}:\tBerkas perkara Anda     sedang kami periksa dengan teliti. " * 5
        for i in range(1, 6)
    )
    assert len(message) > 1024
    response = gateway.api_post("/api/whatsapp/send", {"target": sender, "message": message})
    assert response.status_code == 202
    sent = wait_until(lambda: _sends_to(fake_meta, sender), timeout=20)[0]["body"]["template"]
    [parameter] = sent["components"][0]["parameters"]
    value = parameter["text"]
    assert "\n" not in value and "\t" not in value and "     " not in value
    assert len(value) <= 1024 - 124  # the room left when the template's own text is not given
    assert value.startswith("Bagian 1: · Berkas perkara Anda sedang kami periksa dengan teliti.")
    assert value.endswith("… (pesan terpotong; balas pesan ini untuk melanjutkan)")
