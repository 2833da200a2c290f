"""What the terminal shows at the end: the aggregates table, calibration, and the files written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

__all__ = ["AGGREGATE_COLUMNS", "aggregates_rows", "format_table", "write_summary"]

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
                str(agg["metrics"]["ttft_ms"].get("n", 0)),
                _fmt(_median(agg, "ttft_ms")),
                _fmt(_median(agg, "decode_tps")),
                _fmt(_median(agg, "tpot_ms"), 2),
                _fmt(_median(agg, "output_tokens"), 0),
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


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory when it lies below it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


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
            ("cached_tokens", "prompt tokens it reused", ""),
        ):
            stats = values.get(key) or {}
            if stats.get("n"):
                parts.append(f"{text} median {stats['median']:+.1f}{unit and ' ' + unit}")
        n = max((s.get("n") or 0 for s in values.values()), default=0)
        lines.append(
            f"cross-check against llama.cpp's own timings, {target} (n={n}): " + "; ".join(parts)
        )
    return lines


def write_summary(
    terminal: pytest.TerminalReporter,
    document: Mapping[str, Any],
    written: Sequence[Path],
) -> None:
    """The ``llmbench`` section of the terminal summary."""
    terminal.section("llmbench", sep="=", bold=True)
    rows = aggregates_rows(document["aggregates"])
    conversations = document.get("conversations") or []
    if rows:
        for text in format_table(rows):
            terminal.write_line(text)
    elif not conversations:
        terminal.write_line("no requests were measured")
    measured = {r.get("target") for r in document["records"] if r.get("ok")}
    skipped = sorted(
        {
            r["target"]: r.get("reason")
            for r in document["records"]
            if r.get("status") == "skipped" and r.get("target") and r["target"] not in measured
        }.items()
    )
    for target, reason in skipped:
        terminal.write_line(f"skipped {target}: {reason}")
    for line in conversation_lines(conversations):
        terminal.write_line(line)
    calib = document.get("calibration")
    if calib:
        ttft, tpot = calib["ttft_error_ms"], calib["tpot_error_pct"]
        tpot_text = (
            f"; TPOT error mean {tpot['mean']:+.2f} % (max |{calib['tpot_abs_max_pct']:.2f}| %)"
            if tpot.get("n")
            else ""
        )
        terminal.write_line(
            f"calibration against the built-in server (n={ttft['n']}): TTFT error mean "
            f"{ttft['mean']:+.3f} ms (max |{calib['ttft_abs_max_ms']:.3f}| ms){tpot_text}"
        )
    for line in crosscheck_lines(document.get("crosscheck")):
        terminal.write_line(line)
    gate = document.get("gate") or []
    note = document.get("gate_note")
    if gate or note:
        from .gate import GATE_COLUMNS, gate_lines

        terminal.section("llmbench gate", sep="-", bold=True)
        if gate:
            for text in format_table(gate_lines(gate), GATE_COLUMNS):
                terminal.write_line(text, red=text.endswith(("BROKEN", "REGRESSED")))
        if note:
            terminal.write_line(note)
        broken = sum(1 for check in gate if check["failed"])
        if broken:
            terminal.write_line(f"{broken} limit(s) broken: the session fails", red=True)
        elif gate:
            terminal.write_line("all checked limits hold")
    for path in written:
        terminal.write_line(f"results: {_shown(path)}")
