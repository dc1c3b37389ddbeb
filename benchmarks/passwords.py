"""Operator users' passwords: what argon2id costs on this machine (issue 14, item 1).

What it does
  Times, with the gateway's own hasher (`security/passwords.Argon2Passwords`, default
  parameters: 3 passes over 64 MiB, 4 lanes), --rounds hashes, verifications of the right
  and of a wrong password, and of an unknown user (checked against the dummy hash), and
  prints median, min and max of each; then --concurrent wrong-password checks at once, which
  the hasher's own 2-thread pool serialises (this bounds how many sign-ins per second one
  process can check, and the memory they take: 2 × 64 MiB).

Run
  .venv/bin/python benchmarks/passwords.py [--rounds 10] [--concurrent 20]

What to look for
  "verify unknown" close to "verify wrong" (the timing does not tell which names exist), and
  a verification well under a second (a sign-in is one of them).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from wagate.security.passwords import Argon2Passwords

PASSWORD = "correct horse battery"


async def main(rounds: int, concurrent: int) -> None:
    hasher = Argon2Passwords()
    stored = await hasher.hash(PASSWORD)
    await hasher.verify(None, PASSWORD)  # makes the dummy hash once, outside the timings
    checks = {
        "hash": lambda: hasher.hash(PASSWORD),
        "verify right": lambda: hasher.verify(stored, PASSWORD),
        "verify wrong": lambda: hasher.verify(stored, "wrong password!"),
        "verify unknown": lambda: hasher.verify(None, "wrong password!"),
    }
    for label, check in checks.items():
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            await check()
            times.append((time.perf_counter() - started) * 1000)
        print(
            f"{label:15} median {statistics.median(times):7.1f} ms   "
            f"min {min(times):7.1f}   max {max(times):7.1f}"
        )
    started = time.perf_counter()
    await asyncio.gather(*(hasher.verify(stored, "wrong password!") for _ in range(concurrent)))
    elapsed = time.perf_counter() - started
    print(
        f"{concurrent} concurrent wrong passwords: {elapsed:.2f} s ({concurrent / elapsed:.1f}/s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrent", type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rounds, arguments.concurrent))
