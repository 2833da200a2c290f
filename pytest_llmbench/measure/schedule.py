"""When each request of a load point is due: arrival processes, seeded, as absolute offsets.

An open-loop point at rate λ plans its arrivals before it starts: ``constant`` (every 1/λ),
``poisson`` (exponential gaps of mean 1/λ) or ``gamma`` (gamma gaps of mean 1/λ and shape
``burstiness``: 1 is Poisson, below 1 burstier, above 1 more regular). Offsets are cumulative
from the point's start (nanoseconds, exact sums, so a long point does not drift) and come from
``random.Random(seed)``: the same plan every run, different per seed.
"""

from __future__ import annotations

import random
from array import array

from ..config.load_spec import LoadPoint

__all__ = ["MAX_PLANNED", "arrival_offsets", "planned_requests"]

#: No point plans more requests than this (a runaway rate × duration is refused at config time).
MAX_PLANNED = 10_000_000


def planned_requests(point: LoadPoint) -> int | None:
    """How many requests an open-loop point sends: its ``requests``, else rate × duration
    (at least one); ``None`` for a closed loop bounded by time only."""
    if point.kind != "rate":
        return point.requests
    assert point.rate is not None
    by_time = None if point.duration_s is None else max(1, round(point.rate * point.duration_s))
    counts = [n for n in (point.requests, by_time) if n is not None]
    return min(min(counts), MAX_PLANNED) if counts else None


def arrival_offsets(point: LoadPoint, seed: int = 0) -> array[int]:
    """The due time of every request of a rate point, in ns from its start (the first at 0)."""
    assert point.kind == "rate"
    assert point.rate is not None
    assert point.rate > 0
    count = planned_requests(point) or 0
    rng = random.Random(f"{seed}:{point.id}")
    mean_s = 1.0 / point.rate
    offsets = array("q", [0]) if count else array("q")
    if point.arrival == "constant":
        return array("q", (round(i * mean_s * 1e9) for i in range(count)))
    total = 0.0
    for _ in range(count - 1):
        if point.arrival == "poisson":
            gap = rng.expovariate(point.rate)
        else:
            shape = point.burstiness
            gap = rng.gammavariate(shape, mean_s / shape)
        total += gap
        offsets.append(round(total * 1e9))
    return offsets
