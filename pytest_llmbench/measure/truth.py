"""The built-in server's truth for one request: what it logged it did, as the fields we measure."""

from __future__ import annotations

import contextlib
from typing import Any

__all__ = ["truth_for"]


def _server_log(sim: Any, response_id: str | None, t0_ns: int) -> dict[str, Any] | None:
    """The server's log entry for a request: by its response id, or, where a client library
    replaced the id (LiteLLM does), the only request the server received after ``t0``."""
    try:
        if response_id:
            with contextlib.suppress(KeyError):
                log: dict[str, Any] = sim.request(response_id)
                return log
        received = sim.requests(since_ns=t0_ns)
    except OSError:  # truth is a bonus; an unreachable log is not a failure
        return None
    return received[0] if len(received) == 1 else None


def truth_for(sim: Any, response_id: str | None, t0_ns: int) -> dict[str, Any] | None:
    """What the built-in server logged for this request, as the fields we measure.

    Server and client stamp the same clock (CLOCK_MONOTONIC), so the true TTFT is the logged send
    time of the first token event minus the client's ``t0``; measured minus true is the harness's
    own error (delivery and stamping). ``server_ttft_ms`` counts from the server's receipt of the
    request instead, which leaves out the request's own trip.
    """
    log = _server_log(sim, response_id, t0_ns) if sim is not None else None
    if log is None:
        return None
    events = log.get("events") or []
    truth: dict[str, Any] = {
        "output_tokens": log.get("output_tokens"),
        "prompt_tokens": log.get("prompt_tokens"),
    }
    if events:
        first, last = events[0]["sent_ns"], events[-1]["sent_ns"]
        truth["ttft_ms"] = (first - t0_ns) / 1e6
        truth["e2e_ms"] = (last - t0_ns) / 1e6
        truth["server_ttft_ms"] = (first - log["recv_ns"]) / 1e6
        truth["request_trip_ms"] = (log["recv_ns"] - t0_ns) / 1e6
        tokens = sum(e.get("tokens", 1) for e in events)
        if tokens >= 2 and last > first:
            truth["tpot_ms"] = (last - first) / 1e6 / (tokens - 1)
    return truth
