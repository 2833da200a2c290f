"""pytest-xdist integration, registered only when pytest-xdist is installed.

The scheduler under ``--dist load`` (:mod:`.xdist_scheduling`) keeps conversations and each local
server's tests whole, and sends each sharded load point's shards to several workers at once.
``loadfile`` and ``loadscope`` keep a conversation whole by themselves; under ``worksteal`` and
``loadgroup`` each turn fails with a message saying so. Load points are sharded only under
``--dist load`` (``--llm-load-shards`` above 1 with another mode is a usage error).

When xdist configures a worker the plugin opens its own channels to it (:mod:`.worker_link`),
measures its clock, refuses a worker whose plugin version differs, and hands its shard channel
to the :class:`~.shard_coordinator.ShardCoordinator`.
"""

from __future__ import annotations

from typing import Any

import pytest

__all__ = [
    "DIST_KEY", "SHARDS_KEY", "SPLITTING_DIST_MODES", "STAMP_KEY", "XdistHooks", "check_parallel",
    "load_shards", "splitting_mode",
]  # fmt: skip

#: Where the controller tells its workers the distribution mode (workers see ``dist == "no"``).
DIST_KEY = "llmbench_dist"
#: The controller's results stamp, which a worker names its load records file by.
STAMP_KEY = "llmbench_stamp"
#: How many shards each load point has (every worker collects the same shards).
SHARDS_KEY = "llmbench_shards"
#: Modes that could put two turns of one conversation on different workers.
SPLITTING_DIST_MODES = {"worksteal", "loadgroup"}


def load_shards(config: pytest.Config, requested: int | None) -> int:
    """How many shards each load point has: on a worker, what its controller said; on a
    controller under ``--dist load``, ``requested`` or every worker; else 1. A request that
    cannot be kept is a :class:`pytest.UsageError`."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return int(workerinput.get(SHARDS_KEY, 1))
    dist = config.getoption("dist", "no")
    workers = 0
    if dist != "no":
        from xdist.workermanage import parse_tx_spec_config

        workers = len(parse_tx_spec_config(config))
    if requested is None:
        return workers if dist == "load" and workers > 1 else 1
    if requested == 1:
        return 1
    if dist != "load":
        how = "without pytest-xdist" if dist == "no" else f"under --dist {dist}"
        raise pytest.UsageError(
            f"--llm-load-shards {requested}: load points are spread over workers only under "
            f"pytest-xdist's --dist load (-n N), not {how}: its scheduler cannot keep a "
            "point's shards on different workers at once"
        )
    if requested > workers:
        raise pytest.UsageError(
            f"--llm-load-shards {requested}: only {workers} workers (-n / --tx) to run them on"
        )
    return requested


def check_parallel(config: pytest.Config, parallel: str | None) -> None:
    """``--llm-parallel providers`` needs the plugin's scheduler (pytest-xdist, ``--dist load``)."""
    if parallel is None or hasattr(config, "workerinput"):
        return
    dist = config.getoption("dist", "no")
    if dist != "load":
        how = "without pytest-xdist" if dist == "no" else f"under --dist {dist}"
        raise pytest.UsageError(
            f"--llm-parallel {parallel}: providers run side by side only under pytest-xdist's "
            f"--dist load (-n N, one worker per provider at a time), not {how}"
        )


def _configured_targets(config: pytest.Config) -> list[Any]:
    """Every target of the session's config (none while the config is bad: the workers report
    it)."""
    from ..config.reader import ConfigError
    from ..matrix import Target
    from .stash import STATE_KEY

    state = config.stash.get(STATE_KEY, None)
    if state is None:
        return []
    try:
        providers = state.bench.config().providers
    except ConfigError:
        return []
    return [Target(provider=p, model=m) for p in providers for m in p.models]


class XdistHooks:
    """pytest-xdist's controller hooks."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_configure_node(self, node: Any) -> None:
        """Tell each worker the real distribution mode, the results' stamp and the shards per
        load point, open the plugin's channels to it and measure its clock
        (``pytest_configure_node``); a worker of another plugin version is refused."""
        from .shard_coordinator import ShardCoordinator
        from .stash import STATE_KEY
        from .worker_link import open_link, version_problem
        from .worker_side import installed_version

        state = self.config.stash[STATE_KEY]
        node.workerinput[DIST_KEY] = self.config.getoption("dist", None)
        # a worker names its load records by the session's start (the controller's stamp)
        node.workerinput[STAMP_KEY] = state.stamp
        node.workerinput[SHARDS_KEY] = state.load_shards
        worker = str(node.gateway.id)
        link = state.worker_links[worker] = open_link(node.gateway, worker)
        problem = version_problem(link, installed_version("") or "not installed")
        if problem is not None:
            raise pytest.UsageError(problem)
        if state.shards is None:
            state.shards = ShardCoordinator(self._server_url)
        state.shards.listen(link)

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """Keep conversations, and each local server's tests, whole and send sharded points to
        several workers at once, under ``--dist load`` (``pytest_xdist_make_scheduler``)."""
        if config.getoption("dist", None) == "load":
            from .stash import STATE_KEY
            from .xdist_scheduling import BenchScheduling

            targets = _configured_targets(config)
            # the tests of a target whose server runs here: one worker, one server
            local = [t.id for t in targets if t.provider.managed == "llama_cpp"]
            state = config.stash.get(STATE_KEY, None)
            parallel = state is not None and state.bench.settings.parallel == "providers"
            providers = {t.id: t.provider.name for t in targets} if parallel else {}
            return BenchScheduling(config, log, local, self._lost, providers)
        return None

    def _server_url(self, provider: str, model: str) -> str:
        """The base URL of this controller's server for a managed target (started on first
        need, stopped with the session), for the shards of its load points."""
        from .stash import STATE_KEY

        bench = self.config.stash[STATE_KEY].bench
        target = next(
            t for t in _configured_targets(self.config)
            if t.provider.name == provider and t.model.id == model
        )  # fmt: skip
        server = bench.endpoints.sim_for(target) or bench.endpoints.llama_for(target)
        assert server is not None, target.key
        return server.base_url

    def _lost(self, test: str, index: int, worker: str | None, why: str) -> None:
        """A shard of ``test`` will not run with its gang: its point fails, naming the worker."""
        from .stash import STATE_KEY

        state = self.config.stash[STATE_KEY]
        if state.shards is None:
            return
        link = state.worker_links.get(worker) if worker is not None else None
        who = f"worker {link.where if link is not None else worker} " if worker else ""
        state.shards.lose(test, index, f"{who}{why}")


def splitting_mode(config: pytest.Config) -> str | None:
    """On a worker, the distribution mode if it could split a conversation, else ``None``."""
    workerinput = getattr(config, "workerinput", None)
    mode = workerinput.get(DIST_KEY) if workerinput is not None else None
    return mode if mode in SPLITTING_DIST_MODES else None
