"""SIGTERM (what CI runners and container stops send) handled like Ctrl-C, so a stopped session
still writes its results."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

__all__ = [
    "SigtermHandler",
    "install_sigterm_handler",
    "restore_sigterm_handler",
    "sigterm_no_longer_interrupts",
]

_HANDLER_KEY: pytest.StashKey[SigtermHandler] = pytest.StashKey()


class SigtermHandler:
    """SIGTERM (what CI runners and container stops send) handled like Ctrl-C.

    The first one interrupts the main thread as Ctrl-C would: it calls the SIGINT handler in
    force when that is not Python's own (asyncio's runner, while an async test runs, cancels the
    test's task and then raises), else raises :class:`KeyboardInterrupt`. The session ends on
    pytest's interrupted path: results written, exit status 2. A SIGTERM while the results are
    being written lets them finish, and the exit status is 2 all the same; repeats while the
    session winds down are ignored (SIGKILL still ends it). In a session that measures nothing
    (no benchmark test collected, nothing recorded) the handler that was there before acts.

    Installed in the controller only: pytest-xdist never sends its workers SIGTERM (it asks them
    to exit, execnet interrupts a busy one with SIGINT after 5 s, SIGKILL comes after 10 s), and a
    controller that is told to stop ends its workers that way.
    """

    def __init__(self, measuring: Callable[[], bool]) -> None:
        self._measuring = measuring
        self.previous: Any = signal.SIG_DFL
        self.raised = False
        self.ending: pytest.Session | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if not self._measuring():
            self._as_before(signum, frame)
            return
        if self.ending is not None:
            self.ending.exitstatus = pytest.ExitCode.INTERRUPTED
            return
        if self.raised:
            return
        self.raised = True
        ctrl_c = signal.getsignal(signal.SIGINT)
        if callable(ctrl_c) and ctrl_c is not signal.default_int_handler:
            ctrl_c(signal.SIGINT, frame)  # asyncio's runner: cancel the test's task, then raise
            return
        raise KeyboardInterrupt("SIGTERM")

    def _as_before(self, signum: int, frame: FrameType | None) -> None:
        previous = self.previous
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:  # the default: die of the signal, as without us
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)


def install_sigterm_handler(config: pytest.Config, measuring: Callable[[], bool]) -> None:
    """Install the handler for this session (main thread only; the previous one is kept)."""
    if threading.current_thread() is not threading.main_thread():
        return
    handler = SigtermHandler(measuring)
    handler.previous = signal.signal(signal.SIGTERM, handler)
    config.stash[_HANDLER_KEY] = handler


def sigterm_no_longer_interrupts(config: pytest.Config, session: pytest.Session) -> None:
    """From here on (the results are being written) a SIGTERM only sets the exit status."""
    handler = config.stash.get(_HANDLER_KEY, None)
    if handler is not None:
        handler.ending = session


def restore_sigterm_handler(config: pytest.Config) -> None:
    """Put back the SIGTERM handler that was there before the session."""
    handler = config.stash.get(_HANDLER_KEY, None)
    if handler is None:
        return
    del config.stash[_HANDLER_KEY]
    previous = handler.previous
    if signal.getsignal(signal.SIGTERM) is handler:  # else whoever replaced it restores theirs
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
