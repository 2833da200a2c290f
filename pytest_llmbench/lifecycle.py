"""What the hooks do: parametrize, check, carry records to the controller, write results.

Each function here is called by exactly one hook in :mod:`.plugin`; the plugin stays a list of
thin hooks and this module holds the session's lifecycle.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import subprocess
import sys
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import pytest

from .config import ConfigError
from .keys import BENCH_KEY, RECORDER_KEY, RECORDS_KEY
from .matrix import Case, Target, build_cases, build_turn_cases, select_targets
from .options import Settings
from .runtime import BenchSession

__all__ = [
    "attach_payload",
    "check_collection",
    "configure",
    "finish_session",
    "generate_tests",
    "log_report",
]

_STARTED_KEY = pytest.StashKey[_dt.datetime]()
_TARGETS_KEY = pytest.StashKey["list[Target]"]()
_DOCUMENT_KEY = pytest.StashKey["tuple[dict[str, Any], list[Path]]"]()
_MARKER = (
    "llm(provider, model, tier, target): a pytest-llmbench measurement; select with "
    "-m \"llm(provider='zai')\""
)


def is_worker(config: pytest.Config) -> bool:
    """True inside a pytest-xdist worker (which measures but never writes results)."""
    return hasattr(config, "workerinput")


def is_xdist_controller(config: pytest.Config) -> bool:
    numprocesses = getattr(config.option, "numprocesses", None)
    return bool(numprocesses) and not is_worker(config)


def configure(config: pytest.Config) -> None:
    """``pytest_configure``: settings (bad options → usage error), marker, lazy session state."""
    config.addinivalue_line("markers", _MARKER)
    settings = Settings.from_pytest_config(config)
    bench = BenchSession(settings)
    config.stash[BENCH_KEY] = bench
    config.stash[_STARTED_KEY] = _dt.datetime.now(_dt.timezone.utc)
    bench.log_stamp = config.stash[_STARTED_KEY].strftime("%Y%m%d-%H%M%S")
    from . import conversation, fixtures

    config.pluginmanager.register(fixtures, "llmbench-fixtures")
    config.pluginmanager.register(conversation, "llmbench-conversation")
    if settings.export_benchmark is not None:
        import importlib.util

        if importlib.util.find_spec("pytest_benchmark") is None:
            raise pytest.UsageError(
                "--llm-export-benchmark needs pytest-benchmark (pip install pytest-benchmark)"
            )
    if settings.baseline is not None:
        from .baseline import load_baseline, resolve

        try:
            path = resolve(
                settings.baseline, settings.results_dir, Path(config.invocation_params.dir)
            )
            bench.baseline, bench.baseline_about = load_baseline(path)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
    # Validate early when the config was named explicitly, or when an xdist controller (which
    # collects nothing itself) would otherwise leave a bad file to its workers to discover.
    if settings.config_explicit or (is_xdist_controller(config) and settings.config_path.exists()):
        try:
            bench.config()
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None


def _targets(config: pytest.Config, bench: BenchSession) -> list[Target]:
    if _TARGETS_KEY not in config.stash:
        targets = select_targets(bench.config(), bench.settings)
        settings = bench.settings
        if not targets and (settings.providers or settings.model_filter):
            names = ", ".join(
                f"{p.name}/{m.id}" for p in bench.config().providers for m in p.models
            )
            raise ConfigError(
                bench.config().path,
                "",
                f"--llm-provider/--llm-model selected no model (have: {names})",
            )
        config.stash[_TARGETS_KEY] = targets
    return config.stash[_TARGETS_KEY]


def generate_tests(metafunc: pytest.Metafunc) -> None:
    """``pytest_generate_tests``: targets × tiers × runs for tests that use ``llm_case``."""
    if "llm_case" not in metafunc.fixturenames:
        return
    bench = metafunc.config.stash[BENCH_KEY]
    bench.active = True
    try:
        targets = _targets(metafunc.config, bench)
    except ConfigError as exc:
        bench.usage_error = bench.usage_error or exc
        return
    if "llm_turn" in metafunc.fixturenames:
        try:
            turns = len(bench.prompts().first(bench.turns()))
        except ConfigError as exc:
            bench.usage_error = bench.usage_error or exc
            return
        cases = build_turn_cases(targets, turns)
        metafunc.parametrize("llm_case", [_param(case) for case in cases], indirect=True)
        return
    with_tiers = "llm_tier" in metafunc.fixturenames

    def tiers(target: Target) -> tuple[int | None, ...]:
        return bench.tiers(target) if with_tiers else (None,)

    cases = build_cases(targets, tiers, bench.settings.runs, bench.max_tokens)
    metafunc.parametrize("llm_case", [_param(case) for case in cases], indirect=True)


def _param(case: Case) -> Any:
    target = case.target
    marks = [
        pytest.mark.llm(
            provider=target.provider.name, model=target.model.id, tier=case.tier, target=target.key
        )
    ]
    if case.skip_reason:
        marks.append(pytest.mark.skip(reason=case.skip_reason))
    return pytest.param(case, id=case.id, marks=marks)


def check_collection(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``pytest_collection_modifyitems``: a bad config stops the session before any request;
    conversation turns run in order and never split across pytest-xdist workers."""
    bench = config.stash.get(BENCH_KEY, None)
    if bench is None or not bench.active:
        return
    if bench.usage_error is not None:
        raise pytest.UsageError(str(bench.usage_error))
    from .conversation import order_turns

    order_turns(items)


