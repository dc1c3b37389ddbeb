"""Fault injection: real processes, real PostgreSQL, fake peers over HTTP.

Each scenario sends conversations through the real webhook path (retrying like Meta until a
200), injects one kind of fault while they are processed, waits until nothing is left to do,
and then counts: every acknowledged message must be answered exactly once, or be a dead letter,
or have gone by e-mail — never lost, never doubled, never both delivered and dead-lettered (a
replay of such a dead letter would deliver it twice). The ledger in `faults.py` explains every
message that breaks the rule.

Faults: (a) workers SIGKILLed while a send is in flight; (b) the web process restarted
(gracefully and with SIGKILL) while webhooks arrive; (c) PostgreSQL restarted (fast, then a
crash) under load; (d) the Graph API failing with a seeded mix of 5xx, timeouts, 429, 190,
131056 and asynchronous 131047 failures, with e-mail fallback; (e) the same with 2 web + 2
worker processes (answers in order, too); (f) all of it at once, with statuses reversed and
doubled and messages redelivered. Then the sharpest single cases, each one message, each a race
the scenarios above hit only by chance: an answer after the client's timeout, a 131047 status
that overtakes the send's answer, a 502 after Meta took the message, a worker killed while the
mail server is taking the fallback e-mail.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
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
    is_inbound_dead_letter,
    link_accounts_with_email,
    log_lines,
    marker_for,
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
    """Several `wagate worker` processes, started together (a restart after a kill should not
    take one start-up per worker)."""
    workers = [
        Process(
            [sys.executable, "-m", "wagate", "worker"],
            web.env,
            web.workdir / f"worker-{label}-{web.port}.log",
        )
        for label in labels
    ]
    for worker in workers:
        wait_until(
            lambda w=worker: "worker.started" in w.log_tail(200) or not w.alive(), timeout=60
        )
        assert worker.alive(), f"worker exited:\n{worker.log_tail()}"
    return workers


def answered_markers(graph: FakePeer) -> set[str]:
    return {m for r in delivered(graph) for m in markers_in(send_text(r))}


def delivered(graph: FakePeer) -> list[dict[str, Any]]:
    return [r for r in graph.requests("send") if r.get("delivered")]


def markers_reach(graph: FakePeer, count: int) -> Callable[[], bool]:
    return lambda: len(answered_markers(graph)) >= count


def acknowledged(ledger: Ledger, count: int) -> Callable[[], bool]:
    return lambda: len(ledger.acked()) >= count


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
        notes=[
            *notes,
            *(
                [f"e-mails received again under the same Message-ID: {mailbox.resent()}"]
                if mailbox
                else []
            ),
            *([busy] if busy else []),
        ],
    )
    unwanted = set(PROBLEMS) | (set(result.counts()) - allowed)
    report = result.report(explain_with_rows(database_url, logs), explain=unwanted)
    (gateway.workdir / f"ledger-{gateway.port}.txt").write_text(report)
    print(report)  # visible with -s, and kept next to the logs
    verdict = Verdict(result, dead, report)
    counts = result.counts()
    verdict.require(not result.unacked, f"never acknowledged: {len(result.unacked)}")
    verdict.require(busy is None, f"the gateway never settled: {busy}")
    for problem in PROBLEMS:
        verdict.require(not counts[problem], f"{problem}: {counts[problem]} messages")
    verdict.require(not result.misrouted, f"answers to the wrong number: {result.misrouted}")
    unlisted = [d for d in dead if d.get("listed_by_api") is False]
    verdict.require(not unlisted, f"inbound dead letters GET /api/dead-letters omits: {unlisted}")
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
    conversations = [ledger.conversation(phone, 3) for phone in phones(1, 20)]
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
            answered_before = 0
            for round_number in range(3):
                # Some progress between kills (answers carry several markers when a stranded
                # conversation's messages merge into one burst, so markers are counted).
                wait_until(markers_reach(graph, answered_before + 6), timeout=90)
                held = wait_until(lambda: held_sends(graph), timeout=30, every=0.02)
                for worker in workers:
                    worker.kill()
                killed_mid_send += [h["body"].get("biz_opaque_callback_data") for h in held]
                answered_before = len(answered_markers(graph))
                workers[:] = start_workers(web, [f"a{round_number}-{n}" for n in range(2)])
            driver.join(timeout=120)
            # A killed worker's job keeps its conversation locked until the worker's heartbeat
            # is STALLED_AFTER old (jobs/worker.py, 15 s): the last conversations wait that long.
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
    while conversations arrive; Meta's retries — of messages and of statuses — find it back.
    Debounce is on here (1 s): bursts are deferred and merged while the restarts happen."""
    graph = new_graph(workdir)
    ledger = Ledger()
    conversations = [ledger.conversation(phone, 3) for phone in phones(2, 16)]
    workers: list[Process] = []
    with fresh_database() as url:
        web = start_gateway(
            workdir,
            url,
            graph,
            fake_ai,
            worker=False,
            DEBOUNCE_SECONDS="1",
            DEBOUNCE_MAX_SECONDS="3",
        )
        driver = WebhookDriver(ledger, conversations, [web], spacing=0.8, stagger=0.2)
        with stopping(driver, workers, web, graph):
            post_statuses(graph, web)
            chaos(graph, seed=2, rates={}, latency_seconds=0.1)
            workers.extend(start_workers(web, ["b0"]))
            driver.start()
            wait_until(acknowledged(ledger, 12), timeout=60)
            web.stop()
            web.start()
            wait_until(acknowledged(ledger, 24), timeout=60)
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
    then `immediate` (a crash, recovery on start) — behind one `wagate serve` with its worker,
    each time while Meta holds the answer to an accepted send: the gateway cannot record that
    send's outcome until the database is back. Webhooks refused meanwhile are retried; the
    process must ride it out and answer everything once."""
    graph = new_graph(workdir)
    ledger = Ledger()
    conversations = [ledger.conversation(phone, 3) for phone in phones(3, 16)]
    with private_postgres() as pg:
        # A send whose outcome PostgreSQL could not take is settled by its status webhook, which
        # Meta (here the fake: pauses up to 3 s) redelivers once the database is back; only
        # after the reconcile time without one may it go again (the design's documented
        # duplicate risk). So that time must outlast the outage (2 s) plus that redelivery
        # pause, as production's 20 s does; the suite's 3 s raced it.
        gateway = start_gateway(
            workdir, pg.url, graph, fake_ai, worker=True, SEND_RECONCILE_SECONDS="10"
        )
        driver = WebhookDriver(ledger, conversations, [gateway], spacing=0.8, stagger=0.2)
        with stopping(driver, gateway, graph):
            post_statuses(graph, gateway)
            chaos(graph, seed=3, rates={}, latency_seconds=0.5)
            driver.start()
            held_at_restart: list[str] = []
            for acked, mode in ((10, "fast"), (28, "immediate")):
                wait_until(acknowledged(ledger, acked), timeout=90)
                held = wait_until(lambda: held_sends(graph), timeout=30, every=0.02)
                pg.restart(mode, down_seconds=2.0)
                held_at_restart += [h["body"].get("biz_opaque_callback_data") for h in held]
            driver.join(timeout=120)
            busy = settle(pg.url, graph, timeout=90)
            assert gateway.process is not None
            alive = gateway.process.alive()
            # `serve` runs its worker as a task: the process can live on without it.
            worker_stopped = log_lines([gateway.process.log_path], "worker.stopped", "sweep.")
            verdict = account(
                ledger,
                graph,
                gateway,
                pg.url,
                busy=busy,
                logs=[gateway.process.log_path],
                notes=[
                    f"webhook refusals seen by the sender: {dict(driver.refusals)}",
                    f"sends held when PostgreSQL went down (keys): {held_at_restart}",
                ],
            )
            verdict.require(alive, f"the gateway died:\n{gateway.process.log_tail(30)}")
            verdict.require(
                "worker.stopped" not in worker_stopped,
                f"the gateway's worker stopped while the process lives on:\n{worker_stopped}",
            )
            verdict.require(
                any(status.startswith("5") for status in driver.refusals),
                "TEST: the outages never made the gateway refuse a webhook",
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
            json.dumps({k: d.get(k) for k in ("id", "kind", "errorCode", "error", "attempts")})
            for d in verdict.dead
            if str(d.get("errorCode")) not in FINAL_FAULT_CODES and "errorCode" in d
        ),
    )
    inbound = [d for d in verdict.dead if is_inbound_dead_letter(d)]
    verdict.require(not inbound, f"inbound bursts dead-lettered: {inbound}")
    for marker, fate in verdict.result.fates.items():
        if fate.name in ("dead_lettered", "emailed"):
            failures = [s.get("async_failure") for s in fate.other_sends]
            verdict.require(
                131047 in failures, f"{marker} {fate.name} without a 131047 failure: {failures}"
            )
    if emails_for is not None:
        stranded = [
            f"{m} (dead letter #{d.get('id')}, e-mail: {d.get('email')})"
            for m, f in verdict.result.fates.items()
            if f.name == "dead_lettered" and f.phone in emails_for
            for d in f.dead_letters
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
    fails for good reaches them by e-mail (even when the mail server first says "try again
    later"); the others' replies become dead letters."""
    graph = new_graph(workdir)
    ledger = Ledger()
    numbers = phones(4, 20)
    conversations = [ledger.conversation(phone, 3) for phone in numbers]
    with_email = {phone: f"{tag(phone)}@example.test" for phone in numbers[::2]}
    # The mail server turns the first two mails away with a transient 451: the fallback must
    # try again, as any mail client does, rather than give the message up.
    with Mailbox(refuse_first=2) as mailbox, fresh_database() as url:
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
    conversations = [ledger.conversation(phone, 3) for phone in phones(5, 16)]
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


