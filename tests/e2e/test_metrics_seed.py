"""Issue 17's check: after one conversation `/metrics` carries the seed's five metrics with
sensible values, over real HTTP from a running gateway; and every metric the shipped alert
rules and Grafana dashboard query is one the gateway exposes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.harness import (
    API_TOKEN,
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    fresh_database,
    start_worker,
    tag,
    wait_until,
)
from tests.promql import DASHBOARDS, dashboard_queries, metric_names
from wagate.fakes.payloads import meta_text, new_wamid

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
SEED = (
    "whatsapp_message_total",
    "whatsapp_response_time_seconds",
    "whatsapp_error_total",
    "whatsapp_intake_total",
    "whatsapp_queue_depth",
)
# Prometheus' own series about its targets, not the gateway's.
PROMETHEUS_OWN = {"up"}

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(gateway: Gateway) -> str:
    response = gateway.http.get("/metrics", headers={"Authorization": f"Bearer {API_TOKEN}"})
    response.raise_for_status()
    return response.text


def series(text: str) -> Series:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def get(found: Series, name: str, **labels: str) -> float:
    return found.get((name, frozenset({"tenant": "default", **labels}.items())), 0.0)


def test_one_conversation_puts_the_five_seed_metrics_on_metrics(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    before = series(scrape(gateway))
    wamid = new_wamid()
    payload = meta_text(
        phone_number_id=PHONE_NUMBER_ID,
        sender=sender,
        text=f"Jam berapa kantor buka {tag(sender)}?",
        message_id=wamid,
    )
    assert gateway.post_meta(payload).status_code == 200
    assert gateway.post_meta(payload).status_code == 200  # Meta delivers it again
    assert gateway.post_meta(payload, secret="not-the-app-secret").status_code == 403
    wait_until(
        lambda: [r for r in fake_meta.requests("send") if r["body"].get("to") == sender],
        timeout=30,
    )

    def answered() -> Series | None:
        now = series(scrape(gateway))
        count = "whatsapp_response_time_seconds_count"
        done = get(now, count, provider="meta") > get(before, count, provider="meta")
        return now if done else None

    after: Series = wait_until(answered, timeout=20)
    text = scrape(gateway)

    def grew(name: str, **labels: str) -> float:
        return get(after, name, **labels) - get(before, name, **labels)

    # whatsapp_message_total: this message in (once, though delivered twice), the answer out.
    received = {"direction": "in", "provider": "meta", "status": "received"}
    assert grew("whatsapp_message_total", **received) >= 1
    assert grew("whatsapp_message_total", direction="out", provider="meta", status="sent") >= 1
    assert grew("whatsapp_webhook_duplicate_total", provider="meta", kind="message") >= 1
    assert grew("whatsapp_webhook_rejected_total", provider="meta", reason="forged") >= 1
    # whatsapp_response_time_seconds: a few seconds here (no debounce in these tests), well
    # inside the SLA; the buckets are cumulative up to the count.
    answers = grew("whatsapp_response_time_seconds_count", provider="meta")
    seconds = grew("whatsapp_response_time_seconds_sum", provider="meta")
    assert answers >= 1 and 0 < seconds / answers < 30
    inf = get(after, "whatsapp_response_time_seconds_bucket", provider="meta", le="+Inf")
    assert inf == get(after, "whatsapp_response_time_seconds_count", provider="meta")
    sla = get(after, "whatsapp_sla_seconds")
    assert sla == 30.0
    # whatsapp_error_total: declared (no provider failed in this conversation).
    assert "# TYPE whatsapp_error_total counter" in text
    # whatsapp_intake_total: the counter exists, at 0 until case intake is built (issue 16).
    assert ("whatsapp_intake_total", frozenset({("tenant", "default")})) in after
    assert get(after, "whatsapp_intake_total") >= 0
    # whatsapp_queue_depth: jobs waiting, never negative, whole numbers.
    for state in ("ready", "scheduled"):
        depth = get(after, "whatsapp_queue_depth", state=state)
        assert depth >= 0 and depth == int(depth)
    assert ("whatsapp_queue_depth", frozenset({("tenant", "default"), ("state", "ready")})) in after
    for name in SEED:
        assert f"# TYPE {name.removesuffix('_total')}" in text, name
    # The debounce merged this message into a run of its own.
    assert grew("whatsapp_debounce_batch_size_count") >= 1
    # The process answering the scrape (seed 001's uptime and memory).
    assert after[("wagate_uptime_seconds", frozenset())] > 0
    assert after[("process_resident_memory_bytes", frozenset())] > 10_000_000
    assert after[("process_cpu_seconds_total", frozenset())] > 0


def test_what_a_separate_worker_counted_reaches_the_web_process_metrics_and_outlives_it(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    """`serve --no-worker` and `wagate worker` are two processes: the reply is sent, and
    timed, in the worker; the web process answers the scrape. The worker's counts reach the
    shared sums within its flush interval, and stay after it stops (and after a restart of
    the web process, whose own counts are in the database too)."""
    sent = {"direction": "out", "provider": "meta", "status": "sent"}
    received = {"direction": "in", "provider": "meta", "status": "received"}
    with fresh_database() as url:
        web = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            ai_url=f"{fake_ai.url}/v1",
            worker=False,
        ).start()
        try:
            worker = start_worker(web, "metrics")
            try:
                payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="Halo")
                assert web.post_meta(payload).status_code == 200

                def counted() -> Series | None:
                    now = series(scrape(web))
                    return now if get(now, "whatsapp_message_total", **sent) >= 1 else None

                found: Series = wait_until(counted, timeout=30)
            finally:
                worker.stop()
            assert get(found, "whatsapp_response_time_seconds_count", provider="meta") == 1
            assert get(found, "whatsapp_message_total", **received) == 1
            web.stop()
            web.start()
            again = series(scrape(web))
        finally:
            web.stop()
    assert get(again, "whatsapp_message_total", **sent) == 1
    assert get(again, "whatsapp_message_total", **received) == 1
    assert get(again, "whatsapp_response_time_seconds_count", provider="meta") == 1


def test_a_tenant_token_sees_its_own_figures_and_not_the_host(gateway: Gateway) -> None:
    firm = f"metrics-{uuid.uuid4().hex[:8]}"
    created = gateway.api_post("/api/tenants", {"id": firm, "name": "Metrics Firm"})
    assert created.status_code == 201, created.text
    issued = gateway.api_post(f"/api/tenants/{firm}/tokens", {"name": "prometheus"})
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    response = gateway.http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    found = series(response.text)
    assert {dict(labels).get("tenant") for _, labels in found} - {None} == {firm}
    assert found[("whatsapp_intake_total", frozenset({("tenant", firm)}))] == 0
    assert not any(name.startswith(("process_", "wagate_uptime")) for name, _ in found)


def test_every_metric_the_alerts_and_the_dashboard_query_is_exposed(gateway: Gateway) -> None:
    exposed = set(PROMETHEUS_OWN)
    for family in text_string_to_metric_families(scrape(gateway)):
        # Declared families count even before a first sample (an error class not yet seen).
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
        exposed.add(family.name)
        exposed.update(family.name + suffix for suffix in suffixes.get(family.type, ()))
        exposed.update(sample.name for sample in family.samples)
    assert DASHBOARDS, "deploy/grafana/ holds no dashboard"
    queries = list(_alert_expressions()) + [q for d in DASHBOARDS for q in dashboard_queries(d)]
    used = {name for query in queries for name in metric_names(query)}
    assert len(used) >= 15  # the parse found the queries' metrics
    assert used <= exposed, f"not exposed: {sorted(used - exposed)}"


def _alert_expressions() -> Iterator[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            yield str(rule["expr"])