def attach_payload(item: pytest.Item, report: pytest.TestReport) -> None:
    """``pytest_runtest_makereport``: put the test's records on its report (xdist carries it)."""
    callspec = getattr(item, "callspec", None)
    case = callspec.params.get("llm_case") if callspec is not None else None
    if not isinstance(case, Case):
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        from .ci import junit_properties
        from .recorder import sample_records

        samples = item.stash.get(RECORDS_KEY, [])
        records = sample_records(case.describe(), samples)
        report.llmbench = {"case": case.describe(), "records": records}  # type: ignore[attr-defined]
        item.user_properties.extend(junit_properties(records))  # junitxml reads them at teardown


def _recorder(config: pytest.Config) -> Any:
    recorder = config.stash.get(RECORDER_KEY, None)
    if recorder is None:
        from .recorder import Recorder

        settings = config.stash[BENCH_KEY].settings
        started = config.stash[_STARTED_KEY]
        stamp = started.strftime("%Y%m%d-%H%M%S")
        results_dir = settings.results_dir if settings.save else None
        if results_dir is not None:
            suffix = 1
            base = stamp
            while (results_dir / f"{stamp}.jsonl").exists():
                suffix += 1
                stamp = f"{base}-{suffix}"
        recorder = Recorder(stamp, results_dir)
        with contextlib.suppress(ConfigError):
            spec = config.stash[BENCH_KEY].config().conversation
            recorder.knee_factor, recorder.baseline_turns = spec.knee_factor, spec.baseline_turns
        config.stash[RECORDER_KEY] = recorder
    return recorder


def log_report(config: pytest.Config, report: pytest.TestReport) -> None:
    """``pytest_runtest_logreport``: record and flush the test's results (controller only)."""
    payload = getattr(report, "llmbench", None)
    if payload is None or is_worker(config):
        return
    recorder = _recorder(config)
    before = len(recorder.records)
    recorder.add_report(report.nodeid, report, payload)
    if config.stash[BENCH_KEY].settings.verbose:
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        for record in recorder.records[before:]:
            if terminal is not None and record.get("ok"):
                terminal.write_line(
                    f"  {record['target']} tier={record.get('tier')} run={record.get('run')}: "
                    f"TTFT {record.get('ttft_ms') or 0:.1f} ms, "
                    f"{record.get('decode_tps') or 0:.1f} tok/s, "
                    f"{record.get('output_tokens')} tokens ({record.get('token_source')})"
                )


