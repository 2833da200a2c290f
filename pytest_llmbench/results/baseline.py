"""Baselines: what a session is compared with. A saved results file, the newest one (``latest``),
or a compact baseline file meant to be committed (``--llm-save-baseline``).

Groups are matched by target and tier, never by pytest node id, so renaming a test or moving it
to another file keeps its history. A load point's requests are a group of their own, matched by
target and point id (``c64``, ``r8poisson``): its samples are the point's requests.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..schema import AGGREGATED_FIELDS, Key
from ..validation import Reader, ValidationError, short_repr
from .stats import group_order, summarize

__all__ = [
    "BASELINE_FORMAT",
    "Samples",
    "add_fields",
    "capacity_samples",
    "fingerprint",
    "load_baseline",
    "read_sample_groups",
    "sample_groups",
    "sample_order",
    "samples_of",
    "write_baseline",
]

BASELINE_FORMAT = "pytest-llmbench-baseline"
#: (target, tier) → field → the values of the runs; (target, point id) for a load point's
#: requests
Group = tuple[str, int | str | None]
Samples = dict[Group, dict[str, list[float]]]


def samples_of(records: Iterable[Mapping[str, Any]]) -> Samples:
    """Per target × tier (or target × load point), the values of every aggregated field over
    the successful requests."""
    groups: Samples = {}
    for record in records:
        if not record.get(Key.OK) or record.get(Key.TURN) is not None:
            continue
        if not record.get(Key.TARGET):
            continue
        point = record.get(Key.POINT)
        second = str(point) if point is not None else record.get(Key.TIER)
        add_fields(groups.setdefault((str(record[Key.TARGET]), second), {}), record)
    return groups


def add_fields(group: dict[str, list[float]], record: Mapping[str, Any]) -> None:
    """Add one successful request's aggregated fields to its group's samples."""
    for name in AGGREGATED_FIELDS:
        value = record.get(name)
        if isinstance(value, (int, float)):
            group.setdefault(name, []).append(float(value))


def sample_groups(samples: Samples) -> list[dict[str, Any]]:
    """Load points' samples as the groups of a results file's ``load.samples`` (the shape of a
    baseline file's groups, without their aggregates)."""
    return [
        {"target": target, "point": point, "samples": fields}
        for (target, point), fields in sorted(samples.items(), key=lambda kv: sample_order(kv[0]))
    ]


def read_sample_groups(groups: Iterable[Any], key: str) -> Samples:
    """The samples of ``groups`` (a baseline file's, or a results file's ``load.samples``)."""
    samples: Samples = {}
    for index, group in enumerate(groups):
        found, fields = _group_samples(_object(group, f"{key}[{index}]"))
        samples[found] = fields
    return samples


def sample_order(group: Group) -> tuple[bool, tuple[str, bool, int], str]:
    """How sample groups are sorted: target × tier groups first (as everywhere), then load
    points by target and point id."""
    target, second = group
    if isinstance(second, str):
        return (True, (target, False, 0), second)
    return (False, group_order((target, second)), "")


def capacity_samples(capacities: Iterable[Mapping[str, Any]]) -> Samples:
    """A load search's capacities as sample groups ``(target, "capacity")`` → ``capacity``: the
    value found (searches that found none are left out)."""
    groups: Samples = {}
    for capacity in capacities:
        value = capacity.get("value")
        if isinstance(value, (int, float)) and capacity.get(Key.TARGET):
            group = groups.setdefault((str(capacity[Key.TARGET]), Key.CAPACITY), {})
            group.setdefault(Key.CAPACITY, []).append(float(value))
    return groups


def fingerprint(config: Mapping[str, Any] | None) -> str | None:
    """A short hash of the (redacted) config, to tell when a baseline came from another setup."""
    if config is None:
        return None
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def resolve(spec: str, results_dir: Path, cwd: Path) -> Path:
    """``latest`` → the newest results file in ``results_dir``; otherwise a path."""
    if spec == "latest":
        files = sorted(results_dir.glob("*.json"), key=lambda p: p.stat().st_mtime)
        if not files:
            raise ValueError(f"--llm-baseline latest: no results file in {results_dir}")
        return files[-1]
    path = (cwd / spec).resolve()
    if path.is_dir():
        raise ValueError(f"--llm-baseline: {path} is a directory, not a results or baseline file")
    if not path.is_file():
        raise ValueError(f"--llm-baseline: {path} does not exist")
    return path


def _list(reader: Reader, name: str) -> list[Any]:
    value = reader.data.get(name)
    if not isinstance(value, list):
        reader.fail(name, f"must be a list, got {short_repr(value)}")
    return value


def _object(value: object, key: str) -> Reader:
    """``value`` as a :class:`Reader` (``None``: an empty object)."""
    value = {} if value is None else value
    if not isinstance(value, Mapping):
        raise ValidationError(key, f"must be an object, got {short_repr(value)}")
    return Reader(value, key)


def _group_samples(group: Reader) -> tuple[Group, dict[str, list[float]]]:
    """One group of a compact baseline: its (target, tier or point) and every field's
    samples."""
    target = group.get("target", str, required=True)
    tier = group.data.get("tier")
    point = group.get("point", str)
    if tier is not None and (isinstance(tier, bool) or not isinstance(tier, int)):
        group.fail("tier", f"must be a whole number or null, got {short_repr(tier)}")
    fields = _object(group.data.get("samples"), group.sub("samples"))
    samples: dict[str, list[float]] = {}
    for name, values in fields.data.items():
        key = fields.sub(str(name))
        if not isinstance(values, list):
            raise ValidationError(key, f"must be a list of numbers, got {short_repr(values)}")
        for index, value in enumerate(values):
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not number or not math.isfinite(value):
                raise ValidationError(
                    f"{key}[{index}]", f"must be a finite number, got {short_repr(value)}"
                )
        samples[str(name)] = [float(v) for v in values]
    return (target, point if point is not None else tier), samples


def _read_document(document: Reader, path: Path) -> tuple[Samples, dict[str, Any]]:
    """The samples and the self-description of a parsed baseline or results document."""
    if document.data.get("format") == BASELINE_FORMAT:
        samples = read_sample_groups(_list(document, "groups"), "groups")
        about = {
            "path": str(path),
            "created": document.data.get("created"),
            "fingerprint": document.data.get("config_fingerprint"),
        }
        return samples, about
    if "records" in document.data:
        records = _list(document, "records")
        for index, record in enumerate(records):
            _object(record, f"records[{index}]")
        metadata = _object(document.data.get("metadata"), "metadata").data
        about = {
            "path": str(path),
            "created": metadata.get("started"),
            "fingerprint": fingerprint(metadata.get("config")),
        }
        load = document.data.get("load")
        load = load if isinstance(load, dict) else {}
        # the load points' samples (every request's, also of points too large to carry their
        # records); a results file of an older version has only the records
        points: Samples = {}
        if isinstance(load.get("samples"), list):
            points = read_sample_groups(load["samples"], "load.samples")
        elif isinstance(load.get("records"), list):
            points = samples_of(r for r in load["records"] if isinstance(r, dict))
        capacities = load.get("capacities")
        found = capacity_samples(
            c for c in (capacities if isinstance(capacities, list) else []) if isinstance(c, dict)
        )
        return {**samples_of(records), **points, **found}, about
    raise ValidationError("", "is neither a results file nor a baseline file")


def load_baseline(path: Path) -> tuple[Samples, dict[str, Any]]:
    """The samples of a results file or a compact baseline file, and what it says about itself;
    a :class:`ValueError` ``--llm-baseline: FILE: KEY: problem`` for anything malformed."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise ValueError(f"--llm-baseline: {path}: cannot read: nested too deeply") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"--llm-baseline: cannot read {path}: {exc}") from None
    try:
        return _read_document(_object(document, ""), path)
    except ValidationError as exc:
        raise ValueError(f"--llm-baseline: {path}: {exc}") from None


def write_baseline(
    path: Path,
    records: Iterable[Mapping[str, Any]],
    config: Mapping[str, Any] | None,
    capacities: Iterable[Mapping[str, Any]] = (),
    load_samples: Samples | None = None,
) -> Path:
    """Write the compact baseline: per target × tier (and target × load point: its
    ``load_samples``), the samples and aggregates of each field, and each target's capacity
    (group ``point: capacity``)."""
    groups = []
    every = {**samples_of(records), **(load_samples or {}), **capacity_samples(capacities)}
    for (target, second), fields in sorted(every.items(), key=lambda kv: sample_order(kv[0])):
        where = {"point": second} if isinstance(second, str) else {"tier": second}
        groups.append(
            {
                "target": target,
                **where,
                "samples": {name: [round(v, 4) for v in values] for name, values in fields.items()},
                "aggregates": {name: summarize(values) for name, values in fields.items()},
            }
        )
    document = {
        "format": BASELINE_FORMAT,
        "version": 1,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        "config_fingerprint": fingerprint(config),
        "groups": groups,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return path
