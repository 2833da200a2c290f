"""Start and stop the simulator as a subprocess (standard library only: no aiohttp imported here).

>>> with SimServer.start(profiles={"sim-fast": {"ttft_ms": 5, "itl_ms": 1}}) as sim:
...     base = sim.base_url          # "http://127.0.0.1:PORT" (no /v1)
...     records = sim.requests()     # the truth log
...     for record in sim.iter_requests(): ...  # the same, page by page, first and last event
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

from pytest_llmbench.servers.process import StopsOnExit
from pytest_llmbench.servers.sim.truth_log import SimLog

__all__ = ["READY_PREFIX", "SimServer", "ready_line"]

#: The start of the simulator's ready line (:func:`ready_line`).
READY_PREFIX = "LLMBENCH_SIM_READY"
_TAIL_LINES = 40


def ready_line(base_url: str) -> str:
    """The line the simulator prints when it listens at ``base_url``
    (``LLMBENCH_SIM_READY http://127.0.0.1:PORT``); :class:`SimServer` waits for it."""
    return f"{READY_PREFIX} {base_url}"


class SimServer(StopsOnExit, SimLog):
    """A running simulator subprocess; see :meth:`start`."""

    def __init__(self, process: subprocess.Popen[str], base_url: str) -> None:
        self.process = process
        self.base_url = base_url
        self._tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None
        self._eof = False

    @classmethod
    def start(
        cls,
        profiles: Mapping[str, Mapping[str, object]] | None = None,
        default: Mapping[str, object] | None = None,
        log_path: Path | None = None,
        startup_timeout: float = 20.0,
    ) -> SimServer:
        """Spawn ``python -m pytest_llmbench.servers.sim`` on a free loopback port and wait for it.

        ``profiles`` maps model names to profile settings, ``default`` is the profile of every
        other name. Raises :class:`RuntimeError` (with the server's last output) if the server
        exits or is not ready within ``startup_timeout`` seconds.
        """
        spec = {
            "default": dict(default or {}),
            "models": {k: dict(v) for k, v in (profiles or {}).items()},
        }
        fd, spec_path = tempfile.mkstemp(prefix="llmbench-sim-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(spec, fh)
        argv = [
            sys.executable, "-m", "pytest_llmbench.servers.sim",
            "--host", "127.0.0.1", "--port", "0",
            "--profiles-json", spec_path,
            "--parent-pid", str(os.getpid()),
        ]  # fmt: skip
        if log_path is not None:
            argv += ["--log", str(log_path)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
                env=env,
            )
            server = cls(process, "")
            atexit.register(server.stop)
            server._reader = threading.Thread(
                target=server._read_output, name="llmbench-sim-output", daemon=True
            )
            server._reader.start()
            server._ready.wait(startup_timeout)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(spec_path)
        if not server.base_url:
            server._fail_start(startup_timeout)
        return server

    def _fail_start(self, startup_timeout: float) -> NoReturn:
        code = self.process.poll()
        if code is None and self._eof:  # output closed: the process is on its way out
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self.process.wait(5.0)
        self.stop()
        why = (
            f"exited with status {code}"
            if code is not None
            else f"was not ready within {startup_timeout:g} s"
        )
        raise RuntimeError(f"llmbench simulator {why}; last output:\n{self.output_tail()}")

    def _read_output(self) -> None:
        stream = self.process.stdout
        if stream is None:  # pragma: no cover - stdout is always a pipe here
            self._ready.set()
            return
        prefix = ready_line("")
        for line in stream:
            self._tail.append(line.rstrip("\n"))
            if not self.base_url and line.startswith(prefix):
                self.base_url = line[len(prefix) :].strip()
                self._ready.set()
        self._eof = True
        self._ready.set()  # EOF: the process has gone

    def output_tail(self) -> str:
        """The last lines the server printed (stdout and stderr together)."""
        return "\n".join(self._tail)

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    def _after_stop(self) -> None:
        if self._reader is not None:
            self._reader.join(timeout=2.0)
        if self.process.stdout is not None:
            self.process.stdout.close()
