"""A sweep and a search: load points generated while the test runs, from the points before.

``sweep`` (one test per target): a point at concurrency 1 (one request at a time: the target's
unloaded latency and the rate it sustains alone), a point at concurrency
:data:`SWEEP_CONCURRENCY` (its throughput under heavy load), then :data:`SWEEP_RATES` Poisson rates
spread evenly between the two rates, lowest first (when the heavy point sustains at least
:data:`SWEEP_ROOM` times the light one's rate). It stops climbing once the server no longer
keeps up (:func:`~..results.capacity.saturation`: throughput flat while TTFT or queueing grows)
and says so.

``search`` (one test per target, with SLOs): the highest concurrency whose point meets every SLO
at the percentile it names (:class:`~..results.capacity.Search`: double until a point fails, then
bisect), each point with enough requests for its percentiles and at least
:data:`SEARCH_ROUNDS` per slot (its window, ``duration_s``, still ends it first); the capacity
comes with its bracket, a bootstrap 95 % interval over requests and a cliff named as a cliff.
``search=rate`` searches request rates the same way (to within 10 %), starting from the rate one
stream at a time sustains (a ``c1`` point first), each point with :data:`SEARCH_RATE_S` seconds
of arrivals at least (Poisson unless the marker says otherwise).

Every generated point is a point of its own in the results (``sweep-c1``, ``search-c12``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from ..config.load_spec import LoadPoint, LoadSettings
from ..schema import LoadPointResult

__all__ = [
    "SEARCH_MAX", "SEARCH_MAX_RATE", "SEARCH_RATE_S", "SWEEP_CONCURRENCY", "SWEEP_RATES",
    "SWEEP_ROOM", "run_search", "run_sweep",
]  # fmt: skip

#: The sweep's heavy point: a concurrency most endpoints saturate at (vLLM's default batch is 256
#: sequences, llama.cpp's server 1 to a few slots).
SWEEP_CONCURRENCY = 64
#: Rates between the light and the heavy point …
SWEEP_RATES = 6
#: … when the heavy point sustains at least this many times the light one's rate: below it the
#: server serves about one request at a time (a one-slot llama.cpp server overlaps only its
#: HTTP work, 1.0-1.6x here), and rates a few percent apart are within a short point's noise.
SWEEP_ROOM = 1.5
#: The search doubles up to this concurrency at most.
SEARCH_MAX = 1024
#: A search point sends at least this many requests per slot (and the marker's window still
#: ends it early).
SEARCH_ROUNDS = 3
#: A search over rates doubles up to this rate at most (requests per second) …
SEARCH_MAX_RATE = 1024.0
#: … and each of its points sends this many seconds of arrivals at least.
SEARCH_RATE_S = 3.0

#: Runs a point: the rows of its requests (:mod:`..results.load_records`) and its figures.
RunOne = Callable[[LoadPoint, str], tuple[list[dict[str, Any]], LoadPointResult]]


def _steady_rate(result: LoadPointResult) -> float | None:
    window = result["steady"] if result["steady"]["completed"] else result["whole"]
    return window["request_rate"]


def run_sweep(marker: LoadPoint, run_one: RunOne) -> tuple[list[LoadPointResult], list[str]]:
    """Run a sweep (see the module docstring) with ``run_one(point, name)``; the figures of
    every point and what the sweep found, in words."""
    from ..results.capacity import flag_saturated, saturation

    def point(**fields: Any) -> LoadPoint:
        return dataclasses.replace(marker, **fields)

    _, light = run_one(point(kind="concurrency", concurrency=1), "sweep")
    _, heavy = run_one(point(kind="concurrency", concurrency=SWEEP_CONCURRENCY), "sweep")
    low, high = _steady_rate(light), _steady_rate(heavy)
    notes: list[str] = []
    ladder = [light]
    if not low or not high or high < low * SWEEP_ROOM:
        notes.append(
            f"no rates between c1 and c{SWEEP_CONCURRENCY}: their request rates "
            f"({low or 0:.3g} and {high or 0:.3g}/s, less than {SWEEP_ROOM:g}x apart) leave no "
            "room (the server serves about one at a time, or failed)"
        )
    else:
        step = (high - low) / (SWEEP_RATES + 1)
        for i in range(1, SWEEP_RATES + 1):
            rate = float(f"{low + i * step:.3g}")
            _, result = run_one(point(kind="rate", rate=rate, arrival="poisson"), "sweep")
            ladder.append(result)
            found = saturation(ladder)
            if found is not None:
                notes.append(f"stopped climbing: {found}")
                break
    ladder.append(heavy)
    flagged = flag_saturated(ladder)
    return flagged, notes


def run_search(
    marker: LoadPoint, load: LoadSettings, run_one: RunOne, seed: int = 0
) -> tuple[list[LoadPointResult], dict[str, Any]]:
    """Run a search under ``load.slos`` with ``run_one(point, name)``: over concurrency, or
    over request rates from the rate one stream sustains (a c1 point first); the figures of
    every point and the capacity found (JSON-ready)."""
    from ..results.capacity import Search

    results: list[LoadPointResult] = []
    start: float = 1
    if marker.over == "rate":
        needed = Search(load.slos, max_error_rate=load.max_error_rate).requests_needed
        requests = max(marker.requests or 0, needed)
        probe = dataclasses.replace(marker, kind="concurrency", concurrency=1, requests=requests)
        _, alone = run_one(probe, "search")
        results.append(alone)
        start = float(f"{_steady_rate(alone) or 1.0:.3g}")
    search = Search(
        load.slos, kind=marker.over, start=start,
        maximum=SEARCH_MAX if marker.over == "concurrency" else SEARCH_MAX_RATE,
        max_error_rate=load.max_error_rate, seed=seed,
    )  # fmt: skip
    while (value := search.next_value()) is not None:
        point = _search_point(marker, value, search.requests_needed)
        records, result = run_one(point, "search")
        results.append(result)
        search.record(value, result, records)
    capacity = dataclasses.asdict(search.outcome())
    return results, capacity


def _search_point(marker: LoadPoint, value: float, needed: int) -> LoadPoint:
    """The point a search runs at ``value``: enough requests for the judged percentiles and
    every slot used for a few rounds (a concurrency), or :data:`SEARCH_RATE_S` of arrivals (a
    rate, its window widened to send them all)."""
    if marker.over == "concurrency":
        requests = max(marker.requests or 0, needed, SEARCH_ROUNDS * int(value))
        return dataclasses.replace(
            marker, kind="concurrency", concurrency=int(value), requests=requests
        )
    requests = max(marker.requests or 0, needed, math.ceil(value * SEARCH_RATE_S))
    window = requests / value
    duration = None if marker.duration_s is None else max(marker.duration_s, window)
    return dataclasses.replace(
        marker, kind="rate", rate=value, requests=requests, duration_s=duration
    )