# ---------------------------------------------------------------- (f) everything at once


def test_every_fault_at_once_loses_and_doubles_nothing(workdir: Path, fake_ai: FakePeer) -> None:
    """The faults together, as production would have them: the Graph API mix; statuses that
    come in reverse and twice; messages Meta redelivers after they were acknowledged; workers
    SIGKILLed mid-send; the web process SIGKILLed; PostgreSQL crashing while Meta holds the
    answer to an accepted send; a mail server that first says "try again later".

    Reconciliation waits 15 s here, longer than any outage this test causes: a status webhook
    naming our key can always arrive in time, so a resend — and a double — is a bug, not the
    ambiguity docs/reliability.md describes for a status that never comes."""
    graph = new_graph(workdir)
    ledger = Ledger()
    numbers = phones(7, 16)
    conversations = [ledger.conversation(phone, 3) for phone in numbers]
    with_email = {phone: f"{tag(phone)}@example.test" for phone in numbers[1::2]}
    workers: list[Process] = []
    with private_postgres() as pg, Mailbox(refuse_first=1) as mailbox:
        web = start_gateway(
            workdir,
            pg.url,
            graph,
            fake_ai,
            worker=False,
            SEND_RECONCILE_SECONDS="15",
            WORKER_CONCURRENCY="3",
            **mailbox.settings(),
        )
        driver = WebhookDriver(
            ledger, conversations, [web], spacing=1.0, stagger=0.2, redeliver=True
        )
        with stopping(driver, workers, web, graph):
            link_accounts_with_email(web, with_email)
            post_statuses(graph, web, reverse=True, duplicate=True)
            workers.extend(start_workers(web, ["f0", "f1"]))
            chaos(
                graph, seed=13, rates=CHAOS_RATES, timeout_seconds=HELD_SECONDS, latency_seconds=0.3
            )
            driver.start()
            events: list[str] = []

            def when_a_send_is_held() -> list[str]:
                held = wait_until(lambda: held_sends(graph), timeout=30, every=0.02)
                return [h["body"].get("biz_opaque_callback_data") for h in held]

            wait_until(acknowledged(ledger, 8), timeout=60)
            keys = when_a_send_is_held()
            for worker in workers:
                worker.kill()
            events.append(f"workers killed while sends were held: {keys}")
            workers[:] = start_workers(web, ["f2", "f3"])
            wait_until(acknowledged(ledger, 24), timeout=60)
            web.kill()
            web.start()
            events.append("web process killed and restarted")
            wait_until(acknowledged(ledger, 34), timeout=60)
            keys = when_a_send_is_held()
            pg.restart("immediate", down_seconds=2.0)
            events.append(f"PostgreSQL crashed while sends were held: {keys}")
            driver.join(timeout=120)

            def every_answer_tried() -> bool:
                tried = {m for r in graph.requests("send") for m in markers_in(send_text(r))}
                return all(m.marker in tried for m in ledger.acked())

            with contextlib.suppress(AssertionError):
                wait_until(every_answer_tried, timeout=60, every=0.5)
            drawn = calm(graph)
            assert drawn is not None
            busy = settle(pg.url, graph, timeout=150)
            assert web.process is not None
            logs = [web.process.log_path, *sorted(workdir.glob(f"worker-f*-{web.port}.log"))]
            verdict = account(
                ledger,
                graph,
                web,
                pg.url,
                busy=busy,
                logs=logs,
                mailbox=mailbox,
                notes=[
                    *events,
                    f"chaos drawn: {drawn['drawn']}",
                    f"statuses: {status_summary(graph)}",
                    f"inbound redelivered after acknowledgement: {driver.redelivered}",
                    f"webhook refusals seen by the sender: {dict(driver.refusals)}",
                ],
                allowed=frozenset({"answered", "dead_lettered", "emailed"}),
            )
            dead_workers = [w.log_path.name for w in workers if not w.alive()]
            verdict.require(not dead_workers, f"workers died: {dead_workers}")
            check_failures_are_final(verdict, emails_for=set(with_email))
            verdict.conclude()


