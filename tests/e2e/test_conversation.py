"""From message to answer, over real HTTP: a real gateway, a fake Graph API recorder and a fake
OpenAI-compatible server, each its own process."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from tests.e2e.harness import (
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    fresh_database,
    gateway_on_fresh_database,
    tag,
    wait_until,
)
from wagate.fakes.payloads import meta_envelope, meta_status, meta_text, new_wamid


def _text(sender: str, body: str) -> dict[str, Any]:
    return meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=body)


def _ai_calls(fake_ai: FakePeer, marker: str) -> list[dict[str, Any]]:
    """The chat requests whose last user message mentions `marker`."""
    return [r for r in fake_ai.requests("chat") if marker in r["body"]["messages"][-1]["content"]]


def _sent_to(fake_meta: FakePeer, number: str) -> list[str]:
    return [
        r["body"]["text"]["body"]
        for r in fake_meta.requests("send")
        if r["body"].get("to") == number
    ]


@pytest.fixture(scope="module")
def slow_gateway(workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer) -> Iterator[Gateway]:
    """A gateway with a real (short) debounce, on its own database."""
    with fresh_database() as url:
        gateway = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            ai_url=f"{fake_ai.url}/v1",
            DEBOUNCE_SECONDS="1.5",
            DEBOUNCE_MAX_SECONDS="10",
        ).start()
        yield gateway
        gateway.stop()


def test_a_burst_of_three_becomes_one_ai_call_with_all_three_in_order(
    slow_gateway: Gateway, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    burst = [_text(sender, f"{n} {tag(sender)}") for n in ("satu", "dua", "tiga")]
    for payload in burst:
        assert slow_gateway.post_meta(payload).status_code == 200
    answers = wait_until(lambda: _sent_to(fake_meta, sender), timeout=20)
    time.sleep(2.0)  # nothing more may follow
    calls = _ai_calls(fake_ai, tag(sender))
    assert len(calls) == 1
    question = calls[0]["body"]["messages"][-1]["content"]
    assert question == f"satu {tag(sender)}\ndua {tag(sender)}\ntiga {tag(sender)}"
    assert calls[0]["body"]["messages"][0]["role"] == "system"
    assert len(_sent_to(fake_meta, sender)) == len(answers) == 1
    assert "ECHO[model-a]" in answers[0]
    # mark-read with the typing indicator came before the answer, for the burst's last message
    reads = [r for r in fake_meta.requests("read") if r["body"].get("typing_indicator")]
    assert reads
    # the answer quotes the question it answers: the burst's last message
    last = burst[-1]["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    [sent] = [r for r in fake_meta.requests("send") if r["body"].get("to") == sender]
    assert sent["body"]["context"] == {"message_id": last}


def test_a_follow_up_question_carries_the_earlier_turns(
    gateway: Gateway, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    assert gateway.post_meta(_text(sender, f"pertama {tag(sender)}")).status_code == 200
    wait_until(lambda: _sent_to(fake_meta, sender))
    assert gateway.post_meta(_text(sender, f"kedua {tag(sender)}")).status_code == 200
    wait_until(lambda: len(_sent_to(fake_meta, sender)) == 2)
    second = _ai_calls(fake_ai, f"kedua {tag(sender)}")[0]["body"]["messages"]
    roles = [m["role"] for m in second]
    assert roles == ["system", "user", "assistant", "user"]
    assert second[1]["content"] == f"pertama {tag(sender)}"
    assert second[2]["content"].startswith("ECHO[model-a]")


def test_a_restart_during_the_debounce_loses_nothing_and_answers_once(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    with fresh_database() as url:
        gateway = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            ai_url=f"{fake_ai.url}/v1",
            DEBOUNCE_SECONDS="3",
        ).start()
        try:
            assert gateway.post_meta(_text(sender, f"sebelum {tag(sender)}")).status_code == 200
            assert gateway.post_meta(_text(sender, f"juga {tag(sender)}")).status_code == 200
            gateway.kill()
            assert _sent_to(fake_meta, sender) == []
            gateway.start()
            wait_until(lambda: _sent_to(fake_meta, sender), timeout=30)
            time.sleep(3)
            calls = _ai_calls(fake_ai, tag(sender))
            assert len(calls) == 1
            assert calls[0]["body"]["messages"][-1]["content"] == (
                f"sebelum {tag(sender)}\njuga {tag(sender)}"
            )
            assert len(_sent_to(fake_meta, sender)) == 1
        finally:
            gateway.stop()


def test_the_ai_timing_out_on_the_first_model_falls_back_to_the_second(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    with gateway_on_fresh_database(
        workdir,
        fake_meta,
        fake_ai,
        AI_MODEL="slow-model",
        AI_FALLBACK_MODELS="model-b, model-c",
        AI_TIMEOUT_SECONDS="1",
    ) as (gateway, _):
        httpx.post(
            f"{fake_ai.url}/_fake/fail",
            json={"model": "slow-model", "delay_seconds": 3, "times": 1, "http_status": 200},
        ).raise_for_status()
        assert gateway.post_meta(_text(sender, f"cepat {tag(sender)}")).status_code == 200
        answers = wait_until(lambda: _sent_to(fake_meta, sender), timeout=30)
        assert "ECHO[model-b]" in answers[0]


def test_the_ai_failing_entirely_brings_an_apology_then_a_later_answer(
    gateway: Gateway, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    httpx.post(
        f"{fake_ai.url}/_fake/fail", json={"http_status": 500, "times": 1}
    ).raise_for_status()
    assert gateway.post_meta(_text(sender, f"mohon jawab {tag(sender)}")).status_code == 200
    sent = wait_until(lambda: len(_sent_to(fake_meta, sender)) >= 2, timeout=40) and _sent_to(
        fake_meta, sender
    )
    assert "maaf" in sent[0].lower()
    assert "ECHO[model-a]" in sent[1]
    time.sleep(1)
    assert len(_sent_to(fake_meta, sender)) == 2  # one apology, one answer


def test_long_answers_are_split_and_sent_in_order(
    gateway: Gateway, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    paragraphs = [f"Paragraf {i}. " + ("kalimat panjang sekali. " * 80) for i in range(12)]
    httpx.post(
        f"{fake_ai.url}/_fake/reply", json={"text": "\n\n".join(paragraphs)}
    ).raise_for_status()
    assert gateway.post_meta(_text(sender, "ceritakan")).status_code == 200
    wait_until(lambda: len(_sent_to(fake_meta, sender)) >= 3, timeout=30)
    time.sleep(1)
    parts = _sent_to(fake_meta, sender)
    assert all(len(part) <= 4096 for part in parts)
    numbers = [int(n) for part in parts for n in re.findall(r"Paragraf (\d+)\.", part)]
    assert numbers == list(range(12))


def test_policies_before_the_ai(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    with gateway_on_fresh_database(
        workdir, fake_meta, fake_ai, RATE_LIMIT_PER_MINUTE="3", MAX_MESSAGE_CHARS="50"
    ) as (gateway, _):
        # over-long: a notice, nothing to the AI
        assert gateway.post_meta(_text(sender, "x" * 80)).status_code == 200
        wait_until(lambda: _sent_to(fake_meta, sender), timeout=20)
        assert "panjang" in _sent_to(fake_meta, sender)[0]
        # a file the provider does not have (any more): a sensible reply, not silence — the
        # person is asked to send it again (issue 16; files themselves: test_media.py)
        image = meta_envelope(
            PHONE_NUMBER_ID,
            {
                "contacts": [{"profile": {"name": "B"}, "wa_id": sender}],
                "messages": [
                    {
                        "from": sender,
                        "id": new_wamid(),
                        "timestamp": str(int(time.time())),
                        "type": "image",
                        "image": {"id": "1", "mime_type": "image/jpeg"},
                    }
                ],
            },
        )
        assert gateway.post_meta(image).status_code == 200
        wait_until(lambda: len(_sent_to(fake_meta, sender)) == 2, timeout=20)
        assert "kirim ulang" in _sent_to(fake_meta, sender)[1]
        # rate limit: the 3 earlier messages count; the rest are stored, not sent to the AI
        for i in range(3):
            assert gateway.post_meta(_text(sender, f"spam {i} {tag(sender)}")).status_code == 200
        wait_until(
            lambda: (
                len(gateway.messages_of(sender)) == 5
                and all(m["processedAt"] for m in gateway.messages_of(sender))
            ),
            timeout=20,
        )
        time.sleep(1)
        # two earlier messages in the minute: "spam 0" is the third and allowed, no more
        asked = [c["body"]["messages"][-1]["content"] for c in _ai_calls(fake_ai, tag(sender))]
        assert asked == [f"spam 0 {tag(sender)}"]
        notices = [t for t in _sent_to(fake_meta, sender) if "terlalu banyak" in t]
        assert len(notices) == 1


def test_unlinked_numbers_under_verified_learn_nothing_until_linked(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    with gateway_on_fresh_database(
        workdir,
        fake_meta,
        fake_ai,
        IDENTITY_POLICY="verified",
    ) as (
        gateway,
        _,
    ):
        assert gateway.post_meta(_text(sender, f"rahasia {tag(sender)}")).status_code == 200
        wait_until(lambda: _sent_to(fake_meta, sender), timeout=20)
        assert gateway.post_meta(_text(sender, f"lagi {tag(sender)}")).status_code == 200
        wait_until(lambda: all(m["processedAt"] for m in gateway.messages_of(sender)))
        time.sleep(1)
        replies = _sent_to(fake_meta, sender)
        assert len(replies) == 1 and "belum terhubung" in replies[0]
        assert _ai_calls(fake_ai, tag(sender)) == []

        created = gateway.api_post(
            "/api/accounts", {"username": f"budi{sender}", "name": "Budi", "approved": True}
        )
        assert created.status_code == 201
        account = created.json()["id"]
        local = "0" + sender[2:]  # 08… form: the same number
        assert (
            gateway.api_post(f"/api/accounts/{account}/link", {"phone": local}).status_code == 202
        )
        code_message = wait_until(
            lambda: [t for t in _sent_to(fake_meta, sender) if "Kode verifikasi" in t],
            timeout=20,
        )[0]
        code = re.search(r"(\d{6})", code_message).group(1)  # type: ignore[union-attr]
        wrong = "000000" if code != "000000" else "111111"
        assert (
            gateway.api_post(f"/api/accounts/{account}/verify", {"code": wrong}).status_code == 400
        )
        verified = gateway.api_post(f"/api/accounts/{account}/verify", {"code": code})
        assert verified.status_code == 200
        assert verified.json()["account"]["linkedPhone"] == sender

        assert gateway.post_meta(_text(sender, f"sekarang {tag(sender)}")).status_code == 200
        wait_until(lambda: _ai_calls(fake_ai, f"sekarang {tag(sender)}"), timeout=20)
        assert _ai_calls(fake_ai, f"rahasia {tag(sender)}") == []


def test_operator_sends_are_delivered_once_per_idempotency_key(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    # the contact wrote first: the 24-hour window is open for free-form messages
    assert gateway.post_meta(_text(sender, "halo")).status_code == 200
    wait_until(lambda: _sent_to(fake_meta, sender), timeout=20)
    body = {"target": "+" + sender, "message": "Pemberitahuan dari operator"}
    queued = []
    for _ in range(3):
        response = gateway.api_post("/api/whatsapp/send", body, **{"Idempotency-Key": sender})
        assert response.status_code == 202
        queued.append(response.json()["queued"])
    assert queued == [1, 0, 0]
    wait_until(lambda: "Pemberitahuan dari operator" in _sent_to(fake_meta, sender), timeout=20)
    time.sleep(1)
    assert _sent_to(fake_meta, sender).count("Pemberitahuan dari operator") == 1
    assert gateway.http.post("/api/whatsapp/send", json=body).status_code == 401
    assert (
        gateway.api_post("/api/whatsapp/send", {"target": "abc", "message": "x"}).status_code == 422
    )


def test_delivery_statuses_move_outbound_messages_forward_only(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    assert gateway.post_meta(_text(sender, "halo")).status_code == 200  # opens the window
    wait_until(lambda: _sent_to(fake_meta, sender), timeout=20)
    response = gateway.api_post("/api/whatsapp/send", {"target": sender, "message": "status?"})
    assert response.status_code == 202

    def operator_send() -> list[dict[str, Any]]:
        return [
            r
            for r in fake_meta.requests("send")
            if r["body"].get("to") == sender and r["body"].get("text", {}).get("body") == "status?"
        ]

    wamid = wait_until(operator_send, timeout=20)[0]["wamid"]
    for status in ("read", "delivered", "sent"):
        payload = meta_status(
            phone_number_id=PHONE_NUMBER_ID, message_id=wamid, status=status, recipient=sender
        )
        assert gateway.post_meta(payload).status_code == 200

    def outbound_status() -> str | None:
        conversation = gateway.conversation_for(sender)
        assert conversation is not None
        page = gateway.api(f"/api/conversations/{conversation['id']}/messages")
        mine = [o for o in page["outbound"] if o["providerMessageId"] == wamid]
        return mine[0]["status"] if mine else None

    assert wait_until(lambda: outbound_status() == "read")


def test_the_sandbox_chat_answers_a_person_in_the_terminal(workdir: Path, sender: str) -> None:
    from tests.e2e.harness import Process, base_env, free_port

    data_dir = workdir / "sandbox"
    port = free_port()
    with fresh_database() as url:
        env = base_env(DATABASE_URL=url, WAGATE_DATA_DIR=str(data_dir), DEBOUNCE_SECONDS="1")
        server = Process(
            [sys.executable, "-m", "wagate", "serve", "--port", str(port)],
            env,
            workdir / "sandbox.log",
        )
        try:

            def healthy() -> bool:
                assert server.alive(), server.log_tail()
                try:
                    return httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200
                except httpx.HTTPError:
                    return False

            wait_until(healthy, timeout=60, every=0.3)
            # The start banner (standard output, captured in the log) says it is the sandbox.
            wait_until(lambda: "SANDBOX:" in server.log_path.read_text(), timeout=10)
            # The real `python -m wagate chat`, typed into line by line; each line is typed
            # once the answer to the one before has been shown (two bursts, not one).
            chat = subprocess.Popen(
                [sys.executable, "-m", "wagate", "chat", "--as", sender],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert chat.stdin is not None and chat.stdout is not None
            shown: list[str] = []

            def read(stdout: IO[str] = chat.stdout) -> None:
                for line in stdout:
                    shown.append(line)

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            chat.stdin.write("Halo, apa kabar?\n")
            chat.stdin.flush()
            wait_until(lambda: "Halo! Saya asisten otomatis" in "".join(shown), timeout=60)
            chat.stdin.write("jam buka kantor kapan aja?\n")
            chat.stdin.flush()
            wait_until(lambda: "Sumber: Jam Layanan" in "".join(shown), timeout=60)
            chat.stdin.write("/quit\n")
            chat.stdin.flush()
            assert chat.wait(timeout=30) == 0
            reader.join(timeout=10)
            output = "".join(shown)
            assert "received; the answer comes after 1 s" in output
            # No AI endpoint: a greeting is greeted, a question answered from the sample
            # knowledge base with its source.
            assert "[bot]" in output and "Halo! Saya asisten otomatis" in output
            assert "Senin" in output and "Sumber: Jam Layanan" in output
        finally:
            server.stop()
