"""The encryption keys: present, readable, private, and (with the database's help) the right
ones. Nothing is created here: the gateway makes the key file on its first start, the doctor
only reads it."""

from __future__ import annotations

import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wagate.domain.readiness import Finding, Verdict
from wagate.security.data_keys import UnwrapFailed, unwrap
from wagate.security.keys import Keyring, KeyringError, read_keyfile
from wagate.storage.readiness import WrappedDataKey

AREA = "keys"
BACKUP_HINT = (
    "keep a copy off this machine, apart from the database backups, and again after every "
    "`wagate keys rotate`: without it nothing stored can be read"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeySource:
    """Where the master keys come from: the environment's value, else the key file."""

    environment: str | None  # WAGATE_ENCRYPTION_KEYS
    keyfile: Path

    def keyring(self) -> Keyring | None:
        """The configured keys; None when there are none yet or they cannot be read (the keys
        probe says which)."""
        try:
            if self.environment:
                return Keyring.parse(self.environment)
            return read_keyfile(self.keyfile) if self.keyfile.exists() else None
        except KeyringError:
            return None


@dataclass(frozen=True, slots=True, kw_only=True)
class KeysProbe:
    source: KeySource
    area: str = AREA

    async def run(self) -> Sequence[Finding]:
        if self.source.environment:
            return [self._from_environment(self.source.environment)]
        return self._from_file(self.source.keyfile)

    def _from_environment(self, value: str) -> Finding:
        try:
            ring = Keyring.parse(value)
        except KeyringError as exc:
            return Finding(
                area=AREA,
                check="master keys",
                verdict=Verdict.FAILED,
                detail=f"WAGATE_ENCRYPTION_KEYS: {exc}",
                fix="give id:base64 pairs of 32-byte keys, the current one first",
            )
        return Finding(
            area=AREA,
            check="master keys",
            verdict=Verdict.OK,
            detail=f"from WAGATE_ENCRYPTION_KEYS: {len(ring.ids)} key(s), current "
            f"{ring.current.key_id}",
            fix="keep the value in your secrets store, apart from the database backups: "
            "without it nothing stored can be read",
        )

    def _from_file(self, path: Path) -> list[Finding]:
        where = str(path.resolve())
        if not path.exists():
            return [
                Finding(
                    area=AREA,
                    check="master keys",
                    verdict=Verdict.MISSING,
                    detail=f"no key file yet at {where}",
                    fix="start `wagate serve` once (it creates the file), then back the file "
                    "up at once",
                )
            ]
        try:
            ring = read_keyfile(path)
        except KeyringError as exc:
            return [
                Finding(
                    area=AREA,
                    check="master keys",
                    verdict=Verdict.FAILED,
                    detail=str(exc),
                    fix="restore the key file from its backup",
                )
            ]
        findings = [
            Finding(
                area=AREA,
                check="master keys",
                verdict=Verdict.OK,
                detail=f"{where}: {len(ring.ids)} key(s), current {ring.current.key_id}",
                fix=BACKUP_HINT,
            )
        ]
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            findings.append(
                Finding(
                    area=AREA,
                    check="key file permissions",
                    verdict=Verdict.WARN,
                    detail=f"mode {mode:04o}: others on this machine may read the keys",
                    fix=f"chmod 600 {where}",
                )
            )
        return findings


def keys_open_database(keyring: Keyring | None, wrapped: Sequence[WrappedDataKey]) -> Finding:
    """Whether the configured master keys open the tenants' data keys stored in the database:
    after a restore, the proof that the key file and the database belong together."""
    tenants = sorted({w.tenant for w in wrapped})
    if not wrapped:
        return Finding(
            area=AREA,
            check="keys match the database",
            verdict=Verdict.OK,
            detail="the database holds no data keys yet",
        )
    if keyring is None:
        masters = ", ".join(sorted({w.wrapped_by for w in wrapped}))
        return Finding(
            area=AREA,
            check="keys match the database",
            verdict=Verdict.FAILED,
            detail=f"the database's data keys are wrapped under master key(s) {masters}, and "
            "no keys are configured here",
            fix="restore encryption-keys.json into the data dir (or WAGATE_ENCRYPTION_KEYS) "
            "from the backup made with this database",
        )
    absent, wrong = set(), set()
    for data_key in wrapped:
        master = keyring.get(data_key.wrapped_by)
        if master is None:
            absent.add(data_key.wrapped_by)
            continue
        try:
            unwrap(data_key.tenant, data_key.key_id, data_key.wrapped, master)
        except UnwrapFailed:
            wrong.add(data_key.wrapped_by)
    if absent or wrong:
        problems = []
        if absent:
            problems.append(f"master key(s) {', '.join(sorted(absent))} are not configured")
        if wrong:
            problems.append(
                f"master key(s) {', '.join(sorted(wrong))} are configured with other material"
            )
        return Finding(
            area=AREA,
            check="keys match the database",
            verdict=Verdict.FAILED,
            detail="; ".join(problems) + ": the stored data cannot be read with these keys",
            fix="use the key file (or WAGATE_ENCRYPTION_KEYS) backed up with this database",
        )
    return Finding(
        area=AREA,
        check="keys match the database",
        verdict=Verdict.OK,
        detail=f"they open the data keys of {len(tenants)} tenant(s)",
    )
