"""Load points: what a load test drives a target at, as frozen data.

A load point is one target at a fixed concurrency (closed loop: a new request as soon as one ends)
or a request rate (open loop: arrivals from a seeded constant, Poisson or gamma process, optionally
capped by a maximum in flight), for a planned window or number of requests. Its id names it in
test ids (``c64``, ``r8poisson``, ``r8gamma0.5-m16``). Two more kinds are markers, not points: a
``sweep`` and a ``search`` generate their points at run time (one test each, ids ``sweep`` and
``search``). The requests a point sends are described by :class:`RequestShape`; an SLO
(:class:`Slo`) is a limit on a per-request field, judged per request (goodput) and at a
percentile (a search's verdict).

The ``load:`` section of ``config.yaml`` is read into one :class:`LoadLayer` per level (defaults,
provider, model); :func:`~.load_reader.load_settings` layers them with the ``--llm-load*``
options into one target's :class:`LoadSettings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "MAX_CONCURRENCY",
    "MAX_RATE",
    "MAX_REQUESTS",
    "MAX_SEED",
    "SLO_PERCENTILES",
    "WINDOW_FIELDS",
    "Arrival",
    "LoadLayer",
    "LoadMode",
    "LoadPoint",
    "LoadSettings",
    "PointEntry",
    "PointKind",
    "RequestShape",
    "Size",
    "Slo",
]

PointKind = Literal["concurrency", "rate", "sweep", "search"]
SearchOver = Literal["concurrency", "rate"]
#: ``points``: the listed points; ``sweep`` / ``search``: one marker whose points come at run time.
LoadMode = Literal["points", "sweep", "search"]
Arrival = Literal["constant", "poisson", "gamma"]
SizeKind = Literal["fixed", "uniform", "normal"]

#: The most streams one point may hold open, and its highest request rate (per second).
MAX_CONCURRENCY: Final = 10_000
MAX_RATE: Final = 10_000.0
#: The most requests one point may plan (``requests``, or rate × duration).
MAX_REQUESTS: Final = 10_000_000
#: The largest seed (a signed 64-bit integer, exact in JSON readers that use them).
MAX_SEED: Final = 2**63 - 1
#: The percentiles an SLO may be judged at, as the point summary's keys, and their quantiles.
SLO_PERCENTILES: Final[Mapping[str, float]] = {
    "p50": 0.5,
    "p90": 0.9,
    "p95": 0.95,
    "p99": 0.99,
    "p999": 0.999,
}
#: A point's window: what ends it and what the steady state leaves out.
WINDOW_FIELDS: Final = ("duration_s", "requests", "warmup_s", "cooldown_s")


def _exact(number: float) -> str:
    """``number`` as briefly as it reads back the same: ``8``, ``2.5``, ``0.1234567``."""
    short = f"{number:g}"
    return short if float(short) == number else repr(number)


@dataclass(frozen=True)
class Size:
    """A token count, fixed or drawn per request (seeded): ``uniform`` over [low, high],
    ``normal`` with ``mean`` and ``stdev`` clipped to [low, high]."""

    kind: SizeKind = "fixed"
    mean: int = 0
    low: int = 0
    high: int = 0
    stdev: float = 0.0


@dataclass(frozen=True)
class LoadPoint:
    """One point of load.

    ``duration_s`` or ``requests`` ends it (whichever comes first when both are set);
    ``warmup_s`` and ``cooldown_s`` are left out of the steady-state figures. A ``sweep`` or
    ``search`` marker carries only the window its generated points share.
    """

    kind: PointKind
    concurrency: int | None = None
    rate: float | None = None
    arrival: Arrival = "constant"
    #: The gamma process's shape (1: Poisson; below 1: burstier; above 1: more regular).
    burstiness: float = 1.0
    max_in_flight: int | None = None
    duration_s: float | None = 60.0
    requests: int | None = None
    warmup_s: float = 0.0
    cooldown_s: float = 0.0
    #: What a ``search`` varies: the concurrency, or the request rate (its points then take
    #: this marker's arrivals and ``max_in_flight``).
    over: SearchOver = "concurrency"

    @property
    def marker(self) -> bool:
        """A ``sweep`` or ``search``: its points are generated at run time."""
        return self.kind in ("sweep", "search")

    @property
    def id(self) -> str:
        """The point's name in test ids: ``c64``, ``r8``, ``r8poisson``, ``r2.5gamma0.5-m16``,
        ``sweep``, ``search``."""
        if self.kind == "search" and self.over == "rate":
            return "search-rate"
        if self.marker:
            return self.kind
        if self.kind == "concurrency":
            return f"c{self.concurrency}"
        name = f"r{self.rate:g}"
        if self.arrival == "poisson":
            name += "poisson"
        elif self.arrival == "gamma":
            name += f"gamma{self.burstiness:g}"
        if self.max_in_flight is not None:
            name += f"-m{self.max_in_flight}"
        return name

    @property
    def spec(self) -> str:
        """The point in the ``--llm-load`` grammar: ``concurrency=64``, ``rate=8:poisson:max=16``,
        ``rate=4:gamma=0.5``, ``sweep`` (its window is not part of it)."""
        if self.kind == "search" and self.over == "rate":
            # its arrivals always said: a bare search=rate is Poisson
            text = "search=rate" + (":constant" if self.arrival == "constant" else "")
        elif self.marker:
            return self.kind
        elif self.kind == "concurrency":
            return f"concurrency={self.concurrency}"
        else:
            text = f"rate={_exact(self.rate or 0.0)}"
        if self.arrival == "poisson":
            text += ":poisson"
        elif self.arrival == "gamma":
            text += f":gamma={_exact(self.burstiness)}"
        if self.max_in_flight is not None:
            text += f":max={self.max_in_flight}"
        return text


@dataclass(frozen=True)
class Slo:
    """A latency target: ``field`` (a per-request metric) ``<=`` ``limit`` for each request, and
    at ``percentile`` (a key of :data:`SLO_PERCENTILES`: ``p50`` … ``p999``) over a point's
    requests."""

    field: str
    limit: float
    percentile: str = "p99"

    @property
    def label(self) -> str:
        """The SLO as written: ``ttft_ms.p99 <= 500`` (it parses back to the same SLO)."""
        return f"{self.field}.{self.percentile} <= {self.limit:g}"

    @property
    def quantile(self) -> float:
        """The percentile as a fraction (``p99``: 0.99)."""
        return SLO_PERCENTILES[self.percentile]


@dataclass(frozen=True)
class RequestShape:
    """What each request of a point asks for."""

    prompt_tokens: Size = Size()
    output_tokens: Size = Size("fixed", 128)
    #: ``ignore_eos`` sent where the server takes it, so outputs have the planned length.
    ignore_eos: bool = True
    #: Share of each prompt (0..1) that is the same for every request of the point; the rest
    #: starts with a per-request cache-busting prefix.
    shared_prefix: float = 0.0
    #: A JSONL file of message lists (``{"messages": [...], "weight": 2}``) instead of the filler;
    #: an absolute path (the config names it relative to its own folder), checked at load time.
    dataset: str | None = None
    seed: int = 0


@dataclass(frozen=True)
class LoadSettings:
    """The load section of one target: its points, what each request asks, the SLOs, and when a
    point fails (its error rate above ``max_error_rate``)."""

    points: tuple[LoadPoint, ...] = ()
    shape: RequestShape = RequestShape()
    slos: tuple[Slo, ...] = ()
    max_error_rate: float = 0.05

    @property
    def mode(self) -> LoadMode:
        """``sweep`` or ``search`` when the points are that one marker, else ``points``."""
        if len(self.points) == 1 and self.points[0].kind == "sweep":
            return "sweep"
        if len(self.points) == 1 and self.points[0].kind == "search":
            return "search"
        return "points"


@dataclass(frozen=True)
class PointEntry:
    """A point as one level of ``load.points`` lists it: ``key`` names the entry in errors, and
    ``sets`` the window fields (:data:`WINDOW_FIELDS`) the entry gives itself, which beat the
    section's."""

    point: LoadPoint
    key: str
    sets: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LoadLayer:
    """One level's ``load:`` section (``key``: ``defaults.load``, ``providers.P.load``,
    ``providers.P.models[i].load``), validated; ``None``: the level leaves the key to the one
    below it. Layered key by key by :func:`~.load_reader.load_settings`."""

    key: str = "defaults.load"
    points: tuple[PointEntry, ...] | None = None
    duration_s: float | None = None
    requests: int | None = None
    warmup_s: float | None = None
    cooldown_s: float | None = None
    prompt_tokens: Size | None = None
    output_tokens: Size | None = None
    ignore_eos: bool | None = None
    shared_prefix: float | None = None
    dataset: str | None = None
    seed: int | None = None
    slos: tuple[Slo, ...] | None = None
    max_error_rate: float | None = None
