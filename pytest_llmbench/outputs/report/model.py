"""Pure data extraction: one results document in, plain dataclasses out, nothing rendered.

Every field of a results file may be missing or ``None`` (older files, crashed sessions, a single
data point); each extractor falls back to what is there: statistics come from the per-request
records when they exist and from the stored ``aggregates`` otherwise, and the calibration is the
document's own or, without one, :func:`~pytest_llmbench.results.calibration.calibration` of the
records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...results.calibration import calibration
from ...schema import AGGREGATED_FIELDS, Key
from .load_model import LoadRun, extract_load, load_records
from .summary import Stats, num, percentile

__all__ = [
    "CalibrationErrors",
    "Conversation",
    "Distribution",
    "Group",
    "Issue",
    "Run",
    "Stats",
    "TargetInfo",
    "as_map",
    "extract",
    "num",
    "percentile",
]

#: The inter-token gap lists a record may hold (one of them: ITL when per-event token counts are
#: known, else ICL).
_GAP_FIELDS = (Key.ITL_MS, Key.ICL_MS)


def as_map(value: object) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one (documents may be partial)."""
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


@dataclass(frozen=True)
class TargetInfo:
    key: str
    provider: str
    model: str
    display_name: str
    simulated: bool

    @property
    def label(self) -> str:
        return self.display_name or self.model or self.key


@dataclass
class Group:
    """One target × context tier of the throughput benchmark."""

    target: str
    tier: int | None
    requests: int = 0
    errors: int = 0
    skipped: int = 0
    points: dict[str, list[tuple[int | None, float]]] = field(default_factory=dict)
    stats: dict[str, Stats] = field(default_factory=dict)

    def stat(self, name: str) -> Stats:
        return self.stats.get(name) or Stats(0)


@dataclass(frozen=True)
class Conversation:
    target: str
    summary: Mapping[str, Any]
    turns: list[Mapping[str, Any]]


@dataclass(frozen=True)
class Issue:
    """Failed or skipped tests of one target that share one message."""

    target: str
    status: str
    message: str
    tests: list[str]


@dataclass(frozen=True)
class Distribution:
    target: str
    kind: str  # one of _GAP_FIELDS
    n: int
    points: dict[str, float]  # p5 p25 p50 p75 p90 p95 p99 min max


@dataclass(frozen=True)
class CalibrationErrors:
    """The calibration summary (:data:`~pytest_llmbench.schema.Calibration`) and every request's
    errors per target, as :func:`~pytest_llmbench.results.calibration.calibration` defines them."""

    summary: Mapping[str, Any]
    ttft_error_ms: dict[str, list[float]]
    tpot_error_pct: dict[str, list[float]]


@dataclass
class Run:
    started: str
    metadata: Mapping[str, Any]
    targets: dict[str, TargetInfo]
    groups: list[Group]
    conversations: list[Conversation]
    failures: list[Issue]
    skips: list[Issue]
    distributions: list[Distribution]
    calibration: CalibrationErrors | None
    answers: list[tuple[str, str]]
    gate: list[Mapping[str, Any]] = field(default_factory=list)
    crosscheck: Mapping[str, Any] = field(default_factory=dict)
    load: LoadRun = field(default_factory=LoadRun)

    def label(self, target: str) -> str:
        info = self.targets.get(target)
        return info.label if info else target

    def groups_by_key(self) -> dict[tuple[str, int | None], Group]:
        """The groups by (target, tier)."""
        return {(g.target, g.tier): g for g in self.groups}

    def measured_targets(self) -> set[str]:
        """The targets with at least one measured request (a TTFT)."""
        return {g.target for g in self.groups if g.stat(Key.TTFT_MS).n}


def _target_infos(document: Mapping[str, Any]) -> dict[str, TargetInfo]:
    infos: dict[str, TargetInfo] = {}
    sources = [*_list(document.get("aggregates")), *_list(document.get("records"))]
    sources += [*_list(document.get("conversations")), *load_records(document)]
    for item in sources:
        item = as_map(item)
        key = item.get(Key.TARGET)
        if not isinstance(key, str) or (key in infos and infos[key].display_name):
            continue
        provider, _, model = key.partition("/")
        infos[key] = TargetInfo(
            key=key,
            provider=str(item.get(Key.PROVIDER) or provider),
            model=str(item.get(Key.MODEL) or model),
            display_name=str(item.get(Key.DISPLAY_NAME) or ""),
            simulated=bool(item.get(Key.SIMULATED)),
        )
    return infos


