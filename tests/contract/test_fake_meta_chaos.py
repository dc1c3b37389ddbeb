"""The fake Graph API's chaos mode and status webhooks, over real HTTP: every fault answers the
way the Graph API does (so the client reads it as the error the gateway must handle), the draws
replay for a seed, and status webhooks are signed, carry our idempotency key and are retried
until accepted — the fault-injection suite (tests/e2e/test_faults.py) counts on all of it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wagate.domain import errors as e
from wagate.domain.messages import DeliveryStatus
from wagate.fakes.meta import FakeGraphApi
from wagate.fakes.recorder import Chaos
from wagate.providers.meta.client import MetaClient
from wagate.providers.meta.signature import SIGNATURE_HEADER, SignatureCheck, check_signature
from wagate.providers.meta.webhook import parse_payload

TOKEN = "EAAG-chaos-token"
SECRET = "chaos-app-secret"
PHONE_NUMBER_ID = "200000000000001"
USER = "6281234567890"


class Receiver:
    """A gateway stand-in for status webhooks: keeps what arrived, refuses the first few."""

    def __init__(self, refuse: int = 0) -> None:
        self.refuse = refuse
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.refused = 0
        self.app = Starlette(routes=[Route("/webhook/whatsapp", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        if self.refused < self.refuse:
            self.refused += 1
            return JSONResponse({"detail": "temporarily unable to store"}, status_code=503)
        self.received.append((body, dict(request.headers)))
        return JSONResponse({"status": "ok"})

    def statuses(self) -> list[dict[str, Any]]:
        found = []
        for body, _ in self.received:
            payload = orjson.loads(body)
            found.extend(payload["entry"][0]["changes"][0]["value"]["statuses"])
        return found


@dataclass
class Graph:
    base: str
    control: httpx.AsyncClient
    fake: FakeGraphApi
    clients: list[MetaClient] = field(default_factory=list)

    async def post(self, path: str, spec: Any) -> httpx.Response:
        return await self.control.post(path, json=spec)

    async def chaos(self, **spec: Any) -> dict[str, Any]:
        answer = await self.post("/_fake/chaos", spec)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    async def requests(self, kind: str = "send") -> list[dict[str, Any]]:
        answer = await self.control.get("/_fake/requests", params={"kind": kind})
        listing: list[dict[str, Any]] = answer.json()
        return listing

    async def status_log(self) -> dict[str, Any]:
        result: dict[str, Any] = (await self.control.get("/_fake/statuses")).json()
        return result

    def client(self, *, timeout: float = 5.0, token: str = TOKEN) -> MetaClient:
        meta = MetaClient(
            graph_url=f"{self.base}/v22.0",
            access_token=token,
            phone_number_id=PHONE_NUMBER_ID,
            timeout=timeout,
        )
        self.clients.append(meta)
        return meta


@pytest.fixture
async def graph(serve_app: Any) -> AsyncIterator[Graph]:
    fake = FakeGraphApi(access_token=TOKEN)
    async with (
        serve_app(fake.app) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as control,
    ):
        graph = Graph(base=base, control=control, fake=fake)
        yield graph
        for meta in graph.clients:
            await meta.aclose()
        await fake.aclose()


@pytest.fixture
async def receiver(serve_app: Any) -> AsyncIterator[tuple[Receiver, str]]:
    hook = Receiver()
    async with serve_app(hook.app) as base:
        yield hook, f"{base}/webhook/whatsapp"


async def eventually(check: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check() if asyncio.iscoroutinefunction(check) else check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.02)


# ---------------------------------------------------------------- the draw


def test_a_seed_replays_the_same_faults_per_message_whatever_the_interleaving() -> None:
    rates = {"500": 0.3, "timeout": 0.1, "131047_async": 0.1}
    keys = [f"run-{n}:reply:0" for n in range(40)]

    def sequences(order: list[str], seed: int) -> dict[str, list[str | None]]:
        chaos = Chaos(seed=seed, rates=rates)
        drawn: dict[str, list[str | None]] = {key: [] for key in keys}
        for _ in range(3):  # each message tried three times, its tries interleaved with others'
            for key in order:
                drawn[key].append(chaos.draw(key))
        return drawn

    forwards = sequences(keys, seed=7)
    assert sequences(list(reversed(keys)), seed=7) == forwards
    assert sequences(keys, seed=8) != forwards
    faults = [fault for drawn in forwards.values() for fault in drawn]
    assert {"500", "timeout", "131047_async", None} <= set(faults)  # the rates really bite


def test_rates_must_make_a_distribution() -> None:
    with pytest.raises(ValueError, match="sum to at most 1"):
        Chaos(seed=1, rates={"500": 0.7, "429": 0.5})
    with pytest.raises(ValueError):
        Chaos(seed=1, rates={"500": -0.1})


async def test_unknown_faults_and_impossible_rates_are_refused(graph: Graph) -> None:
    answer = await graph.post("/_fake/chaos", {"seed": 1, "rates": {"gremlins": 0.5}})
    assert answer.status_code == 400 and "gremlins" in answer.text
    answer = await graph.post("/_fake/chaos", {"seed": 1, "rates": {"500": 0.8, "429": 0.8}})
    assert answer.status_code == 400
    assert (await graph.control.get("/_fake/chaos")).json() == {"chaos": None}


# ---------------------------------------------------------------- each fault, as the client sees it


@pytest.mark.parametrize(
    ("fault", "http_status", "error", "code"),
    [
        ("500", 500, e.ProviderUnavailable, "131000"),
        ("503", 503, e.ProviderUnavailable, "131000"),
        ("429", 429, e.RateLimited, "130429"),
        ("190", 401, e.AuthenticationFailed, "190"),
        ("131056", 400, e.PairRateLimited, "131056"),
        ("131026", 400, e.RecipientUnreachable, "131026"),
        ("131047", 400, e.WindowClosed, "131047"),
    ],
)
async def test_a_refusing_fault_answers_like_the_graph_api_and_delivers_nothing(
    graph: Graph, fault: str, http_status: int, error: type[e.SendError], code: str
) -> None:
    await graph.chaos(seed=1, rates={fault: 1.0})
    with pytest.raises(error) as raised:
        await graph.client().send_text(to=USER, body="halo", tracker="run-1:reply:0")
    assert raised.value.code == code
    [entry] = await graph.requests()
    assert entry["fault"] == fault
    assert (entry["outcome"], entry["delivered"], entry["failed"]) == (
        "refused",
        False,
        http_status,
    )
    assert "wamid" not in entry
    if fault == "429":
        assert isinstance(raised.value, e.TransientSendError)
        assert raised.value.retry_after == 1.0  # Retry-After: 1 reaches the client


async def test_a_late_answer_is_a_timeout_for_the_client_but_the_message_was_delivered(
    graph: Graph,
) -> None:
    await graph.chaos(seed=1, rates={"timeout": 1.0}, timeout_seconds=1.0)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        async with httpx.AsyncClient(timeout=0.3) as impatient:
            await impatient.post(
                f"{graph.base}/v22.0/{PHONE_NUMBER_ID}/messages",
                json={"messaging_product": "whatsapp", "to": USER, "text": {"body": "halo"}},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
    assert time.monotonic() - started < 0.9
    [entry] = await graph.requests()
    # Recorded as accepted while the request was still held: Meta has the message.
    assert entry["wamid"].startswith("wamid.")
    assert (entry["outcome"], entry["delivered"]) == ("accepted_late", True)
    assert entry["responded"] is False
    assert await eventually(lambda: graph.fake.recorder.requests[0]["responded"], timeout=3)


async def test_a_refused_timeout_holds_the_request_then_answers_504_without_a_message(
    graph: Graph,
) -> None:
    await graph.chaos(seed=1, rates={"timeout_refused": 1.0}, timeout_seconds=0.3)
    answer = await graph.control.post(
        f"/v22.0/{PHONE_NUMBER_ID}/messages",
        json={"messaging_product": "whatsapp", "to": USER, "text": {"body": "halo"}},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 504
    [entry] = await graph.requests()
    assert (entry["outcome"], entry["delivered"], entry["responded"]) == ("refused", False, True)
    assert entry["responded_at"] - entry["at"] >= 0.3
    assert "wamid" not in entry
    with pytest.raises(e.ProviderUnavailable):  # what a patient client makes of it
        await graph.client().send_text(to=USER, body="lagi")


async def test_latency_holds_an_accepted_send_so_a_test_can_act_mid_call(graph: Graph) -> None:
    await graph.chaos(seed=1, rates={}, latency_seconds=0.6)
    sending = asyncio.create_task(graph.client().send_text(to=USER, body="halo", tracker="k-1"))

    async def in_flight() -> list[dict[str, Any]]:
        return [r for r in await graph.requests() if not r["responded"]]

    [held] = await eventually(in_flight)
    assert held["wamid"] and held["delivered"] is True  # accepted before the answer left
    sent = await sending
    assert sent.provider_message_id == held["wamid"]
    [done] = await graph.requests()
    assert done["responded"] is True


async def test_send_chaos_leaves_reads_and_credential_probes_alone(graph: Graph) -> None:
    await graph.chaos(seed=1, rates={"500": 1.0})
    meta = graph.client()
    assert await meta.mark_read(message_id="wamid.IN1", typing=True) is True
    probe = await graph.control.get(
        f"/v22.0/{PHONE_NUMBER_ID}",
        params={"fields": "id"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert probe.json() == {"id": PHONE_NUMBER_ID}
    with pytest.raises(e.ProviderUnavailable):
        await meta.send_text(to=USER, body="halo")
    await graph.chaos(seed=1, rates={"500": 1.0}, kind="any")
    with pytest.raises(e.ProviderUnavailable):
        await meta.mark_read(message_id="wamid.IN1")


async def test_the_credential_probe_follows_the_token_the_fake_accepts(graph: Graph) -> None:
    def probe() -> Any:
        return graph.control.get(
            f"/v22.0/{PHONE_NUMBER_ID}",
            params={"fields": "id"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )

    assert (await probe()).status_code == 200
    (await graph.post("/_fake/token", {"access_token": "rotated"})).raise_for_status()
    refused = await probe()
    assert refused.status_code == 401 and refused.json()["error"]["code"] == 190
    assert [r["authorized"] for r in await graph.requests("probe")] == [True, False]


async def test_planned_failures_win_over_chaos_and_chaos_can_be_stopped(graph: Graph) -> None:
    await graph.chaos(seed=1, rates={"500": 1.0})
    (await graph.post("/_fake/fail", {"code": 131026, "times": 1})).raise_for_status()
    meta = graph.client()
    with pytest.raises(e.RecipientUnreachable):
        await meta.send_text(to=USER, body="satu")
    with pytest.raises(e.ProviderUnavailable):
        await meta.send_text(to=USER, body="dua")
    summary = (await graph.control.get("/_fake/chaos")).json()["chaos"]
    assert summary["drawn"] == {"500": 1}  # the planned failure drew nothing
    assert (await graph.control.delete("/_fake/chaos")).json() == {"chaos": None}
    sent = await meta.send_text(to=USER, body="tiga")
    entries = await graph.requests()
    assert [r["outcome"] for r in entries] == ["refused", "refused", "accepted"]
    assert entries[-1]["wamid"] == sent.provider_message_id


async def test_clearing_the_requests_also_stops_chaos_and_status_webhooks(
    graph: Graph, receiver: tuple[Receiver, str]
) -> None:
    _, url = receiver
    await graph.chaos(seed=1, rates={"500": 1.0})
    (await graph.post("/_fake/statuses", {"url": url, "app_secret": SECRET})).raise_for_status()
    (await graph.control.delete("/_fake/requests")).raise_for_status()
    assert (await graph.control.get("/_fake/chaos")).json() == {"chaos": None}
    assert (await graph.status_log())["config"] is None
    await graph.client().send_text(to=USER, body="halo")


# ---------------------------------------------------------------- status webhooks


async def test_accepted_sends_get_signed_status_webhooks_carrying_our_key(
    graph: Graph, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    configured = await graph.post(
        "/_fake/statuses",
        {"url": url, "app_secret": SECRET, "send": ["sent", "delivered"], "delay_seconds": 0.05},
    )
    assert configured.json()["config"]["send"] == ["sent", "delivered"]
    meta = graph.client()
    sent = await meta.send_text(to=USER, body="halo", tracker="run-9:reply:0")
    untracked = await meta.send_text(to=USER, body="tanpa kunci")

    assert await eventually(lambda: len(hook.received) == 4)
    for body, headers in hook.received:
        assert check_signature(body, headers[SIGNATURE_HEADER], SECRET) is SignatureCheck.VALID
    mine = [s for s in hook.statuses() if s["id"] == sent.provider_message_id]
    assert [s["status"] for s in mine] == ["sent", "delivered"]
    for status in mine:
        assert status["biz_opaque_callback_data"] == "run-9:reply:0"
        assert status["recipient_id"] == USER
        assert abs(int(status["timestamp"]) - time.time()) < 5
    other = [s for s in hook.statuses() if s["id"] == untracked.provider_message_id]
    assert len(other) == 2 and all("biz_opaque_callback_data" not in s for s in other)

    # …and the gateway's own parser reads the key back as the status's tracker.
    updates = [
        update
        for body, _ in hook.received
        for update in parse_payload(orjson.loads(body), now=datetime.now(UTC)).statuses
    ]
    trackers = {u.message_id: u.tracker for u in updates}
    assert trackers == {
        sent.provider_message_id: "run-9:reply:0",
        untracked.provider_message_id: None,
    }
    assert {u.channel_id for u in updates} == {PHONE_NUMBER_ID}

    async def settled() -> dict[str, Any] | None:
        log = await graph.status_log()
        return log if log["pending"] == 0 else None

    log = await eventually(settled)
    assert all(d["delivered"] and d["attempts"] == 1 for d in log["deliveries"])


async def test_an_asynchronous_failure_is_accepted_then_reported_as_a_failed_status(
    graph: Graph, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    await graph.post("/_fake/statuses", {"url": url, "app_secret": SECRET, "delay_seconds": 0})
    await graph.chaos(seed=3, rates={"131047_async": 1.0})
    sent = await graph.client().send_text(to=USER, body="halo", tracker="run-2:reply:0")
    [entry] = await graph.requests()
    assert entry["wamid"] == sent.provider_message_id
    assert (entry["outcome"], entry["delivered"], entry["async_failure"]) == (
        "async_failed",
        False,
        131047,
    )
    assert await eventually(lambda: len(hook.received) == 1)
    [status] = hook.statuses()  # only the failure: no "sent" or "delivered" before it
    assert status["status"] == "failed" and status["id"] == sent.provider_message_id
    assert status["errors"][0]["code"] == 131047
    [update] = parse_payload(orjson.loads(hook.received[0][0]), now=datetime.now(UTC)).statuses
    assert update.status is DeliveryStatus.FAILED
    assert [err.code for err in update.errors] == ["131047"]
    assert update.tracker == "run-2:reply:0"


async def test_a_refused_status_webhook_is_delivered_again_until_accepted(
    graph: Graph, serve_app: Any
) -> None:
    hook = Receiver(refuse=2)
    async with serve_app(hook.app) as base:
        await graph.post(
            "/_fake/statuses",
            {"url": f"{base}/webhook/whatsapp", "app_secret": SECRET, "send": ["sent"]},
        )
        await graph.client().send_text(to=USER, body="halo", tracker="run-3:reply:0")
        assert await eventually(lambda: len(hook.received) == 1, timeout=10)
    [delivery] = (await graph.status_log())["deliveries"]
    assert (delivery["attempts"], delivery["http_status"], delivery["delivered"]) == (3, 200, True)
    assert hook.refused == 2


async def test_a_gateway_that_never_answers_is_given_up_on_after_the_retry_period(
    graph: Graph, closed_port: int
) -> None:
    await graph.post(
        "/_fake/statuses",
        {
            "url": f"http://127.0.0.1:{closed_port}/webhook/whatsapp",
            "app_secret": SECRET,
            "send": ["sent"],
            "delay_seconds": 0,
            "retry_seconds": 0.6,
        },
    )
    await graph.client().send_text(to=USER, body="halo")

    async def settled() -> bool:
        return bool((await graph.status_log())["pending"] == 0)

    assert await eventually(settled, timeout=5)
    [delivery] = (await graph.status_log())["deliveries"]
    assert delivery["gave_up"] is True and delivery["delivered"] is False
    assert delivery["attempts"] >= 2 and delivery["http_status"] == "ConnectError"


async def test_stopping_status_webhooks_cancels_the_ones_under_way(
    graph: Graph, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    await graph.post("/_fake/statuses", {"url": url, "app_secret": SECRET, "delay_seconds": 5})
    await graph.client().send_text(to=USER, body="halo")
    assert (await graph.status_log())["pending"] == 1
    assert (await graph.control.delete("/_fake/statuses")).json() == {"config": None}
    assert await eventually(lambda: not graph.fake._tasks)
    assert hook.received == []


async def test_statuses_can_come_in_reverse_and_twice_as_meta_allows(
    graph: Graph, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    await graph.post(
        "/_fake/statuses",
        {"url": url, "app_secret": SECRET, "delay_seconds": 0, "reverse": True, "duplicate": True},
    )
    sent = await graph.client().send_text(to=USER, body="halo", tracker="run-4:reply:0")
    assert await eventually(lambda: len(hook.received) == 4)
    statuses = hook.statuses()
    assert [s["status"] for s in statuses] == ["delivered", "delivered", "sent", "sent"]
    assert {s["id"] for s in statuses} == {sent.provider_message_id}
    assert hook.received[0][0] == hook.received[1][0]  # a redelivery: the very same bytes


async def test_an_edge_failure_after_acceptance_delivers_but_answers_an_error(
    graph: Graph, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    await graph.post("/_fake/statuses", {"url": url, "app_secret": SECRET, "send": ["sent"]})
    await graph.chaos(seed=1, rates={"502_accepted": 1.0})
    with pytest.raises(e.ProviderUnavailable):
        await graph.client().send_text(to=USER, body="halo", tracker="run-5:reply:0")
    [entry] = await graph.requests()
    assert (entry["outcome"], entry["delivered"], entry["failed"]) == ("accepted", True, 502)
    assert await eventually(lambda: len(hook.received) == 1)
    [status] = hook.statuses()  # Meta has it: its statuses follow as usual
    assert (status["id"], status["biz_opaque_callback_data"]) == (entry["wamid"], "run-5:reply:0")
