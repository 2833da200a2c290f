"""Server processes: what the simulator and the managed servers share.

The parent's side: :class:`StopsOnExit` stops a server we started (SIGTERM, a grace period, then
SIGKILL; also at exit); :class:`ManagedProcess` is a server started on a free loopback port under
:mod:`.launch`, which ties it to this process and writes its output to a log file, one line per
output line, each prefixed with the monotonic clock at which it was written (:func:`read_log`);
:data:`LOOPBACK_OPENER` talks to a server without any proxy. The server's side:
:func:`watch_parent` notices that the process which started it is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "LOOPBACK_OPENER",
    "LogLine",
    "ManagedProcess",
    "ManagedServerError",
    "StopsOnExit",
    "free_port",
    "read_log",
    "watch_parent",
]

LogLine = tuple[int, str]
_TAIL_LINES = 30
_POLL_S = 0.2
_PARENT_POLL_S = 0.5
#: Loopback only: never route a server's traffic through a proxy from the environment.
LOOPBACK_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def watch_parent(
    parent_pid: int, on_gone: Callable[[], None], poll_s: float = _PARENT_POLL_S
) -> threading.Event:
    """Call ``on_gone`` once, from a daemon thread, when ``parent_pid`` is no longer this
    process's parent (checked now, then every ``poll_s``); set the returned event to stop
    watching."""
    done = threading.Event()

    def watch() -> None:
        while os.getppid() == parent_pid:
            if done.wait(poll_s):
                return
        on_gone()

    threading.Thread(target=watch, name="llmbench-parent-watch", daemon=True).start()
    return done


class StopsOnExit:
    """A server process we started: :meth:`stop` sends SIGTERM, waits ``stop_grace_s``, then
    SIGKILL (safe to call again); a context manager that stops it on the way out."""

    process: subprocess.Popen[Any]
    stop_grace_s = 5.0
    _stopped = False

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(self.stop_grace_s)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait()
        self._after_stop()

    def _signal(self, signum: int) -> None:
        """Deliver ``signum`` to the server (the process itself, unless overridden)."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signum)

    def _after_stop(self) -> None:
        """Release what outlives the process (threads, pipes)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ManagedServerError(RuntimeError):
    """A managed server would not start; the message ends with the tail of its log."""


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def read_log(path: Path, offset: int = 0) -> tuple[list[LogLine], int]:
    """The complete stamped lines of ``path`` from byte ``offset``, and the offset after them."""
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except OSError:
        return [], offset
    end = data.rfind(b"\n") + 1  # a line still being written waits for the next read
    lines: list[LogLine] = []
    for raw in data[:end].splitlines():
        stamp, _, text = raw.partition(b" ")
        if stamp.isdigit():
            lines.append((int(stamp), text.decode("utf-8", "replace")))
    return lines, offset + end


class ManagedProcess(StopsOnExit):
    """One server process; see :meth:`start`. A context manager that stops it."""

    stop_grace_s = 10.0

    def __init__(self, name: str, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.name, self.process, self.port, self.log_path = name, process, port, log
        self.base_url = f"http://127.0.0.1:{port}"

    @classmethod
    def start(
        cls,
        name: str,
        module: str,
        args: Sequence[str],
        log_path: Path,
        ready_path: str,
        timeout_s: float,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ManagedProcess:
        """Run ``python -m module *args`` (``{port}`` in an arg becomes the port) under the
        launcher, and wait until ``GET ready_path`` answers 200.

        ``env`` is added to this process's environment. Raises :class:`ManagedServerError` naming
        the log and quoting its end when the process exits or does not answer within
        ``timeout_s``; the process is gone by then.
        """
        port = port or free_port()
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_bytes(b"")
        argv = [
            sys.executable, "-m", "pytest_llmbench.servers.launch",
            str(log_path), str(os.getpid()), module,
            *(arg.replace("{port}", str(port)) for arg in args),
        ]  # fmt: skip
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches pytest, which stops the server itself
            env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
        )
        server = cls(name, process, port, log_path)
        atexit.register(server.stop)
        try:
            server._wait_ready(ready_path, timeout_s)
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_ready(self, path: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            code = self.process.poll()
            if code is not None:
                self._fail(f"exited with status {code} while starting")
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                LOOPBACK_OPENER.open(self.base_url + path, timeout=2) as response,
            ):
                if response.status == 200:
                    return
            if time.monotonic() >= deadline:
                self._fail(f"did not answer at {self.base_url}{path} within {timeout_s:g} s")
            time.sleep(_POLL_S)

    def _fail(self, why: str) -> None:
        self.stop()
        raise ManagedServerError(
            f"{self.name} {why}; the end of its log ({self.log_path}):\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = _TAIL_LINES) -> str:
        """The last lines of the server's log, without their stamps."""
        entries, _ = read_log(self.log_path)
        return "\n".join(text for _, text in entries[-lines:]) or "(empty)"

    @property
    def pid(self) -> int:
        return self.process.pid

    def _signal(self, signum: int) -> None:
        """Signal the whole process group (the server and anything it started)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)
