"""The heaviest frames of a py-spy "raw" profile (collapsed stacks), inclusive.

    python benchmarks/profile_top.py prof.txt                 # top 15 functions
    python benchmarks/profile_top.py prof.txt --top 30 --by package
    python benchmarks/profile_top.py prof.txt --under "run_conversation"

Each line of the input is "frame;frame;…;frame count", outermost frame first, a frame being
"function (path:line)". A function's inclusive share is the samples whose stack holds it at
least once (recursion counted once), over all samples. `--by package` groups frames by the
top-level package of their file (psycopg, structlog, wagate.pipeline, …) instead, the same
inclusive way; `--under TEXT` keeps only the stacks with a frame containing TEXT.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.*?) \((?P<path>[^()]*?)(?::(?P<line>\d+))?\)$")
_SITE = re.compile(r".*/(?:site-packages|src|lib/python3\.\d+)/")


def parse(path: Path) -> list[tuple[list[str], int]]:
    stacks: list[tuple[list[str], int]] = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def function_of(frame: str) -> str:
    """The frame without its line number, the path from the package root: "run
    (wagate/pipeline/deliver.py)"."""
    match = _FRAME.match(frame)
    if match is None:
        return frame
    return f"{match['function']} ({_SITE.sub('', match['path'])})"


def package_of(frame: str) -> str:
    """wagate's second level (wagate.pipeline), any other package's first (psycopg)."""
    match = _FRAME.match(frame)
    if match is None:
        return frame
    parts = _SITE.sub("", match["path"]).removesuffix(".py").split("/")
    if parts[0] == "wagate" and len(parts) > 2:
        return ".".join(parts[:2])
    return parts[0] if len(parts) > 1 else parts[0] + " (module)"


def inclusive(stacks: list[tuple[list[str], int]], key: str) -> tuple[Counter[str], int]:
    name = function_of if key == "function" else package_of
    shares: Counter[str] = Counter()
    total = 0
    for frames, count in stacks:
        total += count
        for seen in {name(frame) for frame in frames}:
            shares[seen] += count
    return shares, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--by", choices=("function", "package"), default="function")
    parser.add_argument("--under", help="only stacks with a frame containing this text")
    args = parser.parse_args(argv)
    stacks = parse(args.profile)
    if args.under:
        everything = sum(count for _, count in stacks)
        stacks = [(f, c) for f, c in stacks if any(args.under in frame for frame in f)]
        kept = sum(count for _, count in stacks)
        print(f"stacks under {args.under!r}: {kept} of {everything} samples")
    shares, total = inclusive(stacks, args.by)
    if not total:
        print("no samples", file=sys.stderr)
        return 1
    print(f"{total} samples")
    for name, count in shares.most_common(args.top):
        print(f"{100 * count / total:6.1f} %  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
