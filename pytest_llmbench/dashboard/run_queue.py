"""The dashboard's runs: one ``pytest benchmarks …`` at a time, the others queued, each followed
through its events file (``--llm-events``) and cancellable the way Ctrl-C stops it.

A run is a subprocess in a session of its own, in the project's folder, its output in a log
beside its events (``.llmbench-dashboard/run-<n>.log`` and ``.events.jsonl`` in the project).
Cancel sends SIGINT to its process group, as a terminal's Ctrl-C does: pytest stops, the plugin
keeps every finished record (its ``.jsonl`` was flushed as each test ended) and writes its
results; a run that has not stopped :data:`CANCEL_GRACE_S` later is killed. A queued run that is
cancelled never starts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .project import Project
from .run_plan import RunPlan

__all__ = ["CANCEL_GRACE_S", "DashboardRun", "RunQueue"]

CANCEL_GRACE_S = 30.0


@dataclass
class DashboardRun:
    """One run: its plan, where its events go, and how far it got."""

    number: int
    plan: RunPlan
    argv: list[str]
    events: Path
    log: Path
    state: str = "queued"  # queued, running, finished, cancelled
    exit_status: int | None = None
    cancelled: bool = False
    started: float | None = None
    ended: float | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def describe(self) -> dict[str, Any]:
        """JSON-ready: number, state, exit status, times and the command (its arguments)."""
        return {
            "number": self.number, "state": self.state, "exit_status": self.exit_status,
            "started": self.started, "ended": self.ended, "command": self.argv[2:],
        }  # fmt: skip

    def read_events(self, since: int = 0) -> list[dict[str, Any]]:
        """The run's events from line ``since`` on (a line still being written is left)."""
        if not self.events.is_file():
            return []
        lines = self.events.read_text(encoding="utf-8").split("\n")[:-1]
        return [json.loads(line) for line in lines[since:]]


class RunQueue:
    """Runs ``project``'s benchmarks one at a time (a thread starts each queued run in turn)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.runs: list[DashboardRun] = []
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, plan: RunPlan) -> DashboardRun:
        """Queue ``plan``; it starts when the runs before it have ended."""
        folder = self.project.folder / ".llmbench-dashboard"
        folder.mkdir(exist_ok=True)
        with self._lock:
            number = len(self.runs) + 1
            events = folder / f"run-{number}.events.jsonl"
            run = DashboardRun(number, plan, plan.argv(self.project, events), events,
                      folder / f"run-{number}.log")  # fmt: skip
            self.runs.append(run)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="llmbench-runs",
                                                daemon=True)  # fmt: skip
                self._thread.start()
            self._lock.notify_all()
        return run

    def get(self, number: int) -> DashboardRun | None:
        with self._lock:
            return next((r for r in self.runs if r.number == number), None)

    def cancel(self, number: int) -> DashboardRun | None:
        """Stop run ``number`` as Ctrl-C does (a queued one never starts)."""
        with self._lock:
            run = next((r for r in self.runs if r.number == number), None)
            if run is None or run.state in ("finished", "cancelled"):
                return run
            run.cancelled = True
            if run.state == "queued":
                run.state = "cancelled"
                return run
            process = run.process
        if process is not None:
            _interrupt(process)
        return run

    def _next(self) -> DashboardRun | None:
        with self._lock:
            return next((r for r in self.runs if r.state == "queued"), None)

    def _work(self) -> None:
        while (run := self._next()) is not None:
            with run.log.open("wb") as log:
                process = subprocess.Popen(
                    run.argv, cwd=self.project.folder, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True, env=_environment(),
                )  # fmt: skip
                with self._lock:
                    run.process, run.state, run.started = process, "running", time.time()
                status = process.wait()
            with self._lock:
                run.exit_status, run.ended = status, time.time()
                run.state = "cancelled" if run.cancelled else "finished"
                run.process = None


def _environment() -> dict[str, str]:
    """This process's environment for a run, without what would make its pytest believe it is
    another session's worker or test (a dashboard started from a test session)."""
    return {
        k: v for k, v in os.environ.items()
        if not k.startswith("PYTEST_XDIST_") and k != "PYTEST_CURRENT_TEST"
    }  # fmt: skip


def _interrupt(process: subprocess.Popen[bytes]) -> None:
    """SIGINT to the run's process group (pytest and its workers, as Ctrl-C); SIGKILL after
    :data:`CANCEL_GRACE_S` if it has not ended."""
    try:
        os.killpg(process.pid, signal.SIGINT)
    except ProcessLookupError:
        return

    def kill_late() -> None:
        try:
            process.wait(CANCEL_GRACE_S)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                return

    threading.Thread(target=kill_late, daemon=True).start()
