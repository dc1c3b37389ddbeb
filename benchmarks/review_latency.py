"""`python benchmarks/review_latency.py [N]` — latency of the lawyer-in-the-loop paths (AI7) on
a real gateway process with the fake Graph API and fake AI (needs the machine's PostgreSQL, as
the end-to-end tests do; zones come from the test triage plugin):

* red message: webhook POST → the holding reply at the Graph API;
* yellow message: webhook POST → the acknowledgement at the Graph API;
* approval: `POST /api/reviews/{id}/approve` → the approved answer at the Graph API.

Figures include the harness's job polling (JOB_POLL_SECONDS=0.2) and no debounce."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.harness import PHONE_NUMBER_ID, FakePeer, Gateway, fresh_database, wait_until
from tests.e2e.test_lawyer_review import LAWYER_SETTINGS, _pending_draft, _texts_to

from wagate.fakes.payloads import meta_text


def timed(start: Callable[[], object], done: Callable[[], object]) -> float:
    began = time.monotonic()
    start()
    wait_until(done, timeout=30, every=0.01)
    return time.monotonic() - began


def report(name: str, seconds: list[float]) -> None:
    ordered = sorted(seconds)
    p90 = ordered[max(0, int(0.9 * len(ordered)) - 1)]
    print(
        f"{name}: n={len(ordered)} median={statistics.median(ordered) * 1000:.0f} ms "
        f"p90={p90 * 1000:.0f} ms max={ordered[-1] * 1000:.0f} ms"
    )


def run(gateway: Gateway, meta: FakePeer, count: int) -> None:
    def say(sender: str, text: str) -> None:
        payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=text)
        assert gateway.post_meta(payload).status_code == 200

    def replies(sender: str, expected: int) -> Callable[[], bool]:
        return lambda: len(_texts_to(meta, sender)) >= expected

    red, held, approved = [], [], []
    for i in range(count):
        sender = f"62813{i:08d}"
        red.append(timed(lambda s=sender, n=i: say(s, f"darurat {n}"), replies(sender, 1)))
    for i in range(count):
        sender = f"62814{i:08d}"
        held.append(timed(lambda s=sender, n=i: say(s, f"kasus saya {n}"), replies(sender, 1)))
        path = f"/api/reviews/{_pending_draft(gateway, sender)['id']}/approve"
        approved.append(timed(lambda p=path: gateway.api_post(p, None), replies(sender, 2)))
    report("red: webhook -> holding reply at the Graph API", red)
    report("yellow: webhook -> acknowledgement at the Graph API", held)
    report("approve POST -> answer at the Graph API", approved)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    work = Path(tempfile.mkdtemp(prefix="wagate-review-bench-"))
    meta = FakePeer("meta", work, "--access-token", "e2e-access-token")
    ai = FakePeer("openai", work)
    try:
        with fresh_database() as url:
            gateway = Gateway(
                work,
                database_url=url,
                graph_url=f"{meta.url}/v22.0",
                ai_url=f"{ai.url}/v1",
                **LAWYER_SETTINGS,
            ).start()
            try:
                run(gateway, meta, count)
            finally:
                gateway.stop()
    finally:
        meta.stop()
        ai.stop()


if __name__ == "__main__":
    main()
