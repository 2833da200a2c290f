"""One load point's figures from its shards' records (load spread over pytest-xdist workers).

Each shard sends its part (:func:`shard_part`): the rows of its requests, already on the
controller's timeline (the worker subtracts its measured clock offset), its pooled ITL values,
its client's lags and CPU time, and when it actually started. :func:`merge_parts` puts every
shard's rows together and computes every figure of the point from them, exactly as for one
process (:func:`~.load_figures.point_figures`): percentiles over the merged requests, never an
average of shards' percentiles. The point also says, per shard, where it ran, its clock offset
and uncertainty and its start; the start skew is the spread of the shards' observed starts.

A shard whose worker died is *lost*: the point keeps the other shards' records and fails,
naming the worker. A shard whose clock is known to less than :data:`CLOCK_BOUND_MS` either way
is flagged: its requests' times on the controller's timeline are that uncertain.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from typing import Any

from ..config.load_spec import LoadPoint, Slo
from ..schema import Key, LoadPointResult, Record
from .load_figures import point_figures, request_end_ns
from .load_records import INLINE_RECORDS, row_samples

__all__ = ["CLOCK_BOUND_MS", "merge_parts", "shard_part", "shards_note"]

#: A shard's clock offset known less well than this (± ms) is flagged on the point.
CLOCK_BOUND_MS = 1.0


def shard_part(
    *,
    about: Mapping[str, Any],
    rows: list[dict[str, Any]],
    itl_ms: array[float],
    inline: list[Record] | None,
    lags_ms: Sequence[float],
    cpu_s: float | None,
    wall_s: float | None,
    started_ns: int | None,
) -> dict[str, Any]:
    """What one shard sends (plain data for execnet): ``about`` says which point (``test``,
    ``target``, ``name``, ``point``, ``slos``, ``max_error_rate``) and which shard (``index``,
    ``count``, ``worker``, ``host``, ``offset_ns``, ``uncertainty_ns``, ``rtt_ns``,
    ``planned_start_ns``, ``records_file``); ``started_ns`` is when its first timer ran, on the
    controller's clock (``None``: it sent nothing)."""
    return {
        **about,
        "rows": rows,
        "itl": array("f", itl_ms).tobytes(),
        "inline": inline,
        "lags": array("d", lags_ms).tobytes(),
        "cpu_s": cpu_s,
        "wall_s": wall_s,
        "started_ns": started_ns,
    }


def merge_parts(
    parts: Sequence[Mapping[str, Any]], lost: Mapping[int, str]
) -> tuple[LoadPointResult, list[Record] | None, dict[str, list[float]], list[dict[str, Any]]]:
    """The point's figures from its shards' ``parts`` (``lost``: why each missing shard is
    missing), its merged slim records (``None`` when too many or a shard kept none), its
    samples and every shard's rows together, in order of sending."""
    first = parts[0]
    point = LoadPoint(**first["point"])
    slos = [Slo(**slo) for slo in first["slos"]]
    rows = sorted((row for part in parts for row in part["rows"]), key=lambda r: r[Key.T0_NS])
    itl: array[float] = array("f")
    lags: array[float] = array("d")
    for part in parts:
        itl.frombytes(part["itl"])
        lags.frombytes(part["lags"])
    busiest = max(parts, key=lambda p: (p["cpu_s"] or 0.0) / (p["wall_s"] or 1.0))
    result = point_figures(
        rows, test=first["test"], target=first["target"], point=point, slos=slos,
        loop_lags_ms=lags, cpu_s=busiest["cpu_s"], wall_s=busiest["wall_s"],
        max_error_rate=first["max_error_rate"], pooled={Key.ITL_MS: itl},
    )  # fmt: skip
    result["point"] = first["name"]
    _describe_shards(result, parts, lost)
    return result, _inline(parts, result, first["test"]), row_samples(rows), rows


def _describe_shards(
    result: LoadPointResult, parts: Sequence[Mapping[str, Any]], lost: Mapping[int, str]
) -> None:
    """Each shard's worker, clock and start on the point; the start skew; flags for lost
    shards and uncertain clocks."""
    shards: list[dict[str, Any]] = []
    starts: list[int] = []
    for part in sorted(parts, key=lambda p: p["index"]):
        planned, started = part["planned_start_ns"], part["started_ns"]
        if started is not None:
            starts.append(started)
        shards.append(
            {
                "shard": part["index"] + 1,
                "worker": part["worker"],
                "host": part["host"],
                "requests": len(part["rows"]),
                "offset_ms": part["offset_ns"] / 1e6,
                "uncertainty_ms": part["uncertainty_ns"] / 1e6,
                "rtt_ms": part["rtt_ns"] / 1e6,
                "start_late_ms": (started - planned) / 1e6 if started is not None else None,
                "records_file": part["records_file"],
            }
        )
        if part["uncertainty_ns"] / 1e6 > CLOCK_BOUND_MS:
            result["flags"].append(
                f"clock of {part['worker']} ({part['host']}) uncertain: ± "
                f"{part['uncertainty_ns'] / 1e6:.2f} ms > {CLOCK_BOUND_MS:g} ms"
            )
    count = parts[0]["count"]
    for index, why in sorted(lost.items()):
        shards.append({"shard": index + 1, "lost": why})
        result["flags"].append(f"shard {index + 1} of {count} lost: {why}")
    result["shards"] = shards
    result["start_skew_ms"] = (max(starts) - min(starts)) / 1e6 if len(starts) > 1 else None
    result["records_file"] = parts[0]["records_file"]


def _inline(
    parts: Sequence[Mapping[str, Any]], result: LoadPointResult, test: str
) -> list[Record] | None:
    """Every shard's slim records in order of sending, numbered anew, named by the point's
    ``test`` (not a shard's) and marked steady by the merged window (``None`` past
    :data:`INLINE_RECORDS` or when a shard carries none)."""
    if any(part["inline"] is None for part in parts):
        return None
    records: list[Record] = [record for part in parts for record in part["inline"]]
    if len(records) > INLINE_RECORDS:
        return None
    records.sort(key=lambda r: r[Key.T0_NS])
    start, end = result["steady"]["start_ns"], result["steady"]["end_ns"]
    for index, record in enumerate(records):
        record[Key.REQUEST] = index
        record[Key.TEST] = test
        record[Key.STEADY] = start <= request_end_ns(record) <= end
    return records


def shards_note(result: LoadPointResult) -> str:
    """The point's shards in a line: ``2 shards (gw0 on vm, gw1 on vm): start skew 0.021 ms,
    clocks known to ± 0.044 ms``."""
    shards = [s for s in result.get("shards") or () if "lost" not in s]
    where = ", ".join(f"{s['worker']} on {s['host']}" for s in shards)
    skew = result.get("start_skew_ms")
    unsure = max((s["uncertainty_ms"] for s in shards), default=0.0)
    said = f"start skew {skew:.3f} ms" if skew is not None else "one shard sent"
    return f"{len(shards)} shards ({where}): {said}, clocks known to ± {unsure:.3f} ms"
