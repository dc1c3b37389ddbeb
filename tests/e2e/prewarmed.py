"""Short-lived `wagate` commands, each a process of its own, without paying the import each time.

Almost all of a one-shot `python -m wagate users add …` is Python importing wagate and its
libraries (~1.5 s of CPU, more on a loaded machine); the e2e suite runs hundreds of them. A
*pre-warmed* server imports wagate once, then forks a fresh child per command. The child is a
real, separate process started from a just-imported interpreter: it gets the command's own
environment, working directory, standard input, output and error (files, read back after it
ends), runs `wagate/__main__.py` as `__main__` exactly as `python -m wagate` does, runs the
interpreter's exit steps and exits with the command's exit code. Tests see what
`subprocess.run([sys.executable, "-m", "wagate", …], capture_output=True, text=True)` gives
them: a `CompletedProcess` (or `TimeoutExpired`), with the same exit codes, output and errors.

`Popen` does the same for the long-running ones (`serve`, `worker`, `fake`): the harness's
`Process` starts every gateway, worker and fake peer this way, its output appended to its log.
What still starts `python -m wagate` the ordinary way: the interactive sandbox chat and the
refused start of a half-configured gateway; so the entry point itself stays covered.

Protocol (one Unix-socket connection per command): the client sends one JSON line (argv, env,
cwd, paths for stdin/stdout/stderr); a per-command supervisor forks the command, answers
`{"pid": …}` at once and `{"returncode": …}` when the command has ended (negative: killed by
that signal, as `subprocess` reports it).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# ------------------------------------------------------------------------------- the server


def _serve(socket_path: str) -> None:  # pragma: no cover - runs in the server process
    # What every command would import first; imported here once, before any fork.
    import runpy  # noqa: F401

    import uvicorn  # noqa: F401

    import wagate.cli.main
    import wagate.fakes.fonnte
    import wagate.fakes.meta
    import wagate.fakes.openai
    import wagate.runtime.processes
    import wagate.wiring  # noqa: F401

    # A fork copies only the calling thread: no other thread may exist when we fork.
    assert threading.active_count() == 1, threading.enumerate()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path + ".binding")
    listener.listen(64)
    os.rename(socket_path + ".binding", socket_path)  # there only once it takes connections
    parent = os.getppid()
    listener.settimeout(1.0)
    while True:
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            _reap_supervisors()
            if os.getppid() != parent:  # the test process is gone (killed): so are we
                return
            continue
        connection.settimeout(None)
        if os.fork() == 0:
            listener.close()
            try:
                _supervise(connection)
            finally:
                os._exit(0)
        connection.close()
        _reap_supervisors()


def _reap_supervisors() -> None:  # pragma: no cover - runs in the server process
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] != 0:
            pass


def _supervise(connection: socket.socket) -> None:  # pragma: no cover - a forked supervisor
    with connection:
        request = _receive(connection)
        pid = os.fork()
        if pid == 0:
            connection.close()  # the command holds no descriptor but its own three
            _run_command(request)  # never returns
        _send(connection, {"pid": pid})
        _, status = os.waitpid(pid, 0)
        _send(connection, {"returncode": os.waitstatus_to_exitcode(status)})


def _run_command(request: dict[str, Any]) -> None:  # pragma: no cover - the forked command
    """Become `python -m wagate ARGS` (or `python -c CODE ARGS`) and exit as it would."""
    import runpy
    import traceback

    if request["new_session"]:
        os.setsid()  # as Popen(start_new_session=True): a group of its own, to kill as one
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    output = os.O_WRONLY | (os.O_APPEND if request["append"] else 0)
    for fd, (path, flags) in enumerate(
        (
            (request["stdin"] or os.devnull, os.O_RDONLY),
            (request["stdout"], output),
            (request["stderr"], output),
        )
    ):
        opened = os.open(path, flags)
        os.dup2(opened, fd)
        os.close(opened)
    # What the interpreter would have put on the path at start-up: the working directory for
    # `-m` ('' for `-c`), then the command's PYTHONPATH (the server was started without one).
    sys.path[0] = os.getcwd() if request["code"] is None else ""
    sys.path[1:1] = [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]
    code = 0
    try:
        if request["code"] is not None:
            sys.argv = ["-c", *request["argv"]]
            exec(compile(request["code"], "<string>", "exec"), {"__name__": "__main__"})  # noqa: S102
        else:
            sys.argv = ["-m", *request["argv"]]
            runpy.run_module("wagate", run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        code = _exit_code(stop.code)
    except BaseException:
        traceback.print_exc()
        code = 1
    # The interpreter's own way out: wait for non-daemon threads, run atexit, flush.
    with contextlib.suppress(BaseException):
        threading._shutdown()  # type: ignore[attr-defined]
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    os._exit(code)


def _exit_code(code: object) -> int:  # pragma: no cover - the forked command
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


# ------------------------------------------------------------------------ one JSON per line


def _send(connection: socket.socket, message: dict[str, Any]) -> None:
    connection.sendall(json.dumps(message).encode() + b"\n")


def _receive(connection: socket.socket) -> Any:
    """One line, read a byte at a time (nothing past it is consumed), as JSON."""
    line = bytearray()
    while not line.endswith(b"\n"):
        byte = connection.recv(1)
        if not byte:
            raise ConnectionError("the pre-warmed server closed the connection")
        line += byte
    return json.loads(line)


# ------------------------------------------------------------------------------- the client


class _Server:
    """The pre-warmed server of this test process (one per xdist worker), started on first
    use and stopped when the process exits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="wagate-prewarmed-"))
        self.socket_path = str(self._dir / "socket")

    def ensure_running(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.socket_path)
            log = (self._dir / "server.log").open("ab")
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("WAGATE_", "META_")) and k != "PYTHONPATH"
            }
            self._process = subprocess.Popen(
                [sys.executable, __file__, self.socket_path],
                env=env | {"PYTHONUNBUFFERED": "1"},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + 120
            while not os.path.exists(self.socket_path):
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "the pre-warmed wagate server did not start:\n"
                        + (self._dir / "server.log").read_text(errors="replace")[-4000:]
                    )
                time.sleep(0.05)
            atexit.register(self.stop)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        shutil.rmtree(self._dir, ignore_errors=True)


