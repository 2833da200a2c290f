"""Each pytest-xdist worker's clock against the controller's, over the plugin's own channel.

The estimate (``measure/clock_offset.py``) on exchanges of known delays; then whole sessions
under ``-n 2``: the plugin opens its channel to every worker when xdist configures it, measures
the worker's clock, and the results' metadata keep each offset with its uncertainty. One worker's
clock is shifted by a known amount through the plugin's test hook (``LLMBENCH_TEST_CLOCK_SHIFT``)
and the measured offset must recover it within the reported uncertainty; the other reads zero
(one machine, one monotonic clock).
"""

from __future__ import annotations

import sys

import pytest

from pytest_llmbench.measure.clock_offset import ClockOffset, estimate_offset
from pytest_llmbench.plugin.worker_side import SHIFT_ENV, clock_shift_ns

from ..sessions import sim_config

FAST = {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 4}
SHIFT_NS = 5_000_000  # 5 ms: far outside any loopback round trip


def test_the_least_delayed_exchange_sets_the_offset_and_its_uncertainty():
    # the remote clock is ours + 1,000 ns; exchanges delayed 400/40 (out/back), 30/30, 5/300
    offset = 1_000
    exchanges = [
        (0, 0 + 400 + offset, 440),
        (1_000, 1_030 + offset, 1_060),
        (2_000, 2_005 + offset, 2_305),
    ]
    found = estimate_offset(exchanges)
    assert found == ClockOffset(offset_ns=offset, uncertainty_ns=30, rtt_ns=60, exchanges=3)
    # whatever the split of a round trip, the truth lies within the uncertainty
    for out in range(0, 61, 10):
        skewed = estimate_offset([(0, out + offset, 60)])
        assert abs(skewed.offset_ns - offset) <= skewed.uncertainty_ns


def test_an_estimate_needs_a_sane_exchange():
    with pytest.raises(ValueError, match="no exchange"):
        estimate_offset([])
    with pytest.raises(ValueError, match="came back before it left"):
        estimate_offset([(100, 50, 90)])


@pytest.mark.parametrize(
    ("value", "worker", "shift"),
    [("", "gw0", 0), ("gw1:5000000", "gw1", 5_000_000), ("gw0:-7, gw1:3", "gw1", 3),
     ("gw1:3", "gw10", 0)],
)  # fmt: skip
def test_the_test_hook_shifts_only_the_worker_it_names(monkeypatch, value, worker, shift):
    monkeypatch.setenv(SHIFT_ENV, value)
    assert clock_shift_ns(worker) == shift


@pytest.mark.skipif(sys.platform != "linux", reason="xdist run checked on Linux CI")
def test_each_workers_clock_offset_is_measured_and_a_shift_recovered(bench, monkeypatch):
    pytest.importorskip("xdist")
    monkeypatch.setenv(SHIFT_ENV, f"gw1:{SHIFT_NS}")
    bench.setup(sim_config({"sim-a": FAST, "sim-b": FAST}))
    result = bench.run("-n", "2")
    assert result.ret == 0, result.stdout.str()
    workers = bench.results()["metadata"]["workers"]
    assert set(workers) == {"gw0", "gw1"}, workers
    for name, true_ms in (("gw0", 0.0), ("gw1", SHIFT_NS / 1e6)):
        clock = workers[name]
        assert clock["exchanges"] == 100, clock
        assert 0 < clock["uncertainty_ms"] < 0.5, clock  # loopback: well under half a ms
        assert abs(clock["offset_ms"] - true_ms) <= clock["uncertainty_ms"], (name, clock)
