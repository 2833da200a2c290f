"""A load point's per-second timeline (docs/metrics.md, "Under load"): in bins from the whole
window's start, the requests that ended in each, their output tokens, the time-weighted mean in
flight and the TTFT p50 of those whose first token came in it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..schema import Key, TimelineBin
from .stats import percentile

__all__ = ["timeline"]

_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000


def timeline(
    records: Sequence[Mapping[str, Any]],
    starts: Sequence[int],
    ends: Sequence[int],
    span: tuple[int, int],
    bin_s: float,
) -> list[TimelineBin]:
    """The point in bins of ``bin_s`` from the whole window's start: requests that ended in each
    (successful, failed, their output tokens), the time-weighted mean in flight over the bin,
    and the TTFT p50 of the successful requests whose first token arrived in it."""
    first, last = span
    size = max(1, round(bin_s * _NS_PER_S))
    count = max(1, -(-(last - first) // size))
    bins = _Bins(count)
    for record, start, end in zip(records, starts, ends, strict=True):
        bins.add(record, (start - first, end - first), size)
    out: list[TimelineBin] = []
    running = 0
    for index in range(count):
        running += bins.full[index]
        width = min(size, last - first - index * size)
        ttfts = sorted(bins.ttfts[index])
        out.append(
            {
                "t_s": index * size / _NS_PER_S,
                "completed": bins.done[index],
                "errors": bins.failed[index],
                Key.OUTPUT_TOKENS: bins.tokens[index],
                "in_flight": (bins.busy[index] + running * size) / width if width > 0 else 0.0,
                "ttft_p50_ms": percentile(ttfts, 50) if ttfts else None,
            }
        )
    return out


class _Bins:
    """The timeline's tallies, one list per figure (one object per point, not per request)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.done, self.failed, self.tokens = [0] * count, [0] * count, [0] * count
        #: ns in flight inside each bin, from the partial first and last bins of requests
        self.busy = [0] * count
        #: a difference array of the requests in flight over a whole bin (a long request: O(1))
        self.full = [0] * (count + 1)
        self.ttfts: list[list[float]] = [[] for _ in range(count)]

    def _bin(self, at_ns: int, size: int) -> int:
        return min(at_ns // size, self.count - 1)

    def add(self, record: Mapping[str, Any], span: tuple[int, int], size: int) -> None:
        """Tally one request, ``span`` its start and end in ns from the window's start."""
        start, end = span
        at, to = self._bin(start, size), self._bin(end, size)
        if record.get(Key.OK):
            self.done[to] += 1
            self.tokens[to] += record.get(Key.OUTPUT_TOKENS) or 0
            ttft = record.get(Key.TTFT_MS)
            if ttft is not None:
                self.ttfts[self._bin(start + round(ttft * _NS_PER_MS), size)].append(ttft)
        else:
            self.failed[to] += 1
        if at == to:
            self.busy[at] += end - start
        else:
            self.busy[at] += (at + 1) * size - start
            self.busy[to] += end - to * size
            self.full[at + 1] += 1
            self.full[to] -= 1
