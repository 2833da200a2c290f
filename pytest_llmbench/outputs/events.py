"""The session's progress as it happens, for a dashboard to follow (``--llm-events PATH``).

One JSON object a line, appended and flushed at once (each line one ``write`` on a file opened
for appending, so lines from pytest-xdist workers and the controller do not interleave):

- ``{"event": "test", "test", "outcome", "message", "target", "tier", "run", "turn",
  "point", "figures": {…}}`` as each test finishes (from the controller, which sees every
  test's report): a request's TTFT, decode tok/s, TPOT, E2E, output tokens and error, or a load
  point's request rate, output tok/s, TTFT p50 and errors;
- ``{"event": "load", "test", "target", "point", "elapsed_s", "planned_s", "done",
  "in_flight", "errors"}`` about once a second while a load point runs (from the process
  running it);
- ``{"event": "end", "exit_status", "files"}`` when the session ends (the results written).

Every string was redacted and escaped as the report's are: no key reaches this file.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..schema import Key

__all__ = ["EventLog", "event_figures"]

#: What a test's event carries of each of its records' figures (the first record's).
FIGURE_FIELDS = (
    Key.TTFT_MS, Key.DECODE_TPS, Key.TPOT_MS, Key.E2E_MS, Key.OUTPUT_TOKENS, Key.ERROR,
)  # fmt: skip


class EventLog:
    """Appends events to ``path`` (``None``: nowhere)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, event: str, **fields: Any) -> None:
        """Append one event, at once."""
        if self.path is None:
            return
        line = json.dumps({"event": event, "at": time.time(), **fields}, default=str) + "\n"
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)


def event_figures(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A finished test's figures for its event: its first measured request's, or a load test's
    first point's rates and percentiles."""
    load = payload.get("load") or {}
    points = load.get("points") or []
    if points:
        point = points[0]
        steady = point.get("steady") or {}
        ttft = (point.get("percentiles") or {}).get(Key.TTFT_MS) or {}
        return {
            "point": point.get("point"),
            "request_rate": steady.get("request_rate"),
            "output_tps": steady.get("output_tps"),
            "ttft_p50_ms": ttft.get("p50"),
            "errors": point.get("errors"),
        }
    records = payload.get("records") or []
    first = records[0] if records else {}
    return {name: first.get(name) for name in FIGURE_FIELDS if first.get(name) is not None}
