"""The built-in server's truth for one request: what it logged it did, as the fields we measure."""

from __future__ import annotations

import contextlib
from typing import Any

from ..schema import Key, Truth

__all__ = ["truth_for", "truth_from_log"]


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


def truth_for(sim: Any, response_id: str | None, t0_ns: int) -> Truth | None:
    """What the built-in server logged for this request, as the fields we measure.

    Server and client stamp the same clock (CLOCK_MONOTONIC), so the true TTFT is the logged send
    time of the first token event minus the client's ``t0``; measured minus true is the harness's
    own error (delivery and stamping). ``server_ttft_ms`` counts from the server's receipt of the
    request instead, which leaves out the request's own trip.
    """
    data = _server_log(sim, response_id, t0_ns) if sim is not None else None
    return truth_from_log(data, t0_ns) if data is not None else None


def truth_from_log(data: dict[str, Any], t0_ns: int) -> Truth:
    """The fields we measure, from the built-in server's log entry of a request sent at ``t0``."""
    from ..servers.sim.log import RequestRecord

    log = RequestRecord.from_dict(data)
    truth: Truth = {Key.OUTPUT_TOKENS: log.output_tokens, Key.PROMPT_TOKENS: log.prompt_tokens}
    if log.events:
        first, last = log.events[0].sent_ns, log.events[-1].sent_ns
        truth[Key.TTFT_MS] = (first - t0_ns) / 1e6
        truth[Key.E2E_MS] = (last - t0_ns) / 1e6
        truth[Key.SERVER_TTFT_MS] = (first - log.recv_ns) / 1e6
        truth[Key.REQUEST_TRIP_MS] = (log.recv_ns - t0_ns) / 1e6
        if log.admit_ns is not None and log.admit_ns > log.recv_ns:
            truth[Key.SERVER_QUEUE_MS] = (log.admit_ns - log.recv_ns) / 1e6
        tokens = sum(event.tokens for event in log.events)
        if tokens >= 2 and last > first:
            truth[Key.TPOT_MS] = (last - first) / 1e6 / (tokens - 1)
    return truth
