"""Which processes are alive: for the tests that a server leaves nothing behind. And
pytest-xdist workers over execnet's socket server (:func:`socket_workers`)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

#: What execnet's socket server prints, with the address it listens on, before each ``accept``
#: (``execnet/script/socketserver.py``: after ``bind`` and ``listen``).
_LISTENING = re.compile(r"Entering Accept loop \('127\.0\.0\.1', (\d+)\)")
#: How long a socket server may take to end on SIGTERM before its process group is killed.
STOP_TIMEOUT_S = 10.0


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def processes_with(*markers: str) -> list[int]:
    """Pids of live processes whose command line contains every one of ``markers``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if all(marker in cmdline for marker in markers) and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


@contextlib.contextmanager
def socket_workers(
    count: int, *, chdir: Path | None = None, timeout_s: float = 30.0
) -> Iterator[list[str]]:
    """``--tx`` specs (``socket=127.0.0.1:PORT``) for ``count`` pytest-xdist workers, each served
    by an execnet socket server of its own, started here with this interpreter
    (``sys.executable``: the venv, where the plugin is installed) and stopped, and reaped, on exit.

    A socket server runs one gateway at a time, in its own process (the worker's pid is the
    server's), so each ``--tx`` needs a server: a second one on the same port waits forever. The
    server outlives its gateway but keeps what the session left in it (modules, ``os.environ``,
    ``sys.path``), so the servers are fresh for each ``with``. It runs code for whoever connects,
    so it listens on 127.0.0.1 only, on a port the kernel picks.

    xdist starts a non-popen worker in ``chdir`` (default ``pyexecnetcache``, relative to the
    server's own temporary directory), copies pytest there (always: not ``--rsyncdir``) and
    collects from there: give a pytester project's ``chdir`` (appended as ``//chdir=``) for the
    workers to collect its tests, with its rootdir and conftest.
    """
    suffix = f"//chdir={chdir.resolve()}" if chdir is not None else ""
    with (
        tempfile.TemporaryDirectory(prefix="socket-workers-") as tmp,
        contextlib.ExitStack() as servers,
    ):
        ports = [
            servers.enter_context(_socket_server(Path(tmp) / f"server{index}", timeout_s))
            for index in range(count)
        ]
        yield [f"socket=127.0.0.1:{port}{suffix}" for port in ports]


@contextlib.contextmanager
def _socket_server(directory: Path, timeout_s: float) -> Iterator[int]:
    """One execnet socket server, in ``directory`` and a process group of its own (whatever its
    worker starts goes with it); yields its port once it listens. Its output, and its worker's,
    go to ``directory.log``."""
    directory.mkdir()
    log = directory.with_suffix(".log")
    # the outer session's, when it runs under xdist (a worker sets its own)
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PYTEST_XDIST_") and name != "PYTEST_CURRENT_TEST"
    }
    command = [sys.executable, "-u", "-m", "execnet.script.socketserver", "127.0.0.1:0"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        yield _listening_port(process, log, timeout_s)
    finally:
        _stop(process)


def _listening_port(process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> int:
    """The port the socket server says it listens on (it prints it once it does)."""
    deadline = time.monotonic() + timeout_s
    while True:
        listening = _LISTENING.search(log.read_text(errors="replace"))
        if listening is not None:
            return int(listening.group(1))
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                f"execnet's socket server never listened:\n{log.read_text(errors='replace')}"
            )
        time.sleep(0.02)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group; what is left of it after :data:`STOP_TIMEOUT_S`,
    or once the server has ended, is killed. Then the server is reaped."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    # not reaped yet: a zombie keeps its pid, so the group's id is still its own
    while alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
