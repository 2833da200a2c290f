"""The tables and one-line summaries that the terminal, the CI step summary and pytest-html show:
rows of display strings, and a plain-text table formatter."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..schema import Key

__all__ = [
    "AGGREGATE_COLUMNS",
    "GATE_COLUMNS",
    "aggregates_rows",
    "calibration_line",
    "conversation_lines",
    "crosscheck_lines",
    "format_table",
    "gate_rows",
    "request_line",
]

AGGREGATE_COLUMNS = (
    "target",
    "tier",
    "n",
    "TTFT p50 ms",
    "decode tok/s p50",
    "TPOT p50 ms",
    "out tok p50",
    "errors",
)


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _median(aggregate: Mapping[str, Any], name: str) -> Any:
    return aggregate["metrics"].get(name, {}).get("median")


def aggregates_rows(aggregates: Sequence[Mapping[str, Any]]) -> list[tuple[str, ...]]:
    """One row per target × tier that made requests, as display strings."""
    rows: list[tuple[str, ...]] = []
    for agg in aggregates:
        if not agg["requests"]:
            continue
        label = agg["target"] + (" (simulated)" if agg.get("simulated") else "")
        rows.append(
            (
                label,
                _fmt(agg["tier"]) if agg["tier"] is not None else "—",
                str(agg["metrics"][Key.TTFT_MS].get("n", 0)),
                _fmt(_median(agg, Key.TTFT_MS)),
                _fmt(_median(agg, Key.DECODE_TPS)),
                _fmt(_median(agg, Key.TPOT_MS), 2),
                _fmt(_median(agg, Key.OUTPUT_TOKENS), 0),
                str(agg["errors"]),
            )
        )
    return rows


def format_table(
    rows: Sequence[Sequence[str]], header: Sequence[str] = AGGREGATE_COLUMNS
) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first = str(cells[0]).ljust(widths[0])
        rest = (str(c).rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    return [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def _knee_text(knee: Mapping[str, Any] | None, what: str) -> str:
    if not knee:
        return ""
    return (
        f"; {what} ×{knee['ratio']:.1f} of baseline at turn {knee['turn']} "
        f"({knee['context_tokens']:,} tokens)"
    )


def conversation_lines(conversations: Sequence[Mapping[str, Any]]) -> list[str]:
    """A short summary per conversation: turns, speed, prefill rate, knee, where it stopped."""
    lines = []
    for conv in conversations:
        if not conv["turns_measured"] and not conv.get("failed_at"):
            continue  # never started (e.g. no key): listed with the skipped targets
        deg = conv["degradation"]
        text = (
            f"conversation {conv['target']}: {conv['turns_measured']}/{conv['turns_planned']} "
            f"turns, TTFT mean {_fmt(conv['mean_ttft_ms'])} ms, decode mean "
            f"{_fmt(conv['mean_decode_tps'])} tok/s, context {conv['final_context_tokens']:,}"
            " tokens"
        )
        if deg.get("effective_prefill_tps"):
            text += (
                f"; prefill ≈ {deg['effective_prefill_tps']:,.0f} tok/s "
                f"(r² {deg['ttft_vs_context']['r2']:.2f})"
            )
        share = conv["reasoning"]["share_of_turns"]
        if share:
            text += f"; reasoned in {share:.0%} of turns"
        text += _knee_text(deg.get("ttft_knee"), "TTFT")
        text += _knee_text(deg.get("decode_knee"), "decode tok/s")
        if conv.get("context_limit"):
            limit = conv["context_limit"]
            text += f"; context window reached at turn {limit['turn']} ({limit['tokens']:,} tokens)"
        if conv.get("failed_at"):
            text += f"; failed at turn {conv['failed_at']['turn']}"
        lines.append(text)
    return lines


def crosscheck_lines(crosscheck: Mapping[str, Any] | None) -> list[str]:
    """One line per target served by a managed llama.cpp server: ours against its own timings."""
    lines = []
    for target, values in (crosscheck or {}).items():
        parts = []
        for key, text, unit in (
            ("ttft_minus_prompt_eval_ms", "TTFT − its prompt eval", "ms"),
            ("e2e_minus_total_ms", "e2e − its total", "ms"),
            ("decode_tps_diff_pct", "decode tok/s vs its eval", "%"),
            ("output_tokens_diff_pct", "output tokens vs its count", "%"),
            (Key.CACHED_TOKENS, "prompt tokens it reused", ""),
        ):
            stats = values.get(key) or {}
            if stats.get("n"):
                parts.append(f"{text} median {stats['median']:+.1f}{unit and ' ' + unit}")
        n = max((s.get("n") or 0 for s in values.values()), default=0)
        lines.append(
            f"cross-check against llama.cpp's own timings, {target} (n={n}): " + "; ".join(parts)
        )
    return lines


GATE_COLUMNS = (
    "target",
    "tier",
    "limit",
    "baseline",
    "current",
    "change",
    "95% interval",
    "n",
    "verdict",
)


def _num(value: Any) -> str:
    return "—" if value is None else f"{value:,.2f}"


def gate_rows(checks: Iterable[Mapping[str, Any]]) -> list[tuple[str, ...]]:
    """Rows of the ``llmbench gate`` table (:data:`GATE_COLUMNS`)."""
    rows: list[tuple[str, ...]] = []
    for check in checks:
        change = check.get("change_pct")
        interval = check.get("interval_pct")
        verdict = str(check["verdict"])
        rows.append(
            (
                str(check["target"]),
                "—" if check["tier"] is None else str(check["tier"]),
                str(check["limit"]),
                _num(check.get("baseline")),
                _num(check.get("value")),
                "—" if change is None else f"{change:+.1f}%",
                "—" if interval is None else f"[{interval[0]:+.1f}%, {interval[1]:+.1f}%]",
                str(check.get("n") or "—"),
                verdict.upper() if check.get("failed") else verdict,
            )
        )
    return rows


def calibration_line(calib: Mapping[str, Any]) -> str:
    """How far measured TTFT and TPOT were from the built-in server's truth."""
    ttft, tpot = calib["ttft_error_ms"], calib["tpot_error_pct"]
    tpot_text = (
        f"; TPOT error mean {tpot['mean']:+.2f} % (max |{calib['tpot_abs_max_pct']:.2f}| %)"
        if tpot.get("n")
        else ""
    )
    return (
        f"calibration against the built-in server (n={ttft['n']}): TTFT error mean "
        f"{ttft['mean']:+.3f} ms (max |{calib['ttft_abs_max_ms']:.3f}| ms){tpot_text}"
    )


def request_line(record: Mapping[str, Any]) -> str:
    """One measured request, as ``--llm-verbose`` prints it."""
    return (
        f"  {record['target']} tier={record.get('tier')} run={record.get('run')}: "
        f"TTFT {record.get(Key.TTFT_MS) or 0:.1f} ms, "
        f"{record.get(Key.DECODE_TPS) or 0:.1f} tok/s, "
        f"{record.get(Key.OUTPUT_TOKENS)} tokens ({record.get('token_source')})"
    )
