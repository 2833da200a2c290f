"""pytest-xdist integration, registered only when pytest-xdist is installed.

A conversation's turns share a history that lives in one process, so all of its turns must run on
one worker, in order. xdist's default ``--dist load`` deals tests out one by one, and its
``loadgroup`` mode is unreliable on pytest 9.2 (pytest-xdist issue 1386), so under ``--dist load``
the plugin supplies the scheduler: xdist's own scope scheduler, with each conversation (every
``…-turnNNN`` test of one target) as one scope and every other test as a scope of its own. Turns of
one conversation thus stay together and in order, while different conversations and the other
tests spread across workers. ``loadfile`` and ``loadscope`` keep a conversation whole by
themselves; under ``worksteal`` and ``loadgroup`` each turn fails with a message saying so.

Every test of a target whose server the plugin runs on this machine (``managed: llama_cpp``) is one
scope too: one worker starts one server for it, instead of one server per worker, all competing
for the same cores.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

__all__ = ["DIST_KEY", "SPLITTING_DIST_MODES", "BenchScheduling", "XdistHooks"]

#: Where the controller tells its workers the distribution mode (workers see ``dist == "no"``).
DIST_KEY = "llmbench_dist"
#: The controller's results stamp, which a worker names its load records file by.
STAMP_KEY = "llmbench_stamp"
#: Modes that could put two turns of one conversation on different workers.
SPLITTING_DIST_MODES = {"worksteal", "loadgroup"}
_TURN = re.compile(r"-turn\d{3,}\]$")


class BenchScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """Load scheduling in which one conversation's turns form a single unit of work, and so do
    all the tests of each target in ``local_targets`` (their test-id prefixes)."""

    def __init__(self, config: pytest.Config, log: Any, local_targets: Iterable[str] = ()) -> None:
        super().__init__(config, log)
        ids = "|".join(re.escape(i) for i in sorted(local_targets, key=len, reverse=True))
        self._local = re.compile(rf"\[({ids})-(?:ctx|run|turn)\d") if ids else None

    def _split_scope(self, nodeid: str) -> str:
        local = self._local.search(nodeid) if self._local is not None else None
        if local is not None:
            return f"local server {local.group(1)}"
        match = _TURN.search(nodeid)
        return nodeid[: match.start()] if match else nodeid


def _local_target_ids(config: pytest.Config) -> list[str]:
    """Test-id prefixes of the targets whose server this machine runs (``managed: llama_cpp``)."""
    from ..config.reader import ConfigError
    from ..matrix import Target
    from .stash import STATE_KEY

    state = config.stash.get(STATE_KEY, None)
    if state is None:
        return []
    try:
        providers = state.bench.config().providers
    except ConfigError:
        return []  # the workers report it
    return [
        Target(provider=p, model=m).id
        for p in providers
        if p.managed == "llama_cpp"
        for m in p.models
    ]


class XdistHooks:
    """pytest-xdist's controller hooks."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_configure_node(self, node: Any) -> None:
        """Tell each worker the real distribution mode and the results' stamp, and open the
        plugin's channel to it, measuring its clock (``pytest_configure_node``)."""
        from .stash import STATE_KEY

        node.workerinput[DIST_KEY] = self.config.getoption("dist", None)
        state = self.config.stash[STATE_KEY]
        # a worker names its load records by the session's start (the controller's stamp)
        node.workerinput[STAMP_KEY] = state.stamp
        from .worker_link import open_link

        worker = str(node.gateway.id)
        state.worker_links[worker] = open_link(node.gateway, worker)

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """Keep conversations, and each local server's tests, whole under ``--dist load``
        (``pytest_xdist_make_scheduler``)."""
        if config.getoption("dist", None) == "load":
            return BenchScheduling(config, log, _local_target_ids(config))
        return None


def splitting_mode(config: pytest.Config) -> str | None:
    """On a worker, the distribution mode if it could split a conversation, else ``None``."""
    workerinput = getattr(config, "workerinput", None)
    mode = workerinput.get(DIST_KEY) if workerinput is not None else None
    return mode if mode in SPLITTING_DIST_MODES else None
