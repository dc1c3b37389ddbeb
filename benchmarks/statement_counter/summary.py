"""Statements per reply from the counts `sitecustomize.py` wrote: `summary.py DIR REPLIES`."""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path


def main(directory: Path, replies: int) -> None:
    total: collections.Counter[str] = collections.Counter()
    piped: collections.Counter[str] = collections.Counter()
    labels: collections.Counter[str] = collections.Counter()
    for path in directory.glob("*.json"):
        counted = json.loads(path.read_text())
        total.update(counted["counts"])
        piped.update(counted["piped"])
        labels.update(counted.get("labels", {}))
    transactions = total.pop("#transactions", 0)
    statements = sum(total.values())
    tenant = sum(n for k, n in total.items() if "set_config('wagate.tenant'" in k)
    print(
        f"per reply, over {replies} replies: statements {statements / replies:.2f}"
        f" (in a pipeline {sum(piped.values()) / replies:.2f}, the tenant's set_config"
        f" {tenant / replies:.2f}), transactions {transactions / replies:.2f}"
    )
    for statement, n in total.most_common(40):
        print(f"{n / replies:7.2f}  {statement}")
    print("transactions per reply, by where they began | their first statement:")
    for label, n in labels.most_common(40):
        print(f"{n / replies:7.2f}  {label}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
