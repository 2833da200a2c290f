"""Pure data extraction: one results document in, plain dataclasses out, nothing rendered.

Every field of a results file may be missing or ``None`` (older files, crashed sessions, a single
data point); each extractor falls back to what is there: statistics come from the per-request
records when they exist and from the stored ``aggregates`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .summary import Summary, num, percentile

__all__ = [
    "GROUP_FIELDS",
    "Calibration",
    "Conversation",
    "Distribution",
    "Group",
    "Issue",
    "Run",
    "Summary",
    "TargetInfo",
    "as_map",
    "extract",
    "num",
    "percentile",
]

GROUP_FIELDS = (
    "ttft_ms",
    "ttfa_ms",
    "e2e_ms",
    "tpot_ms",
    "decode_tps",
    "output_tokens",
    "prompt_tokens",
)


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
    stats: dict[str, Summary] = field(default_factory=dict)

    def stat(self, name: str) -> Summary:
        return self.stats.get(name) or Summary(0)


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
    kind: str  # "itl_ms" or "icl_ms"
    n: int
    points: dict[str, float]  # p5 p25 p50 p75 p90 p95 p99 min max


@dataclass(frozen=True)
class Calibration:
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
    calibration: Calibration | None
    answers: list[tuple[str, str]]
    gate: list[Mapping[str, Any]] = field(default_factory=list)
    crosscheck: Mapping[str, Any] = field(default_factory=dict)

    def label(self, target: str) -> str:
        info = self.targets.get(target)
        return info.label if info else target


def _target_infos(document: Mapping[str, Any]) -> dict[str, TargetInfo]:
    infos: dict[str, TargetInfo] = {}
    sources = [*_list(document.get("aggregates")), *_list(document.get("records"))]
    sources += _list(document.get("conversations"))
    for item in sources:
        item = as_map(item)
        key = item.get("target")
        if not isinstance(key, str) or (key in infos and infos[key].display_name):
            continue
        provider, _, model = key.partition("/")
        infos[key] = TargetInfo(
            key=key,
            provider=str(item.get("provider") or provider),
            model=str(item.get("model") or model),
            display_name=str(item.get("display_name") or ""),
            simulated=bool(item.get("simulated")),
        )
    return infos


def _records(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [as_map(r) for r in _list(document.get("records")) if isinstance(r, Mapping)]


def _is_turn(record: Mapping[str, Any]) -> bool:
    return record.get("turn") is not None


def _tier(value: object) -> int | None:
    number = num(value)
    return int(number) if number is not None else None


def _groups(document: Mapping[str, Any], records: list[Mapping[str, Any]]) -> list[Group]:
    groups: dict[tuple[str, int | None], Group] = {}
    for agg in map(as_map, _list(document.get("aggregates"))):
        key = (str(agg.get("target")), _tier(agg.get("tier")))
        group = groups.setdefault(key, Group(*key))
        group.requests = int(num(agg.get("requests")) or 0)
        group.errors = int(num(agg.get("errors")) or 0)
        group.skipped = int(num(agg.get("skipped")) or 0)
        for name, stats in as_map(agg.get("metrics")).items():
            group.stats[name] = Summary.from_aggregate(as_map(stats))
    counted: set[tuple[str, int | None]] = set(groups)
    for record in records:
        if _is_turn(record) or not isinstance(record.get("target"), str):
            continue
        key = (record["target"], _tier(record.get("tier")))
        group = groups.setdefault(key, Group(*key))
        status = record.get("status")
        if key not in counted:
            group.skipped += status == "skipped"
            group.requests += status != "skipped"
            group.errors += status == "failed" and not record.get("ok")
        if status == "skipped" or not record.get("ok", status == "passed"):
            continue
        run = record.get("run")
        for name in GROUP_FIELDS:
            value = num(record.get(name))
            if value is not None:
                group.points.setdefault(name, []).append(
                    (run if isinstance(run, int) else None, value)
                )
    for group in groups.values():
        for name, points in group.points.items():
            group.stats[name] = Summary.of(v for _, v in points)
    order = {t: i for i, t in enumerate(dict.fromkeys(k[0] for k in groups))}
    return sorted(
        groups.values(), key=lambda g: (order[g.target], g.tier if g.tier is not None else -1)
    )


def _conversations(
    document: Mapping[str, Any], records: list[Mapping[str, Any]]
) -> list[Conversation]:
    turns: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        if _is_turn(record) and isinstance(record.get("target"), str):
            turns.setdefault(record["target"], [])
            if record.get("ok") and record.get("status", "passed") == "passed":
                turns[record["target"]].append(record)
    summaries = {str(c.get("target")): c for c in map(as_map, _list(document.get("conversations")))}
    result = []
    for target in dict.fromkeys([*summaries, *turns]):
        ordered = sorted(turns.get(target, []), key=lambda t: num(t.get("turn")) or 0)
        result.append(Conversation(target, summaries.get(target, {}), ordered))
    return result


def _issues(records: list[Mapping[str, Any]], status: str) -> list[Issue]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for record in records:
        if record.get("status") != status:
            continue
        message = record.get("reason") if status == "skipped" else record.get("error")
        if not message and status == "failed":
            message = record.get("reason")
        key = (str(record.get("target") or "?"), str(message or "(no message)"))
        grouped.setdefault(key, []).append(str(record.get("test") or ""))
    return [Issue(t, status, m, tests) for (t, m), tests in grouped.items()]


def _distributions(records: list[Mapping[str, Any]]) -> list[Distribution]:
    pooled: dict[tuple[str, str], list[float]] = {}
    throughput_targets = {r.get("target") for r in records if not _is_turn(r) and r.get("ok")}
    for record in records:
        target = record.get("target")
        if not isinstance(target, str) or not record.get("ok"):
            continue
        if _is_turn(record) and target in throughput_targets:
            continue
        for kind in ("itl_ms", "icl_ms"):
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


def _calibration(
    document: Mapping[str, Any], records: list[Mapping[str, Any]]
) -> Calibration | None:
    ttft: dict[str, list[float]] = {}
    tpot: dict[str, list[float]] = {}
    for record in records:
        truth = as_map(record.get("truth"))
        target = str(record.get("target"))
        if not record.get("ok") or not truth:
            continue
        measured, logged = num(record.get("ttft_ms")), num(truth.get("ttft_ms"))
        if measured is not None and logged is not None:
            ttft.setdefault(target, []).append(measured - logged)
        measured, logged = num(record.get("tpot_ms")), num(truth.get("tpot_ms"))
        if measured is not None and logged:
            tpot.setdefault(target, []).append((measured - logged) / logged * 100)
    summary = as_map(document.get("calibration"))
    if not summary and not ttft and not tpot:
        return None
    return Calibration(summary, ttft, tpot)


def _answers(records: list[Mapping[str, Any]]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for record in records:
        preview = record.get("answer_preview")
        target = record.get("target")
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
    )
