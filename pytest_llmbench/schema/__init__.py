"""The results schema (a base package: it imports nothing of the package, every folder may
import it). :mod:`.record` holds every per-request field, each metric's unit and better
direction and the field lists the outputs use; :mod:`.load_result` the figures of a load point.
This package is the one place that spells a metric's key (``"ttft_ms"``); every other module
names it through :class:`Key`.
"""

from .load_result import (
    ClientCheck,
    LoadPointResult,
    PointSummary,
    TimelineBin,
    Window,
)
from .record import (
    AGGREGATED_FIELDS,
    COMPARED_FIELDS,
    EXPORTED_FIELDS,
    GATED_FIELDS,
    HIGHER_IS_BETTER,
    JUNIT_FIELDS,
    LOWER_IS_BETTER,
    METRICS,
    SCHEMA_VERSION,
    TREND_FIELDS,
    Aggregate,
    Calibration,
    Key,
    Metric,
    Record,
    ServerTimings,
    Summary,
    Truth,
    metric,
)

__all__ = [
    "AGGREGATED_FIELDS",
    "COMPARED_FIELDS",
    "EXPORTED_FIELDS",
    "GATED_FIELDS",
    "HIGHER_IS_BETTER",
    "JUNIT_FIELDS",
    "LOWER_IS_BETTER",
    "METRICS",
    "SCHEMA_VERSION",
    "TREND_FIELDS",
    "Aggregate",
    "Calibration",
    "ClientCheck",
    "Key",
    "LoadPointResult",
    "Metric",
    "PointSummary",
    "Record",
    "ServerTimings",
    "Summary",
    "TimelineBin",
    "Truth",
    "Window",
    "metric",
]
