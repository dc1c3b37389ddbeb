"""A labelled triage set sent through the running gateway (issue 14: "urgent messages you have
not seen will be sent through the gateway too").

`triage_eval.py` scores the classifier in-process; this sends every message of a set as a real
signed Meta webhook to `wagate serve` (web + worker, embedded PostgreSQL or --database-url),
each from a sender of its own, with the fake Graph API and the fake OpenAI-compatible AI as
processes of their own, at the gateway's default triage settings (rules plus the shipped
detector) and `REVIEW_MODE=yellow` (what a firm with a knowledge base or a lawyer gets). What
each sender receives is the outcome:

* the urgent holding text (`URGENT_HOLDING_TEXT`): handled as **red**;
* the review acknowledgement (`REVIEW_ACK_TEXT`): held as a **yellow** draft for a lawyer;
* anything else (the fake AI's answer): answered directly, **green**.

It also reads what the fake AI was asked (chat and triage classification requests) and
reports every red message that reached it in any form: a red message must never reach the AI.
Then the confusion matrix, red recall and precision, yellow recall (held or red, as
`triage_eval.py` counts it), and the goals of issue 14. Exit 1 when a message got no reply or
more than one, 2 with `--check` when a goal is missed.

    python benchmarks/triage_gateway.py --set benchmarks/triage_data/holdout_i.jsonl
    python benchmarks/triage_gateway.py --set … --rate 10 --database-url postgresql://…
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gateway import GatewayProcess, fresh_database
from burst import fake_server, post_one, sender_number, warm_up
from wagate.domain.review import DEFAULT_ACK_TEXT, DEFAULT_URGENT_TEXT

ZONES = ("green", "yellow", "red")
GOALS = {"red recall": 1.0, "red precision": 0.8, "yellow recall": 0.95}
FIRST_SENDER = 500_000  # clear of the warm-up's sender
WORD = re.compile(r"[a-z]{3,}")
WINDOW = 4  # words in a row that mark a message as having reached the AI


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", required=True, type=Path, help="a triage_data/*.jsonl file")
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second sent")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for replies")
    parser.add_argument("--database-url", help="an external PostgreSQL (a fresh database)")
    parser.add_argument("--errors", action="store_true", help="list every wrong outcome")
    parser.add_argument("--check", action="store_true", help="exit 2 when a goal is missed")
    return parser.parse_args(argv)


def load(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for row in rows:
        if row.get("zone") not in ZONES:
            raise SystemExit(f"{path}: {row.get('id')}: zone must be one of {ZONES}")
    return rows


def outcome_of(text: str) -> str:
    if text == DEFAULT_URGENT_TEXT:
        return "red"
    if text == DEFAULT_ACK_TEXT:
        return "yellow"
    return "green"


def replies_by_sender(graph: str) -> dict[str, list[str]]:
    response = httpx.get(f"{graph}/_fake/requests", params={"kind": "send"}, timeout=120)
    found: dict[str, list[str]] = defaultdict(list)
    for entry in orjson.loads(response.content):
        body = entry["body"]
        text = body.get("text", {}).get("body")
        if isinstance(text, str):
            found[str(body.get("to", ""))].append(text)
    return found


def windows(text: str) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    return {tuple(words[i : i + WINDOW]) for i in range(len(words) - WINDOW + 1)}


def reached_ai(ai: str, messages: list[dict[str, Any]]) -> set[str]:
    """Ids of the messages some run of WINDOW words of which appears in what the AI was asked
    (masking changes names and numbers, not the words around them)."""
    asked = httpx.get(f"{ai}/_fake/requests", timeout=120)
    seen: set[tuple[str, ...]] = set()
    for entry in orjson.loads(asked.content):
        seen |= windows(json.dumps(entry.get("body", {}), ensure_ascii=False))
    return {row["id"] for row in messages if windows(row["text"]) & seen}


def send_all(gateway: str, messages: list[dict[str, Any]], rate: float) -> list[int]:
    statuses = []
    started = time.monotonic()
    for index, row in enumerate(messages):
        delay = started + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        statuses.append(post_one(gateway, FIRST_SENDER + index, row["text"]))
    return statuses


def wait_for_replies(graph: str, count: int, timeout: float) -> dict[str, list[str]]:
    deadline = time.monotonic() + timeout
    while True:
        found = replies_by_sender(graph)
        answered = sum(1 for i in range(count) if found.get(sender_number(FIRST_SENDER + i)))
        if answered >= count or time.monotonic() > deadline:
            time.sleep(2)  # a second reply to anyone would show by now
            return replies_by_sender(graph)
        time.sleep(0.5)


def figures(matrix: dict[str, Counter[str]]) -> dict[str, float]:
    red_true = sum(matrix["red"].values())
    red_called = sum(matrix[zone]["red"] for zone in ZONES)
    yellow_true = sum(matrix["yellow"].values())
    return {
        "red recall": matrix["red"]["red"] / red_true if red_true else 1.0,
        "red precision": matrix["red"]["red"] / red_called if red_called else 1.0,
        "yellow recall": (
            (matrix["yellow"]["yellow"] + matrix["yellow"]["red"]) / yellow_true
            if yellow_true
            else 1.0
        ),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    messages = load(args.set)
    env = {
        "DEBOUNCE_SECONDS": "0",
        "RATE_LIMIT_PER_MINUTE": "1000000",
        "AI_MODEL": "bench",
        "AI_API_KEY": "bench",
        "REVIEW_MODE": "yellow",
    }
    with contextlib.ExitStack() as stack:
        graph = stack.enter_context(fake_server("meta"))
        ai = stack.enter_context(fake_server("openai"))
        env |= {"META_GRAPH_URL": f"{graph.url}/v22.0", "AI_BASE_URL": f"{ai.url}/v1"}
        database_url = None
        if args.database_url:
            database_url = stack.enter_context(fresh_database(args.database_url, "triage"))
        gateway = stack.enter_context(
            GatewayProcess(database_url=database_url, worker=True, extra_env=env)
        )
        warm_up(gateway, graph.url, ai.url)
        print(
            f"{args.set.name}: {len(messages)} messages through the gateway at {args.rate:g}/s, "
            "each from its own sender (REVIEW_MODE=yellow, triage at its defaults)"
        )
        statuses = send_all(gateway.url, messages, args.rate)
        replies = wait_for_replies(graph.url, len(messages), args.timeout)
        leaked = reached_ai(ai.url, [m for m in messages if m["zone"] == "red"])
    refused = [m["id"] for m, status in zip(messages, statuses, strict=True) if status != 200]
    matrix: dict[str, Counter[str]] = {zone: Counter() for zone in ZONES}
    unanswered, repeated, wrong = [], [], []
    for index, row in enumerate(messages):
        got = replies.get(sender_number(FIRST_SENDER + index), [])
        if not got:
            unanswered.append(row["id"])
            continue
        if len(got) > 1:
            repeated.append(row["id"])
        outcome = outcome_of(got[0])
        matrix[row["zone"]][outcome] += 1
        if outcome != row["zone"]:
            wrong.append((row, outcome))
    print(" truth / outcome   green  yellow     red")
    for zone in ZONES:
        print(f"{zone:>15}  " + "".join(f"{matrix[zone][o]:>8}" for o in ZONES))
    values = figures(matrix)
    missed = False
    for name, value in values.items():
        ok = value >= GOALS[name]
        missed |= not ok
        print(f"  {name:<22}{value:6.3f}  {'ok' if ok else f'MISSED (goal {GOALS[name]})'}")
    red_count = sum(1 for m in messages if m["zone"] == "red")
    print(f"  red messages that reached the AI endpoint: {len(leaked)} of {red_count}")
    print(
        f"  webhooks refused: {len(refused)} · no reply: {len(unanswered)} · "
        f"more than one reply: {len(repeated)}"
    )
    for label, ids in (("refused", refused), ("no reply", unanswered), ("repeated", repeated)):
        if ids:
            print(f"    {label}: {', '.join(ids)}")
    if leaked:
        print(f"    reached the AI: {', '.join(sorted(leaked))}")
    if args.errors:
        for row, outcome in wrong:
            print(f"  {row['id']}: {row['zone']} → {outcome}  {row['text'][:110]!r}")
    if refused or unanswered or repeated:
        return 1
    return 2 if args.check and (missed or leaked) else 0


if __name__ == "__main__":
    sys.exit(main())
