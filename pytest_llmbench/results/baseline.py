"""Baselines: what a session is compared with. A saved results file, the newest one (``latest``),
or a compact baseline file meant to be committed (``--llm-save-baseline``).

Groups are matched by target and tier, never by pytest node id, so renaming a test or moving it
to another file keeps its history.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..schema import AGGREGATED_FIELDS, Key
from .stats import group_order, summarize

__all__ = [
    "BASELINE_FORMAT",
    "Samples",
    "fingerprint",
    "load_baseline",
    "samples_of",
    "write_baseline",
]

BASELINE_FORMAT = "pytest-llmbench-baseline"
#: (target, tier) → field → the values of the runs
Samples = dict[tuple[str, int | None], dict[str, list[float]]]


def samples_of(records: Iterable[Mapping[str, Any]]) -> Samples:
    """Per target × tier, the values of every aggregated field over the successful requests."""
    groups: Samples = {}
    for record in records:
        if not record.get(Key.OK) or record.get(Key.TURN) is not None:
            continue
        if not record.get(Key.TARGET):
            continue
        group = groups.setdefault((str(record[Key.TARGET]), record.get(Key.TIER)), {})
        for name in AGGREGATED_FIELDS:
            value = record.get(name)
            if isinstance(value, (int, float)):
                group.setdefault(name, []).append(float(value))
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
    if not path.is_file():
        raise ValueError(f"--llm-baseline: {path} does not exist")
    return path


def load_baseline(path: Path) -> tuple[Samples, dict[str, Any]]:
    """The samples of a results file or a compact baseline file, and what it says about itself."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"--llm-baseline: cannot read {path}: {exc}") from None
    if not isinstance(document, dict):
        raise ValueError(f"--llm-baseline: {path} is not a results or baseline file")
    if document.get("format") == BASELINE_FORMAT:
        samples: Samples = {}
        for group in document.get("groups", []):
            key = (str(group["target"]), group.get("tier"))
            samples[key] = {
                name: [float(v) for v in values]
                for name, values in group.get("samples", {}).items()
            }
        about = {
            "path": str(path),
            "created": document.get("created"),
            "fingerprint": document.get("config_fingerprint"),
        }
        return samples, about
    if "records" in document:
        metadata = document.get("metadata") or {}
        about = {
            "path": str(path),
            "created": metadata.get("started"),
            "fingerprint": fingerprint(metadata.get("config")),
        }
        return samples_of(document["records"]), about
    raise ValueError(f"--llm-baseline: {path} is neither a results file nor a baseline file")


def write_baseline(
    path: Path, records: Iterable[Mapping[str, Any]], config: Mapping[str, Any] | None
) -> Path:
    """Write the compact baseline: per target × tier, the samples and aggregates of each field."""
    groups = []
    for (target, tier), fields in sorted(
        samples_of(records).items(), key=lambda kv: group_order(kv[0])
    ):
        groups.append(
            {
                "target": target,
                "tier": tier,
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
