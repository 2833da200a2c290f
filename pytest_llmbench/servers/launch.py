"""Run a server module in this process, tied to its parent and with a time-stamped log.

``python -m pytest_llmbench.servers.launch LOG PARENT_PID MODULE [ARG ...]`` is how the plugin
starts a managed server (see :mod:`.process`). Before handing over to ``MODULE`` (as
``python -m MODULE ARG ...`` would), it:

* ends itself when the parent is gone: ``PR_SET_PDEATHSIG`` on Linux, and everywhere
  :func:`~.process.watch_parent`, so a killed pytest leaves no server behind;
* routes file descriptors 1 and 2 (Python's prints and the C library's alike, such as llama.cpp's
  timing lines) through a pipe to ``LOG``, each line prefixed with the ``time.monotonic_ns()`` at
  which it arrived. The plugin stamps requests with the same clock, so it can tell which log lines
  a request caused.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import runpy
import signal
import sys
import threading
import time
import traceback

from .process import watch_parent

__all__ = ["main"]

_PR_SET_PDEATHSIG = 1
_TERM_GRACE_S = 5.0


def _die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    def end() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(_TERM_GRACE_S)
        os._exit(1)  # the server ignored SIGTERM

    if os.getppid() != parent_pid:
        os._exit(1)  # the parent died before we got here
    watch_parent(parent_pid, end)


def _stamp_output(log_path: str) -> threading.Thread:
    read_fd, write_fd = os.pipe()
    log = open(log_path, "ab", buffering=0)  # noqa: SIM115 - lives as long as the process
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(write_fd, 1)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]

    def relay() -> None:
        with os.fdopen(read_fd, "rb") as pipe:
            for line in pipe:
                log.write(b"%d " % time.monotonic_ns() + line)

    thread = threading.Thread(target=relay, name="llmbench-log-relay", daemon=True)
    thread.start()
    return thread


def _drain(relay: threading.Thread) -> None:
    """Close our end of the pipe and let the relay write the last lines (an exit's reason)."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    relay.join(timeout=2)


def main(argv: list[str]) -> None:
    if len(argv) < 3:
        raise SystemExit("usage: python -m pytest_llmbench.servers.launch LOG PPID MODULE ...")
    log_path, parent_pid, module, *args = argv
    _die_with_parent(int(parent_pid))
    relay = _stamp_output(log_path)
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        raise SystemExit(1) from None
    finally:
        _drain(relay)


if __name__ == "__main__":
    main(sys.argv[1:])
