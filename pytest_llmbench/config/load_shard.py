"""One shard's share of a load point spread over several client processes.

A point run by ``count`` shards at once (pytest-xdist workers, :mod:`..plugin.shard_client`) is
divided so that the shards together send the point as one process would:

- a concurrency: ``c // count`` slots each, the first ``c % count`` shards one more (a shard
  with no slot sends nothing); its ``requests`` the same way;
- a rate: every shard computes the whole point's arrival schedule (same seed, same times) and
  sends every ``count``-th arrival from its index on, so the merged arrivals are exactly those of
  the unsharded point (a Poisson schedule thinned round robin: each shard's own arrivals are not
  Poisson, their sum is the planned one); ``max_in_flight`` is shared like slots (at least one
  each).
"""

from __future__ import annotations

import dataclasses
import re
from array import array
from dataclasses import dataclass

from .load_spec import LoadPoint

__all__ = ["SHARD_ID", "Shard", "shard_of"]


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (from 0) of ``count``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} of {self.count}")

    @property
    def label(self) -> str:
        """The shard in test ids: ``shard1of2`` (counted from 1)."""
        return f"shard{self.index + 1}of{self.count}"

    def share(self, total: int) -> int:
        """This shard's part of ``total`` slots or requests (the parts add up to ``total``)."""
        part, extra = divmod(total, self.count)
        return part + (1 if self.index < extra else 0)

    def point(self, point: LoadPoint) -> LoadPoint:
        """The part of ``point`` this shard sends (its rate is the point's over ``count``: the
        arrivals themselves come from :meth:`arrivals`)."""
        if self.count == 1:
            return point
        concurrency, rate, cap, requests = (
            point.concurrency,
            point.rate,
            point.max_in_flight,
            point.requests,
        )
        if point.kind == "concurrency" and concurrency is not None:
            concurrency = self.share(concurrency)
        if point.kind == "rate" and rate is not None:
            rate = rate / self.count
            cap = max(1, self.share(cap)) if cap is not None else None
        if requests is not None:
            requests = self.share(requests)
        return dataclasses.replace(
            point, concurrency=concurrency, rate=rate, max_in_flight=cap, requests=requests
        )

    def empty(self, point: LoadPoint) -> bool:
        """Whether this shard has nothing to send of ``point`` (fewer slots or requests than
        shards)."""
        part = self.point(point)
        return part.concurrency == 0 or part.requests == 0

    def arrivals(self, offsets: array[int]) -> array[int]:
        """This shard's arrivals of the whole point's schedule (due times from its start)."""
        return offsets[self.index :: self.count]


#: A shard's test id ends ``-shard2of4]``.
SHARD_ID = re.compile(r"-shard(\d+)of(\d+)\]$")


def shard_of(nodeid: str) -> tuple[str, int, int] | None:
    """``(the point's test id without the shard, shard index from 0, shards)`` of a shard's
    test id, else ``None``."""
    match = SHARD_ID.search(nodeid)
    if match is None:
        return None
    return nodeid[: match.start()] + "]", int(match.group(1)) - 1, int(match.group(2))
