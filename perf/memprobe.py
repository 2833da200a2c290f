"""A pytest plugin for perf/load_memory.py: this process's memory over a session.

Loaded with ``-p memprobe`` (``perf/`` on ``PYTHONPATH``); writes one JSON object to the file
named by ``LLMBENCH_MEMPROBE``: the RSS before the first test, the peak RSS (``VmHWM``) at the
end of the session, after the results were written, and the largest RSS a sampler saw during
the tests' calls and after them (a sample every 0.2 s).
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import pytest

_state: dict[str, Any] = {"phase": "setup", "peaks": {}}


def _status(key: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return 0.0


def _sample(stop: threading.Event) -> None:
    peaks = _state["peaks"]
    while not stop.wait(0.2):
        phase = _state["phase"]
        peaks[phase] = max(peaks.get(phase, 0.0), _status("VmRSS:"))


def pytest_sessionstart(session: pytest.Session) -> None:
    stop = threading.Event()
    _state["stop"] = stop
    threading.Thread(target=_sample, args=(stop,), daemon=True).start()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    _state.setdefault("before_mb", _status("VmRSS:"))
    _state["phase"] = "call"
    try:
        return (yield)
    finally:
        _state["phase"] = "after"
        _state["call_end_mb"] = _status("VmRSS:")


def pytest_unconfigure(config: pytest.Config) -> None:
    path = os.environ.get("LLMBENCH_MEMPROBE")
    stop = _state.pop("stop", None)
    if stop is not None:
        stop.set()
    if not path:
        return
    figures = {
        "before_mb": _state.get("before_mb"),
        "call_end_mb": _state.get("call_end_mb"),
        "peak_call_mb": _state["peaks"].get("call"),
        "peak_after_mb": _state["peaks"].get("after"),
        "end_mb": _status("VmRSS:"),
        "hwm_mb": _status("VmHWM:"),
        "at": time.time(),
    }
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(figures, fh)