# ---------------------------------------------------------------- the sharpest single case


def held_send_is_answered_once(
    workdir: Path,
    fake_ai: FakePeer,
    *,
    phone: str,
    status_delay: float | None,
    fault: dict[str, Any],
) -> None:
    """One reply whose first send is held by `fault` (and answered late or badly) while status
    webhooks naming our key flow: settle, then account for the one message."""
    graph = new_graph(workdir)
    ledger = Ledger()
    conversation = ledger.conversation(phone, 1)
    with fresh_database() as url:
        gateway = start_gateway(workdir, url, graph, fake_ai, worker=True)
        driver = WebhookDriver(ledger, [conversation], [gateway])
        with stopping(driver, gateway, graph):
            statuses = {} if status_delay is None else {"delay_seconds": status_delay}
            post_statuses(graph, gateway, **statuses)
            chaos(graph, seed=1, **fault)
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


def test_a_send_accepted_but_answered_after_the_client_timeout_is_not_sent_again(
    workdir: Path, fake_ai: FakePeer
) -> None:
    """Meta takes the message and answers after the client has given up: the outcome is
    unknown to the gateway, but status webhooks carrying our idempotency key arrive within a
    second. The reply must not be sent a second time."""
    held_send_is_answered_once(
        workdir,
        fake_ai,
        phone=phones(6, 1)[0],
        status_delay=None,
        fault={"rates": {"timeout": 1.0}, "timeout_seconds": HELD_SECONDS},
    )


