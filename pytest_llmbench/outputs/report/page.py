"""The whole page: header, sections in order, the stylesheet, the script and a strict CSP."""

from __future__ import annotations

import base64
import hashlib
import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .answers_panel import answers_section
from .assets import CSS, JS
from .calibration_panel import calibration_section
from .comparison_panel import comparison_section
from .conversation_panel import conversation_section
from .crosscheck_panel import crosscheck_section
from .gate_panel import gate_section
from .history_panels import runs_section, trends_section
from .issues_panel import issues_section
from .load_history_panel import load_history_section
from .load_panel import load_section
from .markup import Markup, esc, fmt
from .model import Run, extract, num
from .overview_panel import overview_section
from .throughput_panels import context_section, itl_section, spread_section

__all__ = ["render_html", "report_csp", "write_html"]

#: The run report's sections in page order: (id, its name in the table of contents, renderer).
_RUN_SECTIONS: tuple[tuple[str, str, Callable[[Run, str], Markup]], ...] = (
    ("overview", "Overview", overview_section),
    ("gate", "Gate", gate_section),
    ("load", "Load", load_section),
    ("spread", "Spread across runs", spread_section),
    ("context", "TTFT against context", context_section),
    ("itl", "Inter-token latency", itl_section),
    ("conversation", "Conversation", conversation_section),
    ("calibration", "Calibration", calibration_section),
    ("crosscheck", "Cross-check", crosscheck_section),
    ("issues", "Failures and skips", issues_section),
    ("answers", "Sample answers", answers_section),
)


def report_csp() -> str:
    """The page's Content-Security-Policy: nothing but its own style and script (by hash)."""
    digest = base64.b64encode(hashlib.sha256(JS.encode()).digest()).decode()
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


def _command(metadata: Mapping[str, Any]) -> Markup:
    command = metadata.get("command")
    if not isinstance(command, str) or not command:
        return Markup('<p class="none">command not recorded</p>')
    cwd = metadata.get("cwd")
    text = f"cd {shlex.quote(cwd)} && {command}" if isinstance(cwd, str) and cwd else command
    return Markup(
        '<div class="command"><code id="command" title="The command that ran this session, from '
        f'its working directory">{esc(text)}</code>'
        '<button type="button" id="copy-command">copy</button>'
        '<span id="copy-status" aria-live="polite"></span></div>'
    )


def _pairs(value: object) -> str:
    if isinstance(value, Mapping):
        items = [f"{k} {v}" for k, v in value.items() if v not in (None, [], {}, "")]
        return ", ".join(items) or "—"
    return "—" if value in (None, "") else str(value)


def _meta(run: Run) -> Markup:
    md = run.metadata
    config = md.get("config")
    config_path = config.get("path") if isinstance(config, Mapping) else None
    rows = [
        ("started", md.get("started")),
        ("ended", md.get("ended")),
        ("duration", f"{fmt(num(md.get('duration_s')))} s" if num(md.get("duration_s")) else None),
        ("git commit", md.get("git_commit")),
        ("platform", _pairs(md.get("platform"))),
        ("versions", _pairs(md.get("versions"))),
        ("settings", _pairs(md.get("settings"))),
        ("config", config_path),
    ]
    body = "".join(
        f"<dt>{esc(k)}</dt><dd>{esc(v if v not in (None, '') else '—')}</dd>" for k, v in rows
    )
    return Markup(f'<dl class="meta">{body}</dl>')


def _counts(run: Run) -> str:
    measured = run.measured_targets()
    requests = sum(g.requests for g in run.groups)
    errors = sum(g.errors for g in run.groups)
    skipped = sum(len(i.tests) for i in run.skips)
    turns = sum(len(c.turns) for c in run.conversations)
    counts = [
        (len(measured), "target measured", "targets measured"),
        (requests, "request", "requests"),
        (errors, "error", "errors"),
        (turns, "conversation turn", "conversation turns"),
        (skipped, "test skipped", "tests skipped"),
    ]
    if run.load.points:  # a run without load says nothing of it
        counts.append((len(run.load.points), "load point", "load points"))
    return " · ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts)


def _toc(entries: Sequence[tuple[str, str]]) -> Markup:
    links = "".join(f'<a href="#{esc(i)}">{esc(t)}</a>' for i, t in entries)
    return Markup(f'<nav class="toc" aria-label="sections">{links}</nav>')


def _run_parts(run: Run, prefix: str) -> list[tuple[str, str, Markup]]:
    """Each section as (id, name, markup); one with nothing to show at all (the load section of
    a run without load points) is left out, and so is its entry in the table of contents."""
    parts = [(i, name, render(run, prefix)) for i, name, render in _RUN_SECTIONS]
    return [part for part in parts if part[2]]


def _run_page(run: Run) -> tuple[str, str, str]:
    parts = _run_parts(run, "")
    header = (
        "<h1>pytest-llmbench run report</h1>"
        f'<p class="sub">{esc(_counts(run))}</p>{_command(run.metadata)}{_meta(run)}'
        f"{_toc([(i, name) for i, name, _ in parts])}"
    )
    return "pytest-llmbench run report", header, "".join(m for _, _, m in parts)


def _history_page(runs: Sequence[Run]) -> tuple[str, str, str]:
    first, last = runs[0].started[:16], runs[-1].started[:16]
    span = f" from {first.replace('T', ' ')} to {last.replace('T', ' ')}" if first else ""
    latest = runs[-1]
    load = load_history_section(runs)
    header = (
        f"<h1>pytest-llmbench history: {len(runs)} runs</h1>"
        f'<p class="sub">{esc(span.strip() or "runs in the order given")} · latest run: '
        f"{esc(_counts(latest))}</p>{_command(latest.metadata)}"
        + _toc(
            [
                ("comparison", "Comparison"),
                ("trends", "Trends"),
                *([("load-history", "Load across runs")] if load else []),
                ("runs", "Runs"),
                ("latest-overview", "Latest: Overview"),
            ]
        )
    )
    body = (
        comparison_section(runs)
        + trends_section(runs)
        + load
        + runs_section(runs)
        + '<h2 class="latest">The latest run in detail</h2>'
        + _meta(latest)
        + "".join(m for _, _, m in _run_parts(latest, "latest-"))
    )
    return "pytest-llmbench history", header, body


def _order(documents: Sequence[Mapping[str, Any]]) -> list[Run]:
    runs = [extract(d) for d in documents]
    indexed = sorted(enumerate(runs), key=lambda p: (p[1].started == "", p[1].started, p[0]))
    return [run for _, run in indexed]


def render_html(documents: Sequence[Mapping[str, Any]]) -> str:
    """One self-contained HTML page: a run report for one document, a history for several."""
    if not documents:
        raise ValueError("render_html needs at least one results document")
    runs = _order(documents)
    title, header, body = _run_page(runs[0]) if len(runs) == 1 else _history_page(runs)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(report_csp())}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<header class="top">{header}</header><main>{body}'
        "<footer>Generated by pytest-llmbench from the results JSON. Definitions: hover a column "
        "header or axis title.</footer></main>"
        f"<script>{JS}</script></body></html>\n"
    )


def write_html(documents: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """Render ``documents`` and write the page to ``path`` (UTF-8); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(documents), encoding="utf-8")
    return target
