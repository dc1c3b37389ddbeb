"""Fault injection: real processes, real PostgreSQL, fake peers over HTTP.

Each scenario sends conversations through the real webhook path (retrying like Meta until a
200), injects one kind of fault while they are processed, waits until nothing is left to do,
and then counts: every acknowledged message must be answered exactly once, or be a dead letter,
or have gone by e-mail — never lost, never doubled, never both delivered and dead-lettered (a
replay of such a dead letter would deliver it twice). The ledger in `faults.py` explains every
message that breaks the rule.

Faults: workers SIGKILLed while a send is in flight; the web process restarted (gracefully and
with SIGKILL) while webhooks arrive; PostgreSQL restarted (fast, then a crash) under load; the
Graph API failing with a seeded mix of 5xx, timeouts, 429, 190, 131056 and asynchronous 131047
failures, with one process and with 2 web + 2 worker processes (answers in order, too).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.faults import (
    CHAOS_RATES,
    FAST_SETTINGS,
    FINAL_FAULT_CODES,
    HELD_SECONDS,
    PROBLEMS,
    Ledger,
    Mailbox,
    Tally,
    WebhookDriver,
    attach_inbound_markers,
    calm,
    chaos,
    dead_letter_evidence,
    explain_with_rows,
    held_sends,
    link_accounts_with_email,
    markers_in,
    new_graph,
    phones,
    post_statuses,
    private_postgres,
    send_text,
    settle,
    status_log,
    tally,
)
from tests.e2e.harness import (
    FakePeer,
    Gateway,
    Process,
    fresh_database,
    start_worker,
    tag,
    wait_until,
)

pytestmark = pytest.mark.e2e


def start_gateway(
    workdir: Path,
    database_url: str,
    graph: FakePeer,
    fake_ai: FakePeer,
    *,
    worker: bool,
    **settings: str,
) -> Gateway:
    return Gateway(
        workdir,
        database_url=database_url,
        graph_url=f"{graph.url}/v22.0",
        ai_url=f"{fake_ai.url}/v1",
        worker=worker,
        **(FAST_SETTINGS | settings),
    ).start()


def start_workers(web: Gateway, labels: Sequence[str]) -> list[Process]:
    return [start_worker(web, label) for label in labels]


def delivered(graph: FakePeer) -> list[dict[str, Any]]:
    return [r for r in graph.requests("send") if r.get("delivered")]


@dataclass
class Verdict:
    """Everything wrong with a scenario, gathered before failing, so one run shows every way
    a message was lost or doubled rather than the first."""

    result: Tally
    dead: list[dict[str, Any]]
    report: str
    violations: list[str] = field(default_factory=list)

    def require(self, holds: bool, violation: str) -> None:
        if not holds:
            self.violations.append(violation)

    def conclude(self) -> None:
        assert not self.violations, "\n".join(
            ["VIOLATIONS:", *(f"* {v}" for v in self.violations), "", "LEDGER:", self.report]
        )


def account(
    ledger: Ledger,
    graph: FakePeer,
    gateway: Gateway,
    database_url: str,
    *,
    busy: str | None,
    logs: Sequence[Path],
    mailbox: Mailbox | None = None,
    notes: Sequence[str] = (),
    allowed: frozenset[str] = frozenset({"answered"}),
    in_order: bool = False,
) -> Verdict:
    """Tally the ledger against the rule; the report explains every message that breaks it
    (its sends at the fake, its outbound rows, the log lines about those rows)."""
    dead = attach_inbound_markers(dead_letter_evidence(gateway, database_url), ledger)
    result = tally(
        ledger,
        sends=graph.requests("send"),
        dead_letters=dead,
        emails=mailbox.texts() if mailbox else [],
        notes=[*notes, *([busy] if busy else [])],
    )
    report = result.report(explain_with_rows(database_url, logs))
    (gateway.workdir / f"ledger-{gateway.port}.txt").write_text(report)
    print(report)  # visible with -s, and kept next to the logs
    verdict = Verdict(result, dead, report)
    counts = result.counts()
    verdict.require(not result.unacked, f"never acknowledged: {len(result.unacked)}")
    verdict.require(busy is None, f"the gateway never settled: {busy}")
    for problem in PROBLEMS:
        verdict.require(not counts[problem], f"{problem}: {counts[problem]} messages")
    verdict.require(not result.misrouted, f"answers to the wrong number: {result.misrouted}")
    unexpected = {k: v for k, v in counts.items() if k not in allowed and k not in PROBLEMS}
    verdict.require(not unexpected, f"fates this fault must not cause: {unexpected}")
    if in_order:
        verdict.require(
            not result.order_violations,
            f"answers out of order in {len(result.order_violations)} conversations",
        )
    return verdict


@contextlib.contextmanager
def stopping(*things: Any) -> Iterator[None]:
    """Stop processes and peers whatever happens; a list is read at exit (it may be replaced)."""
    try:
        yield
    finally:
        for thing in things:
            for item in thing if isinstance(thing, list) else [thing]:
                with contextlib.suppress(Exception):
                    item.stop()


# ---------------------------------------------------------------- (a) workers killed


def test_workers_killed_mid_send_lose_nothing_and_send_nothing_twice(
    workdir: Path, fake_ai: FakePeer
) -> None:
    """Three times, while the fake Graph API holds an accepted send (the message is with Meta,
    its answer not back yet), every worker is SIGKILLed and fresh ones are started. What the
    killed workers were sending must be reconciled — the status webhooks carry our idempotency
    key — not sent again; and the conversations they held must still be answered."""
    graph = new_graph(workdir)
    ledger = Ledger()
    conversations = [ledger.conversation(phone, 3) for phone in phones(1, 24)]
    workers: list[Process] = []
    with fresh_database() as url:
        # Two jobs per worker: a kill strands at most four conversations until the sweep finds
        # them, so the others keep sending and the next kill again lands mid-send.
        web = start_gateway(workdir, url, graph, fake_ai, worker=False, WORKER_CONCURRENCY="2")
        driver = WebhookDriver(ledger, conversations, [web], spacing=1.5, stagger=0.25)
        with stopping(driver, workers, web, graph):
            post_statuses(graph, web)
            # Every send is held 0.4 s after Meta accepted it: a kill lands mid-call.
            chaos(graph, seed=1, rates={}, latency_seconds=0.4)
            workers.extend(start_workers(web, ["a0", "a1"]))
            driver.start()
            killed_mid_send: list[str] = []
            for round_number in range(3):
                wait_until(lambda n=round_number: len(delivered(graph)) >= 4 + 12 * n, timeout=90)
                held = wait_until(lambda: held_sends(graph), timeout=30, every=0.02)
                for worker in workers:
                    worker.kill()
                killed_mid_send += [h["body"].get("biz_opaque_callback_data") for h in held]
                workers[:] = start_workers(web, [f"a{round_number}-{n}" for n in range(2)])
            driver.join(timeout=120)
            # A killed worker's job keeps its conversation locked until the worker's heartbeat
            # is 60 s old (jobs/worker.py STALLED_AFTER): settling takes over a minute.
            busy = settle(url, graph, timeout=150)
            assert web.process is not None
            logs = [web.process.log_path, *sorted(workdir.glob(f"worker-a*-{web.port}.log"))]
            verdict = account(
                ledger,
                graph,
                web,
                url,
                busy=busy,
                logs=logs,
                notes=[f"sends in flight when the workers were killed (keys): {killed_mid_send}"],
            )
            verdict.conclude()


# ---------------------------------------------------------------- (b) the web process restarted


def test_the_web_process_restarted_while_webhooks_arrive_loses_nothing(
    workdir: Path, fake_ai: FakePeer
) -> None:
    """The web process (webhooks in, statuses in) is stopped gracefully, and later SIGKILLed,
    while conversations arrive; Meta's retries — of messages and of statuses — find it back."""
    graph = new_graph(workdir)
    ledger = Ledger()
    conversations = [ledger.conversation(phone, 3) for phone in phones(2, 20)]
    workers: list[Process] = []
    with fresh_database() as url:
        web = start_gateway(workdir, url, graph, fake_ai, worker=False)
        driver = WebhookDriver(ledger, conversations, [web], spacing=0.8, stagger=0.2)
        with stopping(driver, workers, web, graph):
            post_statuses(graph, web)
            chaos(graph, seed=2, rates={}, latency_seconds=0.1)
            workers.extend(start_workers(web, ["b0"]))
            driver.start()
            wait_until(lambda: len(ledger.acked()) >= 15, timeout=60)
            web.stop()
            web.start()
            wait_until(lambda: len(ledger.acked()) >= 35, timeout=60)
            web.kill()
            web.start()
            driver.join(timeout=120)
            busy = settle(url, graph, timeout=90)
            assert web.process is not None
            verdict = account(
                ledger,
                graph,
                web,
                url,
                busy=busy,
                logs=[web.process.log_path, workers[0].log_path],
                notes=[f"webhook refusals seen by the sender: {dict(driver.refusals)}"],
            )
            verdict.require(bool(driver.refusals), "TEST: the restarts never refused a webhook")
            verdict.conclude()


