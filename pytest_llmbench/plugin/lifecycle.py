"""What the hooks do: parametrize, check, carry records to the controller, write results.

Each function here is called by exactly one hook in :mod:`.hooks`; the hooks stay a list of thin
functions and this module holds the session's lifecycle. The work itself is done by the stages:
:mod:`..matrix` builds the cases, :mod:`..results` records, :mod:`..gate` judges, and
:mod:`..outputs` writes and prints.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import pytest

from ..config.options import Settings
from ..config.reader import ConfigError
from ..matrix import Case, LoadCase, Target, build_cases, build_turn_cases, select_targets
from ..measure.redact import Redactor
from ..measure.session import BenchSession
from ..outputs.events import EventLog
from .shutdown import (
    install_sigterm_handler,
    restore_sigterm_handler,
    sigterm_no_longer_interrupts,
)
from .stash import SAMPLES_KEY, STATE_KEY, PluginState

__all__ = [
    "attach_payload",
    "check_collection",
    "configure",
    "finish_session",
    "generate_tests",
    "log_report",
    "run_gate",
    "summary",
    "unconfigure",
]

_MARKER = (
    "llm(provider, model, tier, target): a pytest-llmbench measurement; select with "
    "-m \"llm(provider='zai')\""
)


def is_worker(config: pytest.Config) -> bool:
    """True inside a pytest-xdist worker (which measures, and writes no results but its load
    points' full records, :meth:`.stash.PluginState.load_records_path`)."""
    return hasattr(config, "workerinput")


def is_xdist_controller(config: pytest.Config) -> bool:
    """True in a pytest-xdist controller: ``-n N``, or ``--tx`` specs with a ``--dist`` mode."""
    option = config.option
    spread = getattr(option, "numprocesses", None) or (
        getattr(option, "tx", None) and getattr(option, "dist", "no") != "no"
    )
    return bool(spread) and not is_worker(config)


def configure(config: pytest.Config) -> None:
    """``pytest_configure``: settings (bad options → usage error), marker, lazy session state."""
    config.addinivalue_line("markers", _MARKER)
    settings = Settings.from_pytest_config(config)
    started = _dt.datetime.now(_dt.timezone.utc)
    state = PluginState(BenchSession(settings), started)
    state.bench.log_stamp = state.stamp
    from .xdist_hooks import STAMP_KEY, check_parallel, load_shards

    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        state.worker = (str(workerinput["workerid"]), str(workerinput.get(STAMP_KEY, state.stamp)))
    state.load_shards = load_shards(config, settings.load.shards)
    check_parallel(config, settings.parallel)
    state.events = EventLog(settings.events_path)
    config.stash[STATE_KEY] = state
    from . import fixtures

    config.pluginmanager.register(fixtures, "llmbench-fixtures")
    from . import load_fixture

    config.pluginmanager.register(load_fixture, "llmbench-load-fixtures")
    if settings.export_benchmark is not None:
        import importlib.util

        if importlib.util.find_spec("pytest_benchmark") is None:
            raise pytest.UsageError(
                "--llm-export-benchmark needs pytest-benchmark (pip install pytest-benchmark)"
            )
    if settings.baseline is not None:
        from ..results.baseline import load_baseline, resolve

        try:
            path = resolve(settings.baseline, settings.results_dir, config.invocation_params.dir)
            state.baseline, state.baseline_about = load_baseline(path)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
    # Validate early when the config was named explicitly, or when an xdist controller (which
    # collects nothing itself) would otherwise leave a bad file to its workers to discover.
    if settings.config_explicit or (is_xdist_controller(config) and settings.config_path.exists()):
        try:
            state.bench.config()
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
    if not is_worker(config):
        install_sigterm_handler(config, lambda: _measuring(config, state))


def _measuring(config: pytest.Config, state: PluginState) -> bool:
    """Whether this session measures (a benchmark test was collected or recorded)."""
    if state.active or state.recorder is not None:
        return True
    return is_xdist_controller(config) and state.bench.settings.config_path.exists()


def unconfigure(config: pytest.Config) -> None:
    """``pytest_unconfigure``: put back the SIGTERM handler that was there before the session."""
    restore_sigterm_handler(config)


def _targets(state: PluginState) -> list[Target]:
    if state.targets is None:
        bench = state.bench
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
        state.targets = targets
        state.redactor = Redactor.for_targets(targets)
    return state.targets


def _cases(state: PluginState, fixturenames: list[str]) -> list[Case]:
    """The cases of a test that uses these fixtures; raises :class:`ConfigError`."""
    bench = state.bench
    targets = _targets(state)
    if "llm_turn" in fixturenames:
        return build_turn_cases(targets, len(bench.prompts().first(bench.turns())))
    layers = bench.layers
    with_tiers = "llm_tier" in fixturenames

    def tiers(target: Target) -> tuple[int | None, ...]:
        return layers.tiers(target) if with_tiers else (None,)

    return build_cases(targets, tiers, bench.settings.runs, layers.max_tokens)


def generate_tests(metafunc: pytest.Metafunc) -> None:
    """``pytest_generate_tests``: targets × tiers × runs for tests that use ``llm_case``,
    targets × load points for those that use ``llm_load_case``."""
    load = "llm_load_case" in metafunc.fixturenames
    if "llm_case" not in metafunc.fixturenames and not load:
        return
    state = metafunc.config.stash[STATE_KEY]
    state.active = True
    try:
        if load:
            from .load_fixture import parametrize_load

            parametrize_load(metafunc, state, _targets(state))
            return
        cases = _cases(state, metafunc.fixturenames)
    except ConfigError as exc:
        state.usage_error = state.usage_error or exc
        return
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
    state = config.stash.get(STATE_KEY, None)
    if state is None or not state.active:
        return
    if state.usage_error is not None:
        raise pytest.UsageError(str(state.usage_error))
    from ..conversation.turn import order_turns

    order_turns(items)


def attach_payload(item: pytest.Item, report: pytest.TestReport) -> None:
    """``pytest_runtest_makereport``: put the test's records on its report (xdist carries it),
    and sanitize all the report carries out (:func:`sanitize_report`)."""
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    case = params.get("llm_case", params.get("llm_load_case"))
    if not isinstance(case, (Case, LoadCase)):
        return
    state = item.config.stash.get(STATE_KEY, None)
    redactor = state.redactor if state is not None else Redactor()
    if isinstance(case, LoadCase):
        if report.when == "call" or (report.when == "setup" and not report.passed):
            from .load_fixture import load_payload

            report.llmbench = load_payload(item, case)  # type: ignore[attr-defined]
    elif report.when == "call" or (report.when == "setup" and not report.passed):
        from ..outputs.junit import junit_properties
        from ..results.records import sample_records

        samples = item.stash.get(SAMPLES_KEY, [])
        records = sample_records(case.describe(), samples, redactor)
        report.llmbench = {"case": case.describe(), "records": records}  # type: ignore[attr-defined]
        item.user_properties.extend(junit_properties(records))  # junitxml reads them at teardown
    sanitize_report(report, redactor)


def sanitize_report(report: pytest.TestReport, redactor: Redactor) -> None:
    """The last guard on what a benchmark test's report carries out of the process: its
    ``longrepr`` (pytest prints it, JUnit XML and pytest-html read it, xdist sends it to the
    controller), its captured output and its user properties, with the session's keys redacted
    and control characters escaped. A failure whose text needed it keeps the sanitized text."""
    longrepr = report.longrepr
    if isinstance(longrepr, str):
        report.longrepr = redactor.sanitize(longrepr)
    elif isinstance(longrepr, tuple):  # a skip: (path, line, reason)
        path, line, reason = longrepr
        report.longrepr = (path, line, redactor.sanitize(reason))
    elif longrepr is not None:
        text = report.longreprtext
        clean = redactor.sanitize(text)
        if clean != text:
            report.longrepr = clean
    report.sections = [(title, redactor.sanitize(text)) for title, text in report.sections]
    report.user_properties = [
        (name, redactor.sanitize(value) if isinstance(value, str) else value)
        for name, value in report.user_properties
    ]


def _recorder(state: PluginState) -> Any:
    return state.open_recorder()


def log_report(config: pytest.Config, report: pytest.TestReport) -> None:
    """``pytest_runtest_logreport``: record and flush the test's results (controller only)."""
    payload = getattr(report, "llmbench", None)
    if payload is None or is_worker(config):
        return
    state = config.stash[STATE_KEY]
    recorder = _recorder(state)
    before = len(recorder.records)
    recorder.add_report(report.nodeid, report, payload)
    _event_of(state, report, payload)
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if state.bench.settings.verbose and terminal is not None:
        from ..outputs.tables import request_line

        for record in recorder.records[before:]:
            if record.get("ok"):
                terminal.write_line(request_line(record))


def _event_of(state: PluginState, report: pytest.TestReport, payload: dict[str, Any]) -> None:
    """The finished test's line in the session's events (``--llm-events``)."""
    if state.events.path is None:
        return
    from ..outputs.events import event_figures
    from ..results.records import outcome

    status, message = outcome(report)
    case = payload.get("case") or {}
    state.events.write(
        "test", test=report.nodeid, outcome=status, message=message,
        **{k: case.get(k) for k in ("target", "tier", "run", "turn", "point")},
        figures=event_figures(payload),
    )  # fmt: skip


def run_gate(session: pytest.Session) -> None:
    """After the test loop (``pytest_runtestloop`` wrapper): check the aggregate limits and count
    a broken one as a session failure, so pytest exits non-zero (under pytest-xdist too)."""
    config = session.config
    state = config.stash.get(STATE_KEY, None)
    if state is None or state.recorder is None or is_worker(config):
        return
    from ..gate.checks import evaluate

    recorder = state.recorder
    try:
        limits = state.bench.layers.limits_by_name
        recorder.gate, recorder.gate_note = evaluate(
            recorder.records, limits, state.baseline, recorder.load_samples,
            recorder.capacities, recorder.load_providers,
        )  # fmt: skip
    except ConfigError:
        return
    if any(check["failed"] for check in recorder.gate):
        session.testsfailed += 1


def finish_session(config: pytest.Config, session: pytest.Session | None = None) -> None:
    """``pytest_sessionfinish``: write the results files, then release servers and connections
    (a SIGTERM from here on no longer interrupts: see :mod:`.shutdown`)."""
    if session is not None:
        sigterm_no_longer_interrupts(config, session)
    state = config.stash.get(STATE_KEY, None)
    if state is None:
        return
    try:
        recorder = state.recorder
        if recorder is not None and not is_worker(config):
            from ..outputs.session_files import write_session_files
            from ..results.metadata import run_metadata

            bench = state.bench
            try:
                redacted: dict[str, Any] | None = bench.config().redacted()
            except ConfigError:
                redacted = None
            params = config.invocation_params
            metadata = run_metadata(
                bench.settings,
                state.started,
                params.args,
                params.dir,
                redacted,
                state.baseline_about,
            )
            if state.worker_links:  # each worker's clock against the controller's
                links = sorted(state.worker_links.items())
                metadata["workers"] = {name: link.as_dict() for name, link in links}
            document = recorder.document(metadata)
            path = recorder.finish(document)
            written = write_session_files(
                document, path, recorder.jsonl_path, recorder.records, bench.settings,
                recorder.load_samples,
            )  # fmt: skip
            state.written = (document, written)
            status = int(session.exitstatus) if session is not None else None
            state.events.write("end", exit_status=status, files=[str(p) for p in written])
    finally:
        for link in state.worker_links.values():
            link.close()
        state.bench.close()


def summary(config: pytest.Config, terminal: pytest.TerminalReporter) -> None:
    """``pytest_terminal_summary``: the aggregates table and where the results went."""
    state = config.stash.get(STATE_KEY, None)
    if state is None or state.written is None:
        return
    from ..outputs.terminal import write_summary

    document, written = state.written
    write_summary(terminal, document, written)
