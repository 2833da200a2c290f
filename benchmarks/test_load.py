"""Load: one target driven at a load point (a concurrency, or a request rate) for its window.

The plugin parametrizes this test over targets × load points from config.yaml's ``load:``
sections or ``--llm-load`` (``concurrency=1,8,64``, ``rate=2,4,8:poisson``), so ``-k c64``
selects. ``llm_load.run()`` runs the point and returns its figures (achieved rate, output tok/s,
TTFT / TPOT / ITL / E2E percentiles, goodput, the client's self-check; see METRICS.md, "Under
load"); it fails the test when the point's error rate passes ``max_error_rate``.
"""

from pytest_llmbench.plugin.load_fixture import LoadDriver


def test_load(llm_load: LoadDriver) -> None:
    point = llm_load.run()
    assert point["completed"] > 0, "no request of the point succeeded"