OUT_OF_WINDOW_TEMPLATE = json.dumps(
    [
        {
            "name": "balasan_umum",
            "language": "id",
            "parameters": ["pesan"],
            "purpose": "out_of_window",
        }
    ]
)


def test_a_131047_reported_before_the_send_is_answered_still_goes_as_the_template(
    workdir: Path, fake_ai: FakePeer
) -> None:
    """Meta accepts the reply, then reports 131047 (window closed) in a status webhook that
    overtakes the send's own answer — statuses and answers race at Meta. The failure must
    stick, with its code: the reply is rerouted as the out-of-window template and delivered
    once, not left a dead letter without a reason."""
    graph = new_graph(workdir)
    ledger = Ledger()
    conversation = ledger.conversation(phones(8, 1)[0], 1)
    with fresh_database() as url:
        gateway = start_gateway(
            workdir, url, graph, fake_ai, worker=True, WHATSAPP_TEMPLATES=OUT_OF_WINDOW_TEMPLATE
        )
        driver = WebhookDriver(ledger, [conversation], [gateway])
        with stopping(driver, gateway, graph):
            post_statuses(graph, gateway, delay_seconds=0)
            chaos(graph, seed=1, rates={"131047_async": 1.0}, latency_seconds=1.5)
            driver.start()
            [held] = wait_until(lambda: held_sends(graph), timeout=30)
            calm(graph)  # the template that follows is accepted
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
            templates = [r for r in delivered(graph) if "template" in r["body"]]
            verdict.require(len(templates) == 1, f"template sends delivered: {len(templates)}")
            verdict.conclude()


