"""A load test's shard: its share of each point, started with the others, merged by the
controller (load spread over pytest-xdist workers; :mod:`.shard_coordinator` is the other end).

A managed target's shards all drive the controller's server (it starts it when the first shard
asks). For each point the shard opens and warms its share's connections, waits at
the point's barrier, runs, parses its requests into records on the controller's timeline (its
clock offset subtracted), sends them (:func:`~..results.load_merge.shard_part`) and takes back
the point's figures, computed from every shard's records. Any failure of its own is told to the
controller first, so that the other shards do not wait for it.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..config.load_shard import shard_of
from ..config.load_spec import LoadPoint
from ..matrix import LoadCase
from .shard_client import ShardBroken, ShardClient
from .stash import PluginState
from .worker_side import shard_channel

if TYPE_CHECKING:
    from ..measure.load_point import PointRun
    from ..measure.load_run import Progress
    from ..results.load_records import PointRecords
    from ..servers.sim.truth_log import SimLog

__all__ = ["KILL_ENV", "ShardedRun"]

#: Test hook: ``gw1:0.5`` kills worker gw1 half a second into its sharded point.
KILL_ENV = "LLMBENCH_TEST_KILL_SHARD"


class ShardedRun:
    """One sharded load test's points (its case has a :attr:`~..matrix.LoadCase.shard`)."""

    def __init__(self, state: PluginState, case: LoadCase, nodeid: str) -> None:
        assert case.shard is not None
        self.state, self.case, self.shard = state, case, case.shard
        found = shard_of(nodeid)
        #: The point's test id without the shard: the merged point's name in the results.
        self.test = found[0] if found is not None else nodeid
        channel = shard_channel()
        if channel is None:
            raise ShardBroken(
                f"{self.shard.label}: this worker has no channel to its controller (see the "
                "results' metadata.workers for why)"
            )
        self.client = ShardClient(channel, self.test, self.shard)
        self._server_base: str | None = None

    @property
    def offset_ns(self) -> int:
        """This worker's clock minus the controller's, as measured before the last point."""
        started = self.client.started
        return started.offset_ns if started is not None else 0

    def run(self, point: LoadPoint, name: str, tick: Callable[[Progress], None]) -> PointRun | None:
        """Run this shard's share of ``point`` (``None``: an empty share, which only takes
        part in the start)."""
        from ..measure.load_point import run_point

        try:
            if self.shard.empty(point):
                self.client.wait_start(name)
                return None
            state, case = self.state, self.case
            api_base, truth = self._server()
            return run_point(
                state.bench, case.target, point, case.load.shape, self._kill_hook(tick),
                self.shard, self.client.barrier(name), api_base, truth,
            )  # fmt: skip
        except ShardBroken:
            raise
        except BaseException as exc:
            self.client.abandon(name, f"{self.where}: {type(exc).__name__}: {exc}")
            raise

    def merge(
        self, point: LoadPoint, name: str, run: PointRun | None, collected: PointRecords
    ) -> dict[str, Any]:
        """Send this shard's records of ``point``, and return the controller's answer: the
        merged ``result``, whether this shard ``keep``\\ s the point for the results (then with
        its merged ``inline`` records and ``samples``), and which shards were ``lost``."""
        from ..results.load_merge import shard_part

        started = self.client.started
        assert started is not None
        path = self.state.load_records_path()
        case, shard = self.case, self.shard
        about = {
            "test": self.test, "target": case.target.key, "name": name,
            "point": dataclasses.asdict(point),
            "slos": [dataclasses.asdict(slo) for slo in case.load.slos],
            "max_error_rate": case.load.max_error_rate, "index": shard.index,
            "count": shard.count, "worker": self.worker, "host": socket.gethostname(),
            "offset_ns": started.offset_ns, "uncertainty_ns": started.uncertainty_ns,
            "rtt_ns": started.rtt_ns, "planned_start_ns": started.start_ns,
            "records_file": path.name if path is not None else None,
        }  # fmt: skip
        outcome = run.outcome if run is not None else None
        part = shard_part(
            about=about, rows=collected.rows, itl_ms=collected.itl_ms, inline=collected.inline,
            lags_ms=outcome.lags_ms if outcome is not None else (),
            cpu_s=outcome.cpu_s if outcome is not None else None,
            wall_s=outcome.wall_s if outcome is not None else None,
            started_ns=self._started(run),
        )  # fmt: skip
        return self.client.merge(name, part)

    def _server(self) -> tuple[str | None, SimLog | None]:
        """A managed target's server: the controller's, one for every shard (each worker's own
        would see only its shard's requests): its API base, and the built-in server's truth log."""
        target = self.case.target
        if not target.simulated and target.provider.managed != "llama_cpp":
            return None, None
        if self._server_base is None:
            url = self.client.server_url(target.provider.name, target.model.id)
            self._server_base = url
        from ..servers.sim.truth_log import SimLog

        log = SimLog(self._server_base) if target.simulated else None
        return self._server_base + "/v1", log

    def _kill_hook(self, tick: Callable[[Progress], None]) -> Callable[[Progress], None]:
        """``tick``, or with the test hook :data:`KILL_ENV` set for this worker, ``tick`` that
        kills this worker (SIGKILL) once its point has run that many seconds: a test that a
        worker dying mid-point fails that point only."""
        from .worker_side import hook_value

        after = hook_value(KILL_ENV, self.worker)
        if after is None:
            return tick

        def killing(progress: Progress) -> None:
            running_s = (time.perf_counter_ns() - progress.start_ns) / 1e9
            if progress.start_ns and running_s >= float(after):
                os.kill(os.getpid(), signal.SIGKILL)
            tick(progress)

        return killing

    def _started(self, run: PointRun | None) -> int | None:
        """When the shard's first timer actually ran, on the controller's clock."""
        if run is None:
            return None
        outcome = run.outcome
        late_ns = round(outcome.lags_ms[0] * 1e6) if outcome.lags_ms else 0
        return outcome.start_ns + late_ns - self.offset_ns

    @property
    def worker(self) -> str:
        return self.state.worker[0] if self.state.worker is not None else "?"

    @property
    def where(self) -> str:
        return f"{self.shard.label} on {self.worker} ({socket.gethostname()})"