# ---------------------------------------------------------------- (c) PostgreSQL restarted


def test_postgresql_restarted_under_load_loses_nothing(workdir: Path, fake_ai: FakePeer) -> None:
    """A private cluster is restarted twice under load — `fast` (every connection dropped),
    then `immediate` (a crash, recovery on start) — behind one `wagate serve` with its worker.
    Webhooks refused meanwhile are retried; the process must ride it out and answer them all."""
    graph = new_graph(workdir)
    ledger = Ledger()
    conversations = [ledger.conversation(phone, 3) for phone in phones(3, 20)]
    with private_postgres() as pg:
        gateway = start_gateway(workdir, pg.url, graph, fake_ai, worker=True)
        driver = WebhookDriver(ledger, conversations, [gateway], spacing=0.8, stagger=0.2)
        with stopping(driver, gateway, graph):
            post_statuses(graph, gateway)
            chaos(graph, seed=3, rates={}, latency_seconds=0.1)
            driver.start()
            wait_until(lambda: len(ledger.acked()) >= 12, timeout=60)
            pg.restart("fast", down_seconds=2.0)
            wait_until(lambda: len(ledger.acked()) >= 35, timeout=90)
            pg.restart("immediate", down_seconds=2.0)
            driver.join(timeout=120)
            busy = settle(pg.url, graph, timeout=90)
            assert gateway.process is not None
            alive = gateway.process.alive()
            verdict = account(
                ledger,
                graph,
                gateway,
                pg.url,
                busy=busy,
                logs=[gateway.process.log_path],
                notes=[f"webhook refusals seen by the sender: {dict(driver.refusals)}"],
            )
            verdict.require(alive, f"the gateway died:\n{gateway.process.log_tail(30)}")
            verdict.require(
                "5" in "".join(driver.refusals), "TEST: the outages never refused a webhook"
            )
            verdict.conclude()