def test_a_worker_killed_while_e_mailing_a_failed_reply_does_not_lose_the_e_mail(
    workdir: Path, fake_ai: FakePeer
) -> None:
    """Meta reports 131047 for a reply to a contact with an e-mail address; the worker dies
    while the mail server is still taking the fallback e-mail (nothing was delivered). Once the
    dead worker's job is recovered, the e-mail must still go."""
    graph = new_graph(workdir)
    ledger = Ledger()
    phone = phones(9, 1)[0]
    conversation = ledger.conversation(phone, 1)
    workers: list[Process] = []
    with Mailbox(hold_first=1, hold_seconds=30) as mailbox, fresh_database() as url:
        # The gateway waits for the mail server longer than the test takes to kill it.
        smtp = mailbox.settings() | {"SMTP_TIMEOUT_SECONDS": "60"}
        web = start_gateway(workdir, url, graph, fake_ai, worker=False, **smtp)
        driver = WebhookDriver(ledger, [conversation], [web])
        with stopping(driver, workers, web, graph):
            link_accounts_with_email(web, {phone: f"{tag(phone)}@example.test"})
            post_statuses(graph, web, delay_seconds=0)
            chaos(graph, seed=1, rates={"131047_async": 1.0})
            workers.extend(start_workers(web, ["h0"]))
            driver.start()
            wait_until(lambda: mailbox.held, timeout=60)
            workers[0].kill()
            workers[:] = start_workers(web, ["h1"])
            busy = settle(url, graph, timeout=60)
            verdict = account(
                ledger,
                graph,
                web,
                url,
                busy=busy,
                logs=sorted(workdir.glob(f"worker-h*-{web.port}.log")),
                mailbox=mailbox,
                allowed=frozenset({"emailed"}),
            )
            verdict.conclude()


def test_a_send_meta_took_but_answered_with_a_502_is_not_sent_again(
    workdir: Path, fake_ai: FakePeer
) -> None:
    """Meta's edge answers 502 although the Graph API took the message, and the status webhook
    naming our key arrives before that answer does. The status settles the message; the 502
    that follows must not put it back in the queue to be sent again."""
    held_send_is_answered_once(
        workdir,
        fake_ai,
        phone=phones(0, 1)[0],
        status_delay=0,
        fault={"rates": {"502_accepted": 1.0}, "latency_seconds": 1.5},
    )


# ---------------------------------------------------------------- the ledger itself


def test_the_ledger_tells_every_fate_apart() -> None:
    """The counting the scenarios rely on, on made-up evidence: a fault-injection suite whose
    ledger miscounts would pass for the wrong reasons."""
    ledger = Ledger()
    one, two = phones(0, 2)
    first = ledger.conversation(one, 6)
    second = ledger.conversation(two, 1)
    for message in [*first, *second]:
        ledger.ack(message)
    mark = [m.marker for m in first]
    unacked = ledger.conversation(phones(0, 3)[2], 1)[0]

    def send(seq: int, text: str, *, delivered: bool = True, to: str = one) -> dict[str, Any]:
        body = {"to": to, "text": {"body": f"ECHO[m] {text} (turns=1)"}}
        return {"seq": seq, "delivered": delivered, "body": body}

    sends = [
        send(1, f"tanya {mark[0]} ya\ntanya {mark[1]} ya"),  # a merged burst: both answered
        send(2, f"tanya {mark[2]} ya"),
        send(3, f"tanya {mark[2]} ya"),  # … twice
        send(4, f"tanya {mark[3]} ya", delivered=False),  # failed after acceptance
        send(5, f"tanya {mark[5]} ya"),
        send(6, f"tanya {second[0].marker} ya", to=one),  # to the wrong number
    ]
    dead = [{"id": 9, "detail": {"text": f"ECHO {mark[3]}"}}, {"id": 10, "text": mark[5]}]
    emails = [f"To: x@example.test\n{mark[4]}"]
    result = tally(ledger, sends=sends, dead_letters=dead, emails=emails)
    fates = {marker: fate.name for marker, fate in result.fates.items()}
    assert fates == {
        mark[0]: "answered",
        mark[1]: "answered",
        mark[2]: "doubled",
        mark[3]: "dead_lettered",
        mark[4]: "emailed",
        mark[5]: "delivered_and_dead_lettered",
        second[0].marker: "answered",
    }
    assert result.unacked == [unacked.marker]
    assert result.misrouted == [second[0].marker]
    assert set(result.problems()) == {mark[2], mark[5]}
    assert not result.order_violations  # a double is not a reordering

    late = tally(ledger, sends=[send(1, f"tanya {mark[1]} ya"), send(2, f"tanya {mark[0]} ya")])
    assert late.order_violations == {one: [1, 0]}
    assert "lost" in {fate.name for fate in late.fates.values()}


def test_markers_survive_as_plain_letters_and_are_not_confused() -> None:
    numbers = phones(0, 12)
    markers = [marker_for(phone, index) for phone in numbers for index in range(12)]
    assert len(set(markers)) == len(markers)
    text = " ".join(f"tanya {m} ya" for m in markers)
    assert markers_in(text) == markers
    assert all(m.isalpha() and m.islower() for m in markers)  # nothing PII masking would take
