"""Hand-labelled PII sets, written as marked-up text, rendered to JSON lines.

    python tests/data/pii/markup.py            # rewrites every *.txt set's .jsonl
    python tests/data/pii/markup.py --check    # exit 1 if a .jsonl differs from its .txt

Markup (one file per split, e.g. `untuned.txt`):
* `{NAMA:Rina Marlina}` marks a span: type, colon, the text exactly as the writer typed it.
* Each line is one message of its own conversation, except in a block (lines up to a blank
  line) whose first line is `conversation` or `known: Budi Santoso; B. Santoso`: its lines
  are the user's messages of one conversation, in order, and `known` lists the WhatsApp
  profile name and account name the gateway would pass as `known_names`. `\\n` in a line
  is a line break inside the message (a signature under the text).
* `## category` starts a section; its blocks are reported under that category ("decoy"
  lines hold no personal data on purpose). `# ...` is a comment.

Output line: {"text", "entities": [{"start", "end", "type", "value"}], "known_names",
"conversation", "turn", "category"}; the loader in benchmarks/pii_eval.py accepts the same
shape as corpus.jsonl plus the last three fields. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
SETS = ("tuning", "untuned")
_MARK = re.compile(r"\{(?P<kind>[A-Z_]+):(?P<value>[^{}]+)\}")


def parse(source: str, *, name: str) -> list[dict[str, object]]:
    """Every message of a marked-up set, in file order (see module doc)."""
    lines: list[dict[str, object]] = []
    category = "uncategorised"
    block: list[str] = []
    conversations = 0

    def flush() -> None:
        nonlocal conversations
        if not block:
            return
        known: list[str] = []
        turns = block[:]
        if turns[0].startswith("known:"):
            known = [n.strip() for n in turns[0][len("known:") :].split(";") if n.strip()]
        if turns[0].startswith(("known:", "conversation")):
            turns = turns[1:]
        else:  # lone messages: each is its own conversation
            for raw in turns[:-1]:
                block[:] = [raw]
                flush()
            turns = turns[-1:]
        conversations += 1
        for turn, raw in enumerate(turns, start=1):
            text, entities = _unmark(raw.replace("\\n", "\n"))
            lines.append(
                {
                    "text": text,
                    "entities": entities,
                    "known_names": known,
                    "conversation": f"{name}-{conversations}",
                    "turn": turn,
                    "category": category,
                }
            )
        block.clear()

    for raw in source.splitlines():
        stripped = raw.strip()
        if stripped.startswith("## "):
            flush()
            category = stripped[3:].strip()
        elif stripped.startswith("#"):
            continue
        elif not stripped:
            flush()
        else:
            block.append(stripped)
    flush()
    return lines


def _unmark(raw: str) -> tuple[str, list[dict[str, object]]]:
    pieces: list[str] = []
    entities: list[dict[str, object]] = []
    position = length = 0
    for match in _MARK.finditer(raw):
        before = raw[position : match.start()]
        pieces.append(before)
        length += len(before)
        value = match["value"]
        entities.append(
            {"start": length, "end": length + len(value), "type": match["kind"], "value": value}
        )
        pieces.append(value)
        length += len(value)
        position = match.end()
    pieces.append(raw[position:])
    text = "".join(pieces)
    if "{" in text or "}" in text:
        raise ValueError(f"unbalanced markup: {raw!r}")
    return text, entities


def render(lines: list[dict[str, object]]) -> str:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    differs = False
    for name in SETS:
        source = (HERE / f"{name}.txt").read_text(encoding="utf-8")
        out = HERE / f"{name}.jsonl"
        rendered = render(parse(source, name=name))
        if args.check:
            differs |= not out.exists() or out.read_text(encoding="utf-8") != rendered
        else:
            out.write_text(rendered, encoding="utf-8")
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main())
