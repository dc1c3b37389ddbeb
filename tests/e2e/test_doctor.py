"""`wagate doctor` and `wagate smoke-test` as an operator runs them, as processes, against a
gateway process behind a TLS reverse proxy (the public URL, over real HTTPS with a certificate
the doctor is told to trust), on its own database, with its own fake Graph API, fake Fonnte
and fake AI:

* everything configured: the doctor exits 0, every probe OK;
* a revoked Meta token and a wrong AI key: it exits 1 and names both;
* sandbox mode (no credentials): it exits 1 naming what production needs, creating nothing;
* the smoke test: a template and a text in the window are delivered, with each step's time;
  without status webhooks it gives up, says where the message stopped, and exits 1.
"""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.harness import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    Process,
    base_env,
    free_port,
    fresh_database,
    wait_until,
)
from wagate.fakes.payloads import meta_text

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parent.parent.parent
AI_KEY = "e2e-ai-key"
TEMPLATES = json.dumps(
    [
        {"name": "sapaan", "language": "id", "parameters": ["nama"]},
        {"name": "lanjutan", "language": "id", "parameters": ["pesan"], "purpose": "out_of_window"},
    ]
)


def certificate_authority(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost (it is its own CA): what the proxy serves and
    what the doctor is told to trust through SSL_CERT_FILE."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = directory / "proxy-cert.pem", directory / "proxy-key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path


class Live:
    """A gateway configured for production (as far as the fakes allow), behind HTTPS."""

    def __init__(
        self, gateway: Gateway, meta: FakePeer, certificate: Path, public_url: str
    ) -> None:
        self.gateway = gateway
        self.meta = meta
        self.certificate = certificate
        self.public_url = public_url

    def run(self, *args: str, **overrides: str) -> subprocess.CompletedProcess[str]:
        env = self.gateway.env | {"SSL_CERT_FILE": str(self.certificate)} | overrides
        return wagate(*args, env=env, cwd=self.gateway.workdir)


def wagate(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wagate", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def live(workdir: Path) -> Iterator[Live]:
    meta = FakePeer("meta", workdir, "--access-token", "e2e-access-token")
    fonnte = FakePeer("fonnte", workdir, "--token", "e2e-fonnte-token")
    ai = FakePeer("openai", workdir, "--api-key", AI_KEY)
    certificate, key = certificate_authority(workdir)
    proxy_port = free_port()
    public_url = f"https://localhost:{proxy_port}"
    proxy: Process | None = None
    try:
        with fresh_database() as url:
            gateway = Gateway(
                workdir,
                database_url=url,
                graph_url=f"{meta.url}/v22.0",
                fonnte_url=f"{fonnte.url}/send",
                ai_url=f"{ai.url}/v1",
                PUBLIC_URL=public_url,
                FORWARDED_ALLOW_IPS="127.0.0.1",
                WHATSAPP_TEMPLATES=TEMPLATES,
                AI_API_KEY=AI_KEY,
            ).start()
            try:
                proxy = Process(
                    [
                        sys.executable,
                        "-m",
                        "tests.e2e.tls_proxy",
                        "--port",
                        str(proxy_port),
                        "--cert",
                        str(certificate),
                        "--key",
                        str(key),
                        "--upstream",
                        gateway.url,
                    ],
                    base_env(PYTHONPATH=str(ROOT)),
                    workdir / f"tls-proxy-{proxy_port}.log",
                )
                wait_until(lambda: _answers(public_url, certificate), timeout=30, every=0.2)
                yield Live(gateway, meta, certificate, public_url)
            finally:
                if proxy is not None:
                    proxy.stop()
                gateway.stop()
    finally:
        for peer in (meta, fonnte, ai):
            peer.stop()


def _answers(url: str, certificate: Path) -> bool:
    try:
        trusted = ssl.create_default_context(cafile=str(certificate))
        return httpx.get(f"{url}/api/health", verify=trusted, timeout=2).is_success
    except httpx.HTTPError:
        return False


def findings(result: subprocess.CompletedProcess[str]) -> dict[tuple[str, str], dict[str, Any]]:
    document = json.loads(result.stdout)
    return {(f["area"], f["check"]): f for f in document["findings"]}


def test_doctor_passes_when_everything_is_configured(live: Live) -> None:
    result = live.run("doctor", "--json")
    found = findings(result)
    problems = {k: v for k, v in found.items() if v["verdict"] not in ("ok", "warn")}
    assert problems == {}, result.stderr
    assert result.returncode == 0
    assert json.loads(result.stdout)["ready"] is True
    assert "Fake Business" in found[("meta", "access token")]["detail"]
    assert found[("fonnte", "phone linked")]["verdict"] == "ok"
    assert found[("ai", "chat request")]["verdict"] == "ok"
    assert found[("webhook", "reachable over HTTPS")]["detail"].startswith(live.public_url)
    assert found[("webhook", "Meta callback URL")]["verdict"] == "ok"
    assert found[("database", "migrations")]["verdict"] == "ok"
    assert "1 tenant" in found[("keys", "keys match the database")]["detail"]
    # Nothing was sent to anyone: the providers were only read.
    assert live.meta.requests("send") == []


def test_doctor_fails_with_a_revoked_token_and_names_it(live: Live) -> None:
    result = live.run("doctor", META_ACCESS_TOKEN="revoked-token", AI_API_KEY="sk-wrong")
    assert result.returncode == 1, result.stdout
    assert "Not ready: 2 things missing or failing" in result.stdout
    assert "meta: access token (failed)" in result.stdout
    assert "ai: chat request (failed)" in result.stdout
    assert "permanent token for a system user" in result.stdout
    as_json = findings(live.run("doctor", "--json", META_ACCESS_TOKEN="revoked-token"))
    assert as_json[("meta", "access token")]["verdict"] == "failed"
    assert "HTTP 401" in as_json[("meta", "access token")]["detail"]


def test_doctor_looks_up_the_transcription_and_vision_models(live: Live) -> None:
    """The fake AI lists fake-large, fake-small and fake-tiny: a listed transcription model
    passes, a vision model it does not list is a warning naming the setting (not blocking:
    the gateway runs, photos are just not seen)."""
    result = live.run(
        "doctor", "--json", AI_TRANSCRIPTION_MODEL="fake-small", AI_VISION_MODEL="fake-eyes"
    )
    found = findings(result)
    assert found[("ai", "transcription model")]["verdict"] == "ok"
    vision = found[("ai", "vision model")]
    assert vision["verdict"] == "warn"
    assert "AI_VISION_MODEL=fake-eyes is not in the endpoint's model list" in vision["detail"]
    assert result.returncode == 0, result.stdout
    plain = live.run("doctor", AI_VISION_MODEL="fake-eyes")
    assert "check AI_VISION_MODEL" in plain.stdout


def test_doctor_without_the_proxys_certificate_cannot_trust_the_public_url(live: Live) -> None:
    result = live.run("doctor", "--json", SSL_CERT_FILE="")  # the public CAs only
    found = findings(result)
    https = found[("webhook", "reachable over HTTPS")]
    assert https["verdict"] == "failed"
    assert "certificate" in https["detail"].lower()
    assert result.returncode == 1


def test_doctor_in_sandbox_mode_names_what_production_needs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = wagate("doctor", env=base_env(WAGATE_DATA_DIR=str(data)), cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    for missing in ("WhatsApp provider", "AI endpoint", "public URL", "master keys"):
        assert missing in result.stdout
    assert "sandbox mode" in result.stdout
    assert not (data / "pg").exists() and not (data / "encryption-keys.json").exists()


def test_doctor_reports_invalid_settings_one_problem_a_line(tmp_path: Path) -> None:
    env = base_env(WAGATE_DATA_DIR=str(tmp_path), META_APP_SECRET="s", AI_BASE_URL="http://x")
    result = wagate("doctor", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "Meta is half-configured: set META_WEBHOOK_VERIFY_TOKEN" in result.stdout
    assert "AI_BASE_URL is set: set AI_MODEL too" in result.stdout


# ---------------------------------------------------------------- smoke test


def statuses(live: Live, *send: str) -> None:
    control = f"{live.meta.url}/_fake/statuses"
    if not send:
        httpx.delete(control).raise_for_status()
        return
    spec = {
        "url": f"{live.gateway.url}/webhook/whatsapp",
        "app_secret": APP_SECRET,
        "send": list(send),
        "delay_seconds": 0.2,
    }
    httpx.post(control, json=spec).raise_for_status()


def test_smoke_test_delivers_a_template_and_prints_the_timings(live: Live, sender: str) -> None:
    statuses(live, "sent", "delivered")
    try:
        result = live.run(
            "smoke-test",
            sender,
            "--template",
            "sapaan",
            "--param",
            "Budi",
            "--json",
            "--wait",
            "60",
        )
    finally:
        statuses(live)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["delivered"] is True and report["status"] == "delivered"
    steps = [m["status"] for m in report["milestones"]]
    assert steps[0] == "queued" and steps[-1] == "delivered" and "sent" in steps
    delivered = report["milestones"][-1]
    assert delivered["webhookAfter"] is not None and delivered["webhookAfter"] > 0
    sent = [r for r in live.meta.requests("send") if r["body"].get("to") == sender]
    assert [r["body"]["template"]["name"] for r in sent] == ["sapaan"]


def test_smoke_test_sends_a_text_inside_the_window(live: Live, sender: str) -> None:
    hello = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="halo")
    assert live.gateway.post_meta(hello).status_code == 200
    statuses(live, "sent", "delivered", "read")
    try:
        result = live.run("smoke-test", sender, "--text", "tes", "--wait", "60")
    finally:
        statuses(live)
    assert result.returncode == 0, result.stdout + result.stderr
    # The fake reports sent, delivered and read in quick succession: the command stops at the
    # first final status its poll sees, `delivered` or `read`.
    assert re.search(r"delivered: (delivered|read) after", result.stdout), result.stdout
    # The row may pass `accepted` between two polls; the statuses the webhook stored all show.
    for step in ("queued", "sent", "delivered"):
        assert f"  {step} " in result.stdout


def test_smoke_test_without_status_webhooks_says_where_the_message_stopped(
    live: Live, sender: str
) -> None:
    statuses(live)
    result = live.run("smoke-test", sender, "--template", "sapaan", "--param", "Ani", "--wait", "4")
    assert result.returncode == 1
    assert "no delivery status within 4 s (last status: accepted)" in result.stderr
    assert "the `messages` field" in result.stderr