# ---------------------------------------------------------------- (d) the Graph API misbehaves


def chaos_then_calm(
    graph: FakePeer, ledger: Ledger, driver: WebhookDriver, seed: int
) -> dict[str, Any]:
    """The seeded mix while the conversations arrive and are first answered; then calm, so what
    is still being retried can finish. Returns what the chaos drew."""
    chaos(graph, seed=seed, rates=CHAOS_RATES, timeout_seconds=HELD_SECONDS, latency_seconds=0.05)
    driver.start()
    driver.join(timeout=120)

    def every_answer_tried() -> bool:
        tried = {m for r in graph.requests("send") for m in markers_in(send_text(r))}
        return all(m.marker in tried for m in ledger.acked())

    with contextlib.suppress(AssertionError):  # one never tried shows up in the ledger instead
        wait_until(every_answer_tried, timeout=60, every=0.5)
    drawn = calm(graph)
    assert drawn is not None
    return drawn


def check_failures_are_final(verdict: Verdict, *, emails_for: set[str] | None = None) -> None:
    """Of the mix, only 131047 is a message's own final failure. A dead letter (or e-mail) for
    anything else — 190, a timeout, a 5xx — took a transient or account-wide fault for the
    message's fate; an inbound dead letter means a Graph API fault broke processing itself."""
    codes = {str(d["errorCode"]) for d in verdict.dead if "errorCode" in d}
    verdict.require(
        codes <= FINAL_FAULT_CODES,
        f"dead letters with codes {sorted(codes - FINAL_FAULT_CODES)} (only 131047 is final): "
        + "; ".join(
            f"#{d['id']} {d['errorCode']} {d.get('error')}"
            for d in verdict.dead
            if str(d.get("errorCode")) not in FINAL_FAULT_CODES and "errorCode" in d
        ),
    )
    inbound = [d for d in verdict.dead if "inbound_dead_letter" in d or "messageIds" in d]
    verdict.require(not inbound, f"inbound bursts dead-lettered: {inbound}")
    for marker, fate in verdict.result.fates.items():
        if fate.name in ("dead_lettered", "emailed"):
            failures = [s.get("async_failure") for s in fate.other_sends]
            verdict.require(
                131047 in failures, f"{marker} {fate.name} without a 131047 failure: {failures}"
            )
    if emails_for is not None:
        stranded = [
            m
            for m, f in verdict.result.fates.items()
            if f.name == "dead_lettered" and f.phone in emails_for
        ]
        verdict.require(
            not stranded,
            f"failed for good, contact has an e-mail address, no e-mail sent: {stranded}",
        )