def _records(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [as_map(r) for r in _list(document.get("records")) if isinstance(r, Mapping)]


def _is_turn(record: Mapping[str, Any]) -> bool:
    return record.get(Key.TURN) is not None


def _tier(value: object) -> int | None:
    number = num(value)
    return int(number) if number is not None else None


def _groups(document: Mapping[str, Any], records: list[Mapping[str, Any]]) -> list[Group]:
    groups: dict[tuple[str, int | None], Group] = {}
    for agg in map(as_map, _list(document.get("aggregates"))):
        key = (str(agg.get(Key.TARGET)), _tier(agg.get(Key.TIER)))
        group = groups.setdefault(key, Group(*key))
        group.requests = int(num(agg.get(Key.REQUESTS)) or 0)
        group.errors = int(num(agg.get(Key.ERRORS)) or 0)
        group.skipped = int(num(agg.get(Key.SKIPPED)) or 0)
        for name, stats in as_map(agg.get(Key.METRICS)).items():
            group.stats[name] = Stats.from_aggregate(as_map(stats))
    counted: set[tuple[str, int | None]] = set(groups)
    for record in records:
        if _is_turn(record) or not isinstance(record.get(Key.TARGET), str):
            continue
        key = (record[Key.TARGET], _tier(record.get(Key.TIER)))
        group = groups.setdefault(key, Group(*key))
        status = record.get(Key.STATUS)
        if key not in counted:
            group.skipped += status == "skipped"
            group.requests += status != "skipped"
            group.errors += status == "failed" and not record.get(Key.OK)
        if status == "skipped" or not record.get(Key.OK, status == "passed"):
            continue
        run = record.get(Key.RUN)
        for name in AGGREGATED_FIELDS:  # the records' statistics replace the aggregates' own
            value = num(record.get(name))
            if value is not None:
                group.points.setdefault(name, []).append(
                    (run if isinstance(run, int) else None, value)
                )
    for group in groups.values():
        for name, points in group.points.items():
            group.stats[name] = Stats.of(v for _, v in points)
    order = {t: i for i, t in enumerate(dict.fromkeys(k[0] for k in groups))}
    return sorted(
        groups.values(), key=lambda g: (order[g.target], g.tier if g.tier is not None else -1)
    )


def _conversations(
    document: Mapping[str, Any], records: list[Mapping[str, Any]]
) -> list[Conversation]:
    turns: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        if _is_turn(record) and isinstance(record.get(Key.TARGET), str):
            turns.setdefault(record[Key.TARGET], [])
            if record.get(Key.OK) and record.get(Key.STATUS, "passed") == "passed":
                turns[record[Key.TARGET]].append(record)
    summaries = {
        str(c.get(Key.TARGET)): c for c in map(as_map, _list(document.get("conversations")))
    }
    result = []
    for target in dict.fromkeys([*summaries, *turns]):
        ordered = sorted(turns.get(target, []), key=lambda t: num(t.get(Key.TURN)) or 0)
        result.append(Conversation(target, summaries.get(target, {}), ordered))
    return result


def _issues(records: list[Mapping[str, Any]], status: str) -> list[Issue]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for record in records:
        if record.get(Key.STATUS) != status:
            continue
        message = record.get(Key.REASON) if status == "skipped" else record.get(Key.ERROR)
        if not message and status == "failed":
            message = record.get(Key.REASON)
        key = (str(record.get(Key.TARGET) or "?"), str(message or "(no message)"))
        grouped.setdefault(key, []).append(str(record.get(Key.TEST) or ""))
    return [Issue(t, status, m, tests) for (t, m), tests in grouped.items()]


def _distributions(records: list[Mapping[str, Any]]) -> list[Distribution]:
    pooled: dict[tuple[str, str], list[float]] = {}
    throughput_targets = {r.get(Key.TARGET) for r in records if not _is_turn(r) and r.get(Key.OK)}
    for record in records:
        target = record.get(Key.TARGET)
        if not isinstance(target, str) or not record.get(Key.OK):
            continue
        if _is_turn(record) and target in throughput_targets:
            continue
        for kind in _GAP_FIELDS:
            values = [v for v in map(num, _list(record.get(kind))) if v is not None]
            if values:
                pooled.setdefault((target, kind), []).extend(values)
    result = []
    for (target, kind), values in pooled.items():
        data = sorted(values)
        points = {f"p{q}": percentile(data, q) for q in (5, 25, 50, 75, 90, 95, 99)}
        points.update(min=data[0], max=data[-1])
        result.append(Distribution(target, kind, len(data), points))
    return result


def _calibrated(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The calibration of one request (its errors are the summaries' means), or ``None`` where it
    has no truth; a malformed record (documents may be partial) counts as one without truth."""
    try:
        return calibration([record])
    except (TypeError, AttributeError):
        return None


def _calibration(
    document: Mapping[str, Any], records: list[Mapping[str, Any]]
) -> CalibrationErrors | None:
    """The document's calibration summary (or, for a document without one, that of its records)
    and each calibrated request's errors per target, all computed by results.calibration."""
    ttft: dict[str, list[float]] = {}
    tpot: dict[str, list[float]] = {}
    calibrated = []
    for record in records:
        one = _calibrated(record)
        if one is None:
            continue
        calibrated.append(record)
        target = str(record.get(Key.TARGET))
        for errors, key in ((ttft, Key.TTFT_ERROR_MS), (tpot, Key.TPOT_ERROR_PCT)):
            error = num(as_map(one.get(key)).get("mean"))
            if error is not None:
                errors.setdefault(target, []).append(error)
    summary = as_map(document.get("calibration")) or as_map(calibration(calibrated))
    if not summary and not ttft and not tpot:
        return None
    return CalibrationErrors(summary, ttft, tpot)


def _answers(records: list[Mapping[str, Any]]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for record in records:
        preview = record.get(Key.ANSWER_PREVIEW)
        target = record.get(Key.TARGET)
        if isinstance(target, str) and isinstance(preview, str) and preview.strip():
            seen.setdefault(target, preview)
    return list(seen.items())


def extract(document: Mapping[str, Any]) -> Run:
    """Everything the report shows about one results document."""
    records = _records(document)
    metadata = as_map(document.get("metadata"))
    return Run(
        started=str(metadata.get("started") or ""),
        metadata=metadata,
        targets=_target_infos(document),
        groups=_groups(document, records),
        conversations=_conversations(document, records),
        failures=_issues(records, "failed"),
        skips=_issues(records, "skipped"),
        distributions=_distributions(records),
        calibration=_calibration(document, records),
        answers=_answers(records),
        gate=[as_map(check) for check in _list(document.get("gate"))],
        crosscheck=as_map(document.get("crosscheck")),
        load=extract_load(document),
    )
