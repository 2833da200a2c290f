"""The ``llm_load`` fixture: one load point of one target, run as a test.

A test that asks for ``llm_load`` is parametrized over targets × load points (``test_load[
local-sim-c64]``); ``llm_load.run()`` runs the point (:func:`~..measure.load_point.run_point`),
shows a progress line while it runs, keeps a record per request, computes the point's figures
(:func:`~..results.load_figures.point_figures`) and fails the test when the point's error rate
passes the limit, with the counts by kind. The records and the figures ride on the test's report
to the results like every other test's (:func:`.lifecycle.attach_payload`).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import pytest

from ..config.load_spec import LoadPoint
from ..matrix import LoadCase
from ..schema import Key, LoadPointResult, Record
from .stash import LOAD_KEY, STATE_KEY, LoadOutcome, PluginState

if TYPE_CHECKING:
    from pathlib import Path

    from ..measure.load_point import PointRun
    from ..results.load_records import PointRecords
    from .load_sharded import ShardedRun

__all__ = ["LoadDriver", "llm_load", "llm_load_case", "load_payload", "parametrize_load"]

#: Without a terminal that redraws a line, a progress line is printed this often.
PLAIN_PROGRESS_S = 10.0


class LoadDriver:
    """Runs this test's load point; see the module docstring."""

    def __init__(self, request: pytest.FixtureRequest, case: LoadCase) -> None:
        self.request, self.case = request, case
        self.state: PluginState = request.config.stash[STATE_KEY]
        self._last_line = time.monotonic()  # a plain line every PLAIN_PROGRESS_S
        self._events = (0, 0.0)
        #: The first failed request's message of each point that had one.
        self._first_errors: dict[str, str] = {}
        #: A shard's points (``None``: this test runs its points whole), and whether this test
        #: carries its points to the results (a shard: when the controller says so).
        self._shard_run: ShardedRun | None = None
        self._keeps = case.shard is None
        #: Each point that lost a shard (a worker went down), with why.
        self._lost: dict[str, str] = {}

    def run(self) -> LoadPointResult:
        """Run the point and return its figures (a :class:`~..schema.LoadPointResult`). A
        sweep or a search runs all its points (:mod:`.load_modes`) and returns the first one's
        (concurrency 1); :attr:`results` holds every point's, :attr:`capacity` a search's.
        A shard returns the figures of the whole point (every shard's records together)."""
        case = self.case
        outcome: LoadOutcome = self.request.node.stash.setdefault(LOAD_KEY, LoadOutcome())
        if case.point.kind == "sweep":
            from .load_modes import run_sweep

            results, notes = run_sweep(case.point, self._run_one)
            if self._keeps:  # a sharded test's results go out from one shard only
                outcome.results, outcome.notes = results, outcome.notes + notes
        elif case.point.kind == "search":
            from .load_modes import run_search

            seed = case.load.shape.seed
            results, capacity = run_search(case.point, case.load, self._run_one, seed)
            capacity[Key.TARGET] = case.target.key
            if self._keeps:
                outcome.results = results
                outcome.capacities.append(capacity)
        else:
            results = [self._run_one(case.point, "")[1]]
        first = results[0]
        if self._lost:
            lost = "; ".join(
                why if name == case.point.id else f"{name}: {why}"
                for name, why in self._lost.items()
            )
            pytest.fail(f"{case.target.key} {case.point.id}: {lost}", pytrace=False)
        self._check_errors(first)
        return first

    @property
    def results(self) -> list[LoadPointResult]:
        """The figures of every point this test ran."""
        outcome = self.request.node.stash.get(LOAD_KEY, None)
        return outcome.results if outcome is not None else []

    @property
    def capacity(self) -> dict[str, Any] | None:
        """What a search found (``None`` for other points)."""
        outcome = self.request.node.stash.get(LOAD_KEY, None)
        return outcome.capacities[0] if outcome is not None and outcome.capacities else None

    def _run_one(
        self, point: LoadPoint, prefix: str
    ) -> tuple[list[dict[str, Any]], LoadPointResult]:
        """Run ``point``, keep its records and figures on the item, and return them; its name
        in the results is ``prefix-<point id>`` when this test generates its points. A shard
        runs its share and takes the figures of every shard's records together."""
        from ..measure.load_point import LoadUnsupported, run_point
        from ..measure.load_run import WarmUpError
        from .shard_client import ShardBroken

        case, state = self.case, self.state
        name = f"{prefix}-{point.id}" if prefix else point.id
        failure, run = None, None
        try:
            sharded = self._sharded()
            if sharded is None:
                run = run_point(state.bench, case.target, point, case.load.shape, self._tick)
            else:
                run = sharded.run(point, name, self._tick)
        except LoadUnsupported as exc:
            pytest.skip(str(exc))
        except (WarmUpError, OSError, ShardBroken) as exc:
            failure = f"{case.target.key} {name}: {state.redactor.sanitize(str(exc))}"
        finally:
            self._end_progress()
        if failure is not None:  # outside the except: one message, not a chain of two
            pytest.fail(failure, pytrace=False)
        collected = self._collect(run, name, sharded.offset_ns if sharded is not None else 0)
        if sharded is None:
            assert run is not None
            result = self._figures(collected, run, point, name)
            self._keep(collected, result, run.notes, collected.inline, collected.samples())
            rows = collected.rows
        else:
            result, rows = self._merged(sharded, point, name, run, collected)
        if run is not None and run.outcome.interrupted:
            self._keep_interrupted()
            raise KeyboardInterrupt
        return rows, result

    def _sharded(self) -> ShardedRun | None:
        """This test's shard of its points (``None`` when it runs them whole)."""
        if self.case.shard is None:
            return None
        if self._shard_run is None:
            from .load_sharded import ShardedRun

            self._shard_run = ShardedRun(self.state, self.case, self.request.node.nodeid)
        return self._shard_run

    def _collect(self, run: PointRun | None, name: str, shift_ns: int) -> PointRecords:
        """The point's records (none for a shard with nothing to send), parsed with a progress
        line, on the controller's timeline (``shift_ns``: this worker's clock offset)."""
        from ..results.load_records import PointRecords

        described = {**self.case.describe(), Key.POINT: name}
        collected = PointRecords(described, self.state.redactor, self.case.load.slos, shift_ns)
        if run is None:
            return collected
        total = len(run.outcome.exchanges)
        try:
            collected.add_all(run.samples, lambda done: self._parse_tick(done, total))
        finally:
            self._end_progress()
        return collected

    def _figures(
        self, collected: PointRecords, run: PointRun, point: LoadPoint, name: str
    ) -> LoadPointResult:
        from ..results.load_figures import point_figures

        case = self.case
        result = point_figures(
            collected.rows, test=self.request.node.nodeid, target=case.target.key, point=point,
            slos=case.load.slos, loop_lags_ms=run.outcome.lags_ms, cpu_s=run.outcome.cpu_s,
            wall_s=run.outcome.wall_s, max_error_rate=case.load.max_error_rate,
            pooled={Key.ITL_MS: collected.itl_ms},
        )  # fmt: skip
        result["point"] = name
        return result

    def _merged(
        self,
        sharded: ShardedRun,
        point: LoadPoint,
        name: str,
        run: PointRun | None,
        collected: PointRecords,
    ) -> tuple[LoadPointResult, list[dict[str, Any]]]:
        """Send this shard's records; keep the merged figures (and, for the shard that keeps
        the point, its merged records); note a lost shard. The figures and the rows: every
        shard's, for the shard that keeps a small point, else its own."""
        from ..results.load_merge import shards_note
        from .shard_client import ShardBroken

        try:
            reply, broken = sharded.merge(point, name, run, collected), None
        except ShardBroken as exc:
            reply, broken = {}, str(exc)
        if broken is not None:  # outside the except: one message, not a chain of two
            collected.close()  # nothing merged: nothing to mark steady, no file
            pytest.fail(f"{self.case.target.key} {name}: {broken}", pytrace=False)
        result: LoadPointResult = reply["result"]
        notes = run.notes if run is not None else []
        if reply["keep"]:
            self._keeps = True
            notes = [*notes, shards_note(result)]
            self._keep(collected, result, notes, reply["inline"], reply["samples"])
        else:  # the shard that keeps the point carries it to the results; this one its file
            self._finish_file(collected, result)
            self._note_error(collected, name)
        if reply["lost"]:
            lost = "; ".join(f"shard {i + 1}: {why}" for i, why in sorted(reply["lost"].items()))
            self._lost.setdefault(name, f"lost {lost}")
        return result, reply.get("rows") or collected.rows

    def _finish_file(self, collected: PointRecords, result: LoadPointResult) -> Path | None:
        """Mark the point's records steady by its window and write them to this process's
        records file (returned; ``None`` when results are not saved)."""
        path = self.state.load_records_path()
        collected.finish(result["steady"], path)
        return path

    def _keep(
        self,
        collected: PointRecords,
        result: LoadPointResult,
        notes: list[str],
        inline: list[Record] | None,
        samples: dict[str, list[float]],
    ) -> None:
        """Write the point's records file and keep its figures, slim records (a small point's),
        samples and notes on the item, for its report."""
        key, name = self.case.target.key, result["point"]
        path = self._finish_file(collected, result)
        if "shards" not in result:
            result["records_file"] = path.name if path is not None else None
        result["records_inline"] = inline is not None
        outcome = self.request.node.stash.setdefault(LOAD_KEY, LoadOutcome())
        outcome.notes += [f"{key} {name}: {note}" for note in notes]
        outcome.records += inline or []
        outcome.samples.append({"target": key, "point": name, "samples": samples})
        outcome.results.append(result)
        self._note_error(collected, name)

    def _note_error(self, collected: PointRecords, name: str) -> None:
        """Keep the point's first failed request's message, for a failure's message."""
        error = next((str(r[Key.ERROR]) for r in collected.rows if r.get(Key.ERROR)), None)
        if error is not None:
            self._first_errors.setdefault(name, error)

    def _keep_interrupted(self) -> None:
        """Record what an interrupted point finished: pytest makes no report for the phase a
        Ctrl-C (or SIGTERM) stops, so the payload goes to the recorder here (when this process
        records: an xdist worker's controller is being stopped too)."""
        if hasattr(self.request.config, "workerinput"):
            return
        node = self.request.node
        payload = load_payload(node, self.case)
        self.state.open_recorder().add_payload(node.nodeid, payload, "interrupted", "interrupted")
        node.stash[LOAD_KEY] = LoadOutcome()  # recorded once

    def _check_errors(self, result: LoadPointResult) -> None:
        started = result["started"]
        rate = result["errors"] / started if started else 0.0
        if started and rate <= self.case.load.max_error_rate:
            return
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(result["errors_by_kind"].items()))
        first = self._first_errors.get(result["point"])
        pytest.fail(
            f"{self.case.target.key} {self.case.point.id}: {result['errors']} of {started} "
            f"requests failed ({rate:.0%} > max_error_rate {self.case.load.max_error_rate:.0%}; "
            f"{kinds or 'none'}); first: {first}",
            pytrace=False,
        )

    # -- the live progress line ------------------------------------------------------------------
    def _tick(self, progress: Any) -> None:
        from ..outputs.load_tables import progress_line

        now = time.perf_counter_ns()
        elapsed = max(0.0, (now - progress.start_ns) / 1e9) if progress.start_ns else 0.0
        pieces, at = self._events
        rate = (progress.pieces - pieces) / ((now - at) / 1e9) if at else 0.0
        self._events = (progress.pieces, now)
        name = f"{self.case.target.key} {self.case.point.id}"
        self.state.events.write(
            "load", test=self.request.node.nodeid, target=self.case.target.key,
            point=self.case.point.id, elapsed_s=elapsed, planned_s=progress.planned_s,
            done=progress.done, in_flight=progress.in_flight, errors=progress.errors,
        )  # fmt: skip
        line = progress_line(
            name, elapsed, progress.planned_s, progress.done, progress.in_flight,
            progress.errors, rate,
        )  # fmt: skip
        self._show(line)

    def _parse_tick(self, done: int, total: int) -> None:
        """The progress line while a large point's streams are parsed (after the point)."""
        self._show(f"{self.case.target.key} {self.case.point.id}: parsed {done:,} of {total:,}")

    def _show(self, line: str) -> None:
        terminal = self.request.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.request.config.pluginmanager.get_plugin("capturemanager")
        if terminal is None or capture is None:
            return
        live = sys.stdout.isatty()
        now = time.monotonic()
        if not live and now - self._last_line < PLAIN_PROGRESS_S:
            return
        self._last_line = now
        with capture.global_and_fixture_disabled():
            if live:
                terminal.write("\r" + line.ljust(100))
            else:
                terminal.write_line(line)

    def _end_progress(self) -> None:
        terminal = self.request.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.request.config.pluginmanager.get_plugin("capturemanager")
        if terminal is not None and capture is not None and sys.stdout.isatty():
            with capture.global_and_fixture_disabled():
                terminal.write("\r" + " " * 100 + "\r")


