"""CPU of the gateway's own per-message Python work, function by function (issue 18).

    python benchmarks/hot_functions.py
    PYTHONPATH=/other/tree/src python benchmarks/hot_functions.py     # another tree's code

For each message below it times, in this process, the pure work one answered message pays
outside the database driver and the network: the triage rules (`classify`), the learned
triage detector on the rules' green (`raise_zone`), and masking the AI call's turns (the
default system prompt and the message: `mask_turns`); then the triage as a run calls it
(rules and detector, no AI) for a short follow-up with the three messages as the session's
earlier turns, the three histogram observations of a run, one INFO log line through the
redaction and the JSON renderer (written to /dev/null), and one new placeholder vault (a run
makes several). Best of --rounds rounds of --repeat calls (CPU time), in µs per call. No
database, no sockets: the figures move little with the machine's load, so
two trees can be compared run against run.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Callable, Iterator

MESSAGES = {
    "benchmark": "pertanyaan q-123",  # what answer_cpu.py sends
    "question": "Selamat siang, saya mau tanya soal warisan rumah orang tua saya yang belum "
    "dibagi, kakak saya tidak mau bagi",
    "danger": "suami saya memukul saya tadi malam, saya takut pulang",
}


def best_us(call: Callable[[], object], repeat: int, rounds: int) -> float:
    call()
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(repeat):
            call()
        best = min(best, time.process_time() - started)
    return best / repeat * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeat", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    # Logs go to /dev/null: the renderer and the write are timed, not a terminal.
    null = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(2)
    os.dup2(null, 2)
    try:
        import structlog

        import wagate
        from wagate.domain.privacy import PlaceholderVault, mask_turns
        from wagate.domain.triage_rules import classify
        from wagate.domain.zones import Zone
        from wagate.observability.logs import configure_logging
        from wagate.observability.metrics import MetricsRecorder
        from wagate.pipeline.zone_triage import RulesAndModelTriage
        from wagate.settings import DEFAULT_SYSTEM_PROMPT
        from wagate.triage_rules import load_rule_set, load_triage_model

        configure_logging("INFO", "json")
        log = structlog.get_logger("wagate.pipeline.converse")
        rules = load_rule_set()
        model = load_triage_model()
        metrics = MetricsRecorder().tenant("t", sla_seconds=30)
        rows: list[tuple[str, str, float]] = []
        for name, text in MESSAGES.items():
            fresh = itertools.count()

            def turns(text: str = text, fresh: Iterator[int] = fresh) -> list[str]:
                # A new message each call (the system prompt the same), as in real traffic:
                # find_pii keeps the proposals of recent texts, so a repeated one would flatter.
                tag = "".join(chr(97 + int(d)) for d in str(next(fresh)))
                return [DEFAULT_SYSTEM_PROMPT, f"{text} {tag}"]

            rows.append(
                (
                    "triage rules",
                    name,
                    best_us(lambda t=text: classify(t, (), rules), args.repeat, args.rounds),
                )
            )
            rows.append(
                (
                    "triage detector (raise_zone, green)",
                    name,
                    best_us(
                        lambda t=turns: model.raise_zone(Zone.GREEN, t()[1]),
                        args.repeat,
                        args.rounds,
                    ),
                )
            )
            rows.append(
                (
                    "mask_turns (system prompt + message)",
                    name,
                    best_us(
                        lambda t=turns: mask_turns(
                            t(), vault=PlaceholderVault(), known_names=("Budi",)
                        ),
                        args.repeat,
                        args.rounds,
                    ),
                )
            )

        def observe_three() -> None:
            metrics.burst(messages=1)
            metrics.ai_call(seconds=0.004, outcome="answered")
            metrics.responded(provider="meta", seconds=0.02)

        def log_line() -> None:
            log.info(
                "converse.answered",
                conversation_id="0190f8a4-6a7e-7c1e-9d2b-1f2e3d4c5b6a",
                messages=1,
                parts=1,
                model="bench",
                history=3,
            )

        triage = RulesAndModelTriage(rules, None, model)
        follow_ups = itertools.count()
        earlier = list(MESSAGES.values())

        def triage_as_run() -> None:
            # No classifier: the call never suspends, so it runs to its end in one send.
            call = triage(f"terus gimana {next(follow_ups)}", earlier)
            try:
                call.send(None)
            except StopIteration:
                return
            raise RuntimeError("the triage suspended")

        rows.append(
            (
                "triage as run, follow-up + 3 turns",
                "-",
                best_us(triage_as_run, args.repeat, args.rounds),
            )
        )
        rows.append(
            ("3 histogram observations", "-", best_us(observe_three, args.repeat, args.rounds))
        )
        rows.append(("1 INFO log line", "-", best_us(log_line, args.repeat, args.rounds)))
        rows.append(
            ("1 new PlaceholderVault", "-", best_us(PlaceholderVault, args.repeat, args.rounds))
        )
    finally:
        os.dup2(saved, 2)
    print(
        f"wagate from {os.path.dirname(wagate.__file__)} · µs CPU per call, best of {args.rounds}"
    )
    for what, message, micros in rows:
        print(f"  {what:40} {message:10} {micros:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
