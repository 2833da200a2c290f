"""The files a session leaves besides its ``.jsonl``: the results JSON's HTML report, the CI step
summary, and on request the pytest-benchmark export and a baseline file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config.options import Settings

if TYPE_CHECKING:
    from ..results.baseline import Samples

__all__ = ["write_session_files"]


def write_session_files(
    document: Mapping[str, Any],
    json_path: Path | None,
    jsonl_path: Path | None,
    records: Sequence[Mapping[str, Any]],
    settings: Settings,
    load_samples: Samples | None = None,
) -> list[Path]:
    """Write what follows from the results ``document`` (already at ``json_path``, and its records
    at ``jsonl_path``, when saved; ``load_samples`` its load points' samples); returns every
    result file, in the terminal's order."""
    from .step_summary import append_step_summary

    written = []
    if json_path is not None:
        from .report import write_html

        written += [json_path, write_html([document], json_path.with_suffix(".html"))]
    if jsonl_path is not None:
        written.append(jsonl_path)
        # the load points' full records, beside the results (one file per process; a point
        # spread over workers has one per shard: a remote worker's is on its own host)
        points = (document.get("load") or {}).get("points") or ()
        named = {p.get("records_file") for p in points}
        named |= {s.get("records_file") for p in points for s in p.get("shards") or ()}
        written += sorted(jsonl_path.parent / str(n) for n in named if n)
    append_step_summary(document)
    if settings.export_benchmark is not None:
        from .benchmark_export import export_benchmark

        written.append(export_benchmark(settings.export_benchmark, records))
    if settings.save_baseline is not None:
        from ..results.baseline import write_baseline

        config = document["metadata"].get("config")
        capacities = (document.get("load") or {}).get("capacities") or []
        path = settings.save_baseline
        written.append(write_baseline(path, records, config, capacities, load_samples))
    return written