def _git_commit(rootdir: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=rootdir,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _version(name: str) -> str | None:
    try:
        return importlib_metadata.version(name)
    except importlib_metadata.PackageNotFoundError:
        return None


def _metadata(config: pytest.Config, bench: BenchSession) -> dict[str, Any]:
    started = config.stash[_STARTED_KEY]
    ended = _dt.datetime.now(_dt.timezone.utc)
    settings = bench.settings
    try:
        config_data: dict[str, Any] | None = bench.config().redacted()
    except ConfigError:
        config_data = None
    return {
        "started": started.isoformat(),
        "ended": ended.isoformat(),
        "duration_s": (ended - started).total_seconds(),
        "command": " ".join(["pytest", *config.invocation_params.args]),
        "cwd": str(config.invocation_params.dir),
        "git_commit": _git_commit(settings.rootdir),
        "platform": {
            "system": platform.platform(),
            "machine": platform.machine(),
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
        },
        "versions": {
            name: _version(name)
            for name in (
                "pytest-llmbench",
                "pytest",
                "aiohttp",
                "litellm",
                "tiktoken",
                "pytest-xdist",
            )
        },
        "settings": {
            "runs": settings.runs,
            "providers": list(settings.providers),
            "model_filter": settings.model_filter,
            "context_tiers": list(settings.context_tiers or ()) or None,
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "timeout_s": settings.timeout_s,
        },
        "config": config_data,
        "baseline": bench.baseline_about,
    }


def run_gate(session: pytest.Session) -> None:
    """After the test loop (``pytest_runtestloop`` wrapper): check the aggregate limits and count
    a broken one as a session failure, so pytest exits non-zero (under pytest-xdist too)."""
    config = session.config
    recorder = config.stash.get(RECORDER_KEY, None)
    if recorder is None or is_worker(config):
        return
    from .gate import evaluate

    bench = config.stash[BENCH_KEY]
    try:
        recorder.gate, recorder.gate_note = evaluate(
            recorder.records, bench.limits_by_name, bench.baseline
        )
    except ConfigError:
        return
    if any(check["failed"] for check in recorder.gate):
        session.testsfailed += 1


def _write_dashboard(document: dict[str, Any], json_path: Path | None) -> Path | None:
    """The self-contained HTML report beside the results JSON."""
    if json_path is None:
        return None
    from .report import write_html

    return write_html([document], json_path.with_suffix(".html"))


def finish_session(config: pytest.Config) -> None:
    """``pytest_sessionfinish``: write the results file, then release servers and connections."""
    bench = config.stash.get(BENCH_KEY, None)
    if bench is None:
        return
    try:
        recorder = config.stash.get(RECORDER_KEY, None)
        if recorder is not None and not is_worker(config):
            from .ci import append_step_summary

            document = recorder.document(_metadata(config, bench))
            path = recorder.finish(document)
            written = [
                p
                for p in (path, _write_dashboard(document, path), recorder.jsonl_path)
                if p is not None
            ]
            append_step_summary(document)
            if bench.settings.export_benchmark is not None:
                from .export import export_benchmark

                written.append(export_benchmark(bench.settings.export_benchmark, recorder.records))
            if bench.settings.save_baseline is not None:
                from .baseline import write_baseline

                written.append(
                    write_baseline(
                        bench.settings.save_baseline,
                        recorder.records,
                        document["metadata"].get("config"),
                    )
                )
            config.stash[_DOCUMENT_KEY] = (document, written)
    finally:
        bench.close()


def summary(config: pytest.Config, terminal: pytest.TerminalReporter) -> None:
    """``pytest_terminal_summary``: the aggregates table and where the results went."""
    if _DOCUMENT_KEY not in config.stash:
        return
    from .terminal import write_summary

    document, written = config.stash[_DOCUMENT_KEY]
    write_summary(terminal, document, written)