def test_the_graph_api_failing_at_random_loses_and_doubles_nothing(
    workdir: Path, fake_ai: FakePeer
) -> None:
    """One gateway process against a Graph API failing about a third of sends in a seeded mix —
    500, accepted-then-timed-out, never-accepted timeouts, 429, 190, 131056 and asynchronous
    131047 — with status webhooks on. Half the contacts have an e-mail address: a reply that
    fails for good reaches them by e-mail; the others' replies become dead letters."""
    graph = new_graph(workdir)
    ledger = Ledger()
    numbers = phones(4, 30)
    conversations = [ledger.conversation(phone, 3) for phone in numbers]
    with_email = {phone: f"{tag(phone)}@example.test" for phone in numbers[::2]}
    with Mailbox() as mailbox, fresh_database() as url:
        gateway = start_gateway(workdir, url, graph, fake_ai, worker=True, **mailbox.settings())
        driver = WebhookDriver(ledger, conversations, [gateway], spacing=0.8, stagger=0.1)
        with stopping(driver, gateway, graph):
            link_accounts_with_email(gateway, with_email)
            post_statuses(graph, gateway)
            drawn = chaos_then_calm(graph, ledger, driver, seed=7)
            busy = settle(url, graph, timeout=120)
            assert gateway.process is not None
            verdict = account(
                ledger,
                graph,
                gateway,
                url,
                busy=busy,
                logs=[gateway.process.log_path],
                mailbox=mailbox,
                notes=[f"chaos drawn: {drawn['drawn']}", f"statuses: {status_summary(graph)}"],
                allowed=frozenset({"answered", "dead_lettered", "emailed"}),
            )
            kinds = {k for k, v in drawn["drawn"].items() if v and k != "none"}
            verdict.require(len(kinds) >= 5, f"TEST: too few kinds of fault drawn: {kinds}")
            check_failures_are_final(verdict, emails_for=set(with_email))
            verdict.conclude()


def status_summary(graph: FakePeer) -> dict[str, Any]:
    deliveries = status_log(graph)["deliveries"]
    return {
        "posted": len(deliveries),
        "delivered": sum(1 for d in deliveries if d["delivered"]),
        "retried": sum(1 for d in deliveries if d["attempts"] > 1),
        "gave_up": sum(1 for d in deliveries if d["gave_up"]),
    }


# ---------------------------------------------------------------- (e) many processes at once


def test_two_web_and_two_worker_processes_under_graph_chaos_answer_once_and_in_order(
    workdir: Path, fake_ai: FakePeer
) -> None:
    """2 × `serve --no-worker` + 2 × `worker` on one database, webhooks spread over both web
    processes, the Graph API failing in the seeded mix: besides once-only, each conversation's
    answers reach the user in the order its messages were sent."""
    graph = new_graph(workdir)
    ledger = Ledger()
    conversations = [ledger.conversation(phone, 3) for phone in phones(5, 24)]
    workers: list[Process] = []
    settings = FAST_SETTINGS | {"WORKER_CONCURRENCY": "4"}  # 4 processes share PostgreSQL
    with fresh_database() as url:
        web = start_gateway(workdir, url, graph, fake_ai, worker=False, **settings)
        second = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{graph.url}/v22.0",
            ai_url=f"{fake_ai.url}/v1",
            worker=False,
            data_dir=web.data_dir,  # the same keys
            **settings,
        ).start()
        driver = WebhookDriver(ledger, conversations, [web, second], spacing=0.8, stagger=0.1)
        with stopping(driver, workers, second, web, graph):
            post_statuses(graph, web)
            workers.extend(start_workers(web, ["e0", "e1"]))
            drawn = chaos_then_calm(graph, ledger, driver, seed=11)
            busy = settle(url, graph, timeout=120)
            logs = [g.process.log_path for g in (web, second) if g.process is not None]
            verdict = account(
                ledger,
                graph,
                web,
                url,
                busy=busy,
                logs=[*logs, *(w.log_path for w in workers)],
                notes=[f"chaos drawn: {drawn['drawn']}", f"statuses: {status_summary(graph)}"],
                allowed=frozenset({"answered", "dead_lettered"}),
                in_order=True,
            )
            check_failures_are_final(verdict)
            verdict.conclude()


# ---------------------------------------------------------------- the sharpest single case


def test_a_send_accepted_but_answered_after_the_client_timeout_is_not_sent_again(
    workdir: Path, fake_ai: FakePeer
) -> None:
    """Meta takes the message and answers after the client has given up: the outcome is
    unknown to the gateway, but status webhooks carrying our idempotency key arrive within a
    second. The reply must not be sent a second time."""
    graph = new_graph(workdir)
    ledger = Ledger()
    conversation = ledger.conversation(phones(6, 1)[0], 1)
    with fresh_database() as url:
        gateway = start_gateway(workdir, url, graph, fake_ai, worker=True)
        driver = WebhookDriver(ledger, [conversation], [gateway])
        with stopping(driver, gateway, graph):
            post_statuses(graph, gateway)
            chaos(graph, seed=1, rates={"timeout": 1.0}, timeout_seconds=HELD_SECONDS)
            driver.start()
            [held] = wait_until(lambda: held_sends(graph), timeout=30)
            calm(graph)  # only the first try is held; another would be answered at once
            busy = settle(url, graph, timeout=60)
            assert gateway.process is not None
            verdict = account(
                ledger,
                graph,
                gateway,
                url,
                busy=busy,
                logs=[gateway.process.log_path],
                notes=[f"held send: key {held['body'].get('biz_opaque_callback_data')}"],
            )
            verdict.conclude()
