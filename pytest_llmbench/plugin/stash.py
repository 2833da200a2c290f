"""What the plugin keeps on ``config.stash`` for a session and on ``item.stash`` for a test."""

from __future__ import annotations

import contextlib
import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..config.reader import ConfigError
from ..matrix import Target
from ..measure.redact import Redactor
from ..measure.session import BenchSession
from ..measure.stream import Sample
from ..outputs.events import EventLog
from ..schema import LoadPointResult, Record

if TYPE_CHECKING:
    from ..conversation.turn import ConversationState
    from ..results.baseline import Samples
    from ..results.recorder import Recorder
    from .shard_coordinator import ShardCoordinator
    from .worker_link import WorkerLink

__all__ = ["LOAD_KEY", "SAMPLES_KEY", "STATE_KEY", "LoadOutcome", "PluginState"]


@dataclass
class PluginState:
    """One pytest process's plugin state: the measuring session and what the hooks collect."""

    bench: BenchSession
    started: _dt.datetime
    #: Set once a test uses the plugin's fixtures; until then the plugin does nothing.
    active: bool = False
    #: A bad config found while parametrizing: a usage error at the end of collection.
    usage_error: ConfigError | None = None
    targets: list[Target] | None = None
    #: The keys of the selected targets, for everything a test's report carries out.
    redactor: Redactor = field(default_factory=Redactor)
    conversations: dict[str, ConversationState] = field(default_factory=dict)
    baseline: Samples | None = None
    baseline_about: dict[str, Any] | None = None
    recorder: Recorder | None = None
    #: The results document and the files written, for the terminal summary.
    written: tuple[dict[str, Any], list[Path]] | None = None
    #: On a pytest-xdist worker: its id and the controller's results stamp.
    worker: tuple[str, str] | None = None
    #: On the controller: the plugin's channel to each worker, with its clock offset.
    worker_links: dict[str, WorkerLink] = field(default_factory=dict)
    #: Shards per load point (1: none; under pytest-xdist, :func:`.xdist_hooks.load_shards`).
    load_shards: int = 1
    #: On the controller: the barriers and merges of sharded load points.
    shards: ShardCoordinator | None = None
    #: Where the session's progress goes as it happens (``--llm-events``; no path: nowhere).
    events: EventLog = field(default_factory=lambda: EventLog(None))

    def open_recorder(self) -> Recorder:
        """The session's recorder, opened on first use (named by :attr:`stamp`)."""
        if self.recorder is None:
            from ..results.recorder import Recorder

            settings = self.bench.settings
            results_dir = settings.results_dir if settings.save else None
            self.recorder = Recorder.open(self.stamp, results_dir)
            with contextlib.suppress(ConfigError):  # a bad config is reported at collection
                self.recorder.conversation = self.bench.config().conversation
        return self.recorder

    def load_records_path(self) -> Path | None:
        """Where this process appends its load points' full records (``None`` when results
        are not saved): ``<stamp>.load.jsonl`` beside the results, ``<stamp>.load-gw0.jsonl``
        from a worker."""
        settings = self.bench.settings
        if not settings.save:
            return None
        if self.worker is not None:
            worker_id, stamp = self.worker
            return settings.results_dir / f"{stamp}.load-{worker_id}.jsonl"
        return settings.results_dir / f"{self.open_recorder().stamp}.load.jsonl"

    @property
    def stamp(self) -> str:
        """The session's start as ``YYYYmmdd-HHMMSS``: results and server logs are named by it."""
        return self.started.strftime("%Y%m%d-%H%M%S")


@dataclass
class LoadOutcome:
    """What a load test leaves on its item for the report: the records (of points small enough
    to carry them), the figures and the samples of its points, a search's capacity, a sweep's
    notes."""

    records: list[Record] = field(default_factory=list)
    results: list[LoadPointResult] = field(default_factory=list)
    #: Each point's samples for the gate (``{"target", "point", "samples"}``), also of points
    #: too large to carry their records.
    samples: list[dict[str, Any]] = field(default_factory=list)
    capacities: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


STATE_KEY: pytest.StashKey[PluginState] = pytest.StashKey()
#: The measured requests of one test, kept until its report is made.
SAMPLES_KEY: pytest.StashKey[list[Sample]] = pytest.StashKey()
#: A load test's records and figures, kept until its report is made.
LOAD_KEY: pytest.StashKey[LoadOutcome] = pytest.StashKey()
