"""Operator users' passwords: argon2id (RFC 9106) through argon2-cffi.

Hashing is deliberately slow and memory-hard (by default 3 passes over 64 MiB), so it runs on
a small thread pool of its own: the event loop keeps serving, and however many sign-ins
arrive at once, at most `workers` hashes are computed together (CPU and memory stay bounded).
An unknown user's sign-in is checked against a dummy hash with the same parameters, so it
takes as long as a real one and the timing does not tell which names exist.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

T = TypeVar("T")


class Argon2Passwords:
    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_kib: int = 64 * 1024,
        parallelism: int = 4,
        workers: int = 2,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=Type.ID,
        )
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._dummy: str | None = None
        self._dummy_lock = threading.Lock()

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, _bytes(password))

    async def verify(self, stored: str | None, password: str) -> bool:
        """True when `password` matches `stored`. `stored` None (no such user, or no usable
        hash): the same work is done against a dummy hash and the answer is False."""
        return await self._run(self._verify, stored, password)

    def needs_rehash(self, stored: str) -> bool:
        """True when `stored` was made with other parameters than today's (or is unusable):
        re-hash the password at the next successful sign-in."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except (InvalidHashError, ValueError):
            return True

    def _verify(self, stored: str | None, password: str) -> bool:
        target = stored if stored is not None else self._dummy_hash()
        matched: bool
        try:
            matched = self._hasher.verify(target, _bytes(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            matched = False
        return matched and stored is not None

    def _dummy_hash(self) -> str:
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
            return self._dummy

    async def _run(self, call: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, call, *args)


def _bytes(password: str) -> bytes:
    """Any text a request can carry, lone surrogates included, as bytes (UTF-8 would refuse
    them, and a sign-in must answer "wrong", not fail)."""
    return password.encode("utf-8", "surrogatepass")
