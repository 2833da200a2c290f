"""The built-in server's truth for one request: what it logged it did, as the fields we measure."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..schema import Key, Truth

__all__ = ["TruthEnds", "truth_at", "truth_ends", "truth_for", "truth_from_log"]


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
    """The fields we measure, from the built-in server's log entry of a request sent at ``t0``:
    a full record or a compact one (``events="ends"``), which give the same truth."""
    return truth_at(truth_ends(data), t0_ns)


class TruthEnds(NamedTuple):
    """What the truth of a request needs from its log entry, as a tuple (a load point keeps one
    per request until its samples are made: about 300 bytes each)."""

    recv_ns: int
    admit_ns: int | None
    first_ns: int | None
    last_ns: int | None
    output_tokens: int
    prompt_tokens: int


def truth_ends(data: Mapping[str, Any]) -> TruthEnds:
    """The ends of a log entry: its receipt, admission, first and last events and token counts.
    Its delivered tokens are the record's ``output_tokens`` (for a stream, the sum of its events'
    tokens: each event adds to it), so a compact record gives the same truth as a full one."""
    events = data.get("events") or ()
    first = events[0]["sent_ns"] if events else None
    last = events[-1]["sent_ns"] if events else None
    return TruthEnds(
        int(data["recv_ns"]), data.get("admit_ns"), first, last,
        int(data.get(Key.OUTPUT_TOKENS) or 0), int(data.get(Key.PROMPT_TOKENS) or 0),
    )  # fmt: skip


def truth_at(ends: TruthEnds, t0_ns: int) -> Truth:
    """The truth of a request sent at ``t0`` (see :func:`truth_for`)."""
    truth: Truth = {Key.OUTPUT_TOKENS: ends.output_tokens, Key.PROMPT_TOKENS: ends.prompt_tokens}
    first, last = ends.first_ns, ends.last_ns
    if first is None or last is None:
        return truth
    truth[Key.TTFT_MS] = (first - t0_ns) / 1e6
    truth[Key.E2E_MS] = (last - t0_ns) / 1e6
    truth[Key.SERVER_TTFT_MS] = (first - ends.recv_ns) / 1e6
    truth[Key.REQUEST_TRIP_MS] = (ends.recv_ns - t0_ns) / 1e6
    if ends.admit_ns is not None and ends.admit_ns > ends.recv_ns:
        truth[Key.SERVER_QUEUE_MS] = (ends.admit_ns - ends.recv_ns) / 1e6
    tokens = ends.output_tokens
    if tokens >= 2 and last > first:
        truth[Key.TPOT_MS] = (last - first) / 1e6 / (tokens - 1)
    return truth