@pytest.fixture
def llm_load_case(request: pytest.FixtureRequest) -> LoadCase:
    """The plugin's parametrization of this load test (target, point, load settings)."""
    param = getattr(request, "param", None)
    if not isinstance(param, LoadCase):
        pytest.fail(
            "llm_load_case is parametrized by pytest-llmbench; request llm_load instead",
            pytrace=False,
        )
    return param


@pytest.fixture
def llm_load(request: pytest.FixtureRequest, llm_load_case: LoadCase) -> LoadDriver:
    """This test's load point of its target; call ``.run()`` to run it."""
    if llm_load_case.skip_reason:
        pytest.skip(llm_load_case.skip_reason)
    return LoadDriver(request, llm_load_case)


def parametrize_load(metafunc: pytest.Metafunc, state: PluginState, targets: list[Any]) -> None:
    """``pytest_generate_tests`` for a load test: targets × their load points."""
    from ..config.load_layers import load_settings
    from ..matrix import build_load_cases

    bench = state.bench
    config = bench.config()
    cases = build_load_cases(
        targets,
        lambda t: load_settings(config, t.provider, t.model, bench.settings),
        state.load_shards,
    )
    params = []
    for case in cases:
        target = case.target
        marks = [pytest.mark.llm(provider=target.provider.name, model=target.model.id,
                                 target=target.key, point=case.point.id)]  # fmt: skip
        if case.skip_reason:
            marks.append(pytest.mark.skip(reason=case.skip_reason))
        params.append(pytest.param(case, id=case.id, marks=marks))
    if not params:
        reason = "no load points: give load.points in config.yaml or --llm-load"
        params.append(pytest.param(None, id="no-points", marks=pytest.mark.skip(reason=reason)))
    metafunc.parametrize("llm_load_case", params, indirect=True)


def load_payload(item: pytest.Item, case: LoadCase) -> dict[str, Any]:
    """What a load test's report carries: its records, its points' figures, a search's
    capacity and a sweep's notes."""
    outcome = item.stash.get(LOAD_KEY, None) or LoadOutcome()
    return {
        "case": case.describe(),
        # a shard's point is in the report of the shard that keeps it
        "shard_kept_elsewhere": case.shard is not None and not outcome.results,
        "records": outcome.records,
        "load": {
            "points": outcome.results,
            "capacities": outcome.capacities,
            "notes": outcome.notes,
            "samples": outcome.samples,
        },
    }