_server = _Server()


def _start(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    code: str | None,
    stdin: str | None,
    stdout: Path,
    stderr: Path,
    append: bool = False,
    new_session: bool = False,
) -> tuple[socket.socket, int]:
    """Fork a command off the server: the connection its exit code will come on, and its pid."""
    _server.ensure_running()
    request = {
        "argv": list(args),
        "code": code,
        "env": dict(env),
        "cwd": os.getcwd(),
        "stdin": stdin,
        "stdout": str(stdout),
        "stderr": str(stderr),
        "append": append,
        "new_session": new_session,
    }
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(_server.socket_path)
        _send(connection, request)
        pid: int = _receive(connection)["pid"]
    except BaseException:
        connection.close()
        raise
    return connection, pid


def _shown(args: Sequence[str], code: str | None) -> list[str]:
    return [sys.executable, *(["-c", code] if code is not None else ["-m", "wagate"]), *args]


def run(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    stdin: str | None = None,
    timeout: float | None = 120,
    code: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run([sys.executable, "-m", "wagate", *args], env=env, input=stdin,
    capture_output=True, text=True, timeout=timeout)` (with `code`: `[sys.executable, "-c",
    code, *args]`), in a process forked from the pre-warmed server."""
    shown = _shown(args, code)
    with tempfile.TemporaryDirectory(prefix="wagate-cli-") as scratch:
        paths = {name: Path(scratch) / name for name in ("stdin", "stdout", "stderr")}
        for name in ("stdout", "stderr"):
            paths[name].touch()
        if stdin is not None:
            paths["stdin"].write_text(stdin)
        connection, pid = _start(
            args,
            env=env,
            code=code,
            stdin=str(paths["stdin"]) if stdin is not None else None,
            stdout=paths["stdout"],
            stderr=paths["stderr"],
        )
        with connection:
            connection.settimeout(timeout)
            try:
                returncode = _receive(connection)["returncode"]
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                connection.settimeout(None)
                _receive(connection)  # it has ended
                raise subprocess.TimeoutExpired(
                    shown, timeout or 0, _read(paths["stdout"]), _read(paths["stderr"])
                ) from None
        return subprocess.CompletedProcess(
            shown, returncode, _read(paths["stdout"]), _read(paths["stderr"])
        )


class Popen:
    """What the e2e harness uses of `subprocess.Popen` (pid, poll, wait, send_signal, kill,
    returncode) for a long-running `python -m wagate …` (a gateway, a worker, a fake peer) or
    `python -c CODE`, forked from the pre-warmed server, its output appended to `log`,
    standard input empty, in a session of its own when `start_new_session`."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        log: Path,
        code: str | None = None,
        start_new_session: bool = False,
    ) -> None:
        self.args = _shown(args, code)
        self.returncode: int | None = None
        self._connection, self.pid = _start(
            args,
            env=env,
            code=code,
            stdin=None,
            stdout=log,
            stderr=log,
            append=True,
            new_session=start_new_session,
        )

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._connection], [], [], 0)[0]:
            self._ended()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._connection], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            self._ended()
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # ended, not yet reported
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def _ended(self) -> None:
        self.returncode = _receive(self._connection)["returncode"]
        self._connection.close()


def _read(path: Path) -> str:
    # What `text=True` does: the locale's encoding, universal newlines.
    with path.open(newline=None) as file:
        return file.read()


if __name__ == "__main__":  # pragma: no cover
    _serve(sys.argv[1])
