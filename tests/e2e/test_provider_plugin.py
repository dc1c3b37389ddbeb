"""A provider that exists only in the tests ("echo", tests/plugins/) plugs in through
`WAGATE_PROVIDER_PLUGINS` and holds the whole conversation over real HTTP: its own fake is its
own process, the gateway is a real `wagate serve`, and nothing in the pipeline names it."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.harness import (
    FakePeer,
    Gateway,
    Process,
    base_env,
    free_port,
    fresh_database,
    tag,
    wait_until,
)

ROOT = Path(__file__).parent.parent.parent
ECHO_TOKEN = "e2e-echo-token"
ECHO_SECRET = "e2e-echo-webhook-secret"


class FakeEchoPeer:
    """tests/plugins/echo_fake.py as its own process."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = Process(
            [
                sys.executable,
                "-m",
                "tests.plugins.echo_fake",
                "--port",
                str(self.port),
                "--token",
                ECHO_TOKEN,
                "--webhook-secret",
                ECHO_SECRET,
            ],
            base_env(PYTHONPATH=str(ROOT)),
            workdir / f"fake-echo-{self.port}.log",
        )
        wait_until(self._up, timeout=20)

    def _up(self) -> bool:
        try:
            return httpx.get(f"{self.url}/_fake/requests", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def requests(self, kind: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = httpx.get(
            f"{self.url}/_fake/requests", params={"kind": kind}
        ).json()
        return found

    def deliver(self, gateway: Gateway, message: dict[str, Any], **spec: Any) -> dict[str, Any]:
        """Have the fake call the gateway's webhook, as the provider would."""
        body = {"url": f"{gateway.url}/webhook/echo", "message": message, **spec}
        answer: dict[str, Any] = httpx.post(
            f"{self.url}/_fake/webhook", json=body, timeout=30
        ).json()
        return answer

    def sent_to(self, number: str) -> list[str]:
        return [r["body"]["text"] for r in self.requests("send") if r["body"]["to"] == number]


@pytest.fixture(scope="module")
def fake_echo(workdir: Path) -> Iterator[FakeEchoPeer]:
    peer = FakeEchoPeer(workdir)
    yield peer
    peer.process.stop()


@pytest.fixture(scope="module")
def echo_gateway(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, fake_echo: FakeEchoPeer
) -> Iterator[Gateway]:
    with fresh_database() as url:
        gateway = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            ai_url=f"{fake_ai.url}/v1",
            WAGATE_PROVIDER_PLUGINS="tests.plugins.echo_provider:echo",
            ECHO_API_URL=fake_echo.url,
            ECHO_TOKEN=ECHO_TOKEN,
            ECHO_WEBHOOK_SECRET=ECHO_SECRET,
            PYTHONPATH=str(ROOT),
        ).start()
        yield gateway
        gateway.stop()


def _message(sender: str, text: str) -> dict[str, Any]:
    return {"id": f"echo-in-{secrets.token_hex(6)}", "from": sender, "text": text}


def test_a_message_to_the_plugin_provider_is_stored_answered_and_delivered_once(
    echo_gateway: Gateway, fake_echo: FakeEchoPeer, fake_ai: FakePeer, sender: str
) -> None:
    question = f"halo echo {tag(sender)}"
    assert fake_echo.deliver(echo_gateway, _message(sender, question))["status"] == 200

    answers = wait_until(lambda: fake_echo.sent_to(sender), timeout=30)
    time.sleep(2.0)  # nothing more may follow
    assert len(fake_echo.sent_to(sender)) == len(answers) == 1
    assert "ECHO[model-a]" in answers[0] and tag(sender) in answers[0]
    calls = [
        r for r in fake_ai.requests("chat") if tag(sender) in r["body"]["messages"][-1]["content"]
    ]
    assert len(calls) == 1
    [sent] = [r for r in fake_echo.requests("send") if r["body"]["to"] == sender]
    assert sent["authorized"] is True
    # stored under the plugin's own provider name, and processed
    [stored] = echo_gateway.messages_of(sender)
    assert stored["provider"] == "echo"
    assert stored["content"]["body"] == question
    assert stored["processedAt"]
    # the burst's last message was marked read with the typing indicator
    reads = [r["body"] for r in fake_echo.requests("read")]
    assert {"message_id": stored["providerMessageId"], "typing": True} in reads


def test_a_redelivered_message_is_stored_and_answered_once(
    echo_gateway: Gateway, fake_echo: FakeEchoPeer, sender: str
) -> None:
    message = _message(sender, f"sekali saja {tag(sender)}")
    for _ in range(3):
        assert fake_echo.deliver(echo_gateway, message)["status"] == 200
    wait_until(lambda: fake_echo.sent_to(sender), timeout=30)
    time.sleep(2.0)
    assert len(fake_echo.sent_to(sender)) == 1


def test_the_plugin_refuses_through_the_edge_status_codes(
    echo_gateway: Gateway, fake_echo: FakeEchoPeer, sender: str
) -> None:
    message = _message(sender, "tidak boleh")
    assert fake_echo.deliver(echo_gateway, message, secret="")["status"] == 401
    assert fake_echo.deliver(echo_gateway, message, secret="wrong")["status"] == 403
    assert fake_echo.deliver(echo_gateway, {"id": "x"})["status"] == 400
    time.sleep(1.0)
    assert echo_gateway.conversation_for(sender) is None


def test_the_operator_can_send_through_the_plugin_provider(
    echo_gateway: Gateway, fake_echo: FakeEchoPeer, sender: str
) -> None:
    body = {"target": sender, "message": f"dari operator {tag(sender)}", "provider": "echo"}
    response = echo_gateway.api_post("/api/whatsapp/send", body)
    assert response.status_code == 202, response.text
    assert response.json()["provider"] == "echo"
    wait_until(lambda: fake_echo.sent_to(sender), timeout=30)
    assert fake_echo.sent_to(sender) == [f"dari operator {tag(sender)}"]
    channels = {c["provider"] for c in echo_gateway.api("/api/whatsapp/status")["channels"]}
    assert {"meta", "fonnte", "echo"} <= channels


def test_a_bad_plugin_setting_stops_the_gateway_with_a_clear_message(tmp_path: Path) -> None:
    for spec, expected in (
        ("tests.plugins.echo_provider", "must be 'package.module:callable'"),
        ("tests.plugins.no_such_module:echo", "cannot import 'tests.plugins.no_such_module'"),
        ("tests.plugins.echo_provider:not_a_plugin", "has no callable 'not_a_plugin'"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "wagate", "serve", "--port", str(free_port())],
            env=base_env(
                WAGATE_PROVIDER_PLUGINS=spec,
                WAGATE_DATA_DIR=str(tmp_path),
                PYTHONPATH=str(ROOT),
            ),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, result.stderr
        assert "WAGATE_PROVIDER_PLUGINS" in result.stderr and expected in result.stderr
