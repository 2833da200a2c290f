"""Statistics across runs (docs/metrics.md, "Across runs and requests")."""

import itertools
import random
import statistics

import pytest

from pytest_llmbench.results.stats import aggregate, percentile, summarize
from pytest_llmbench.schema import AGGREGATED_FIELDS

# --- percentile -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "q", "expected"),
    [
        ([5.0], 0, 5.0),
        ([5.0], 50, 5.0),
        ([5.0], 100, 5.0),
        ([1.0, 2.0], 50, 1.5),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),  # rank 1.5: halfway between 2 and 3
        ([1.0, 2.0, 3.0, 4.0], 90, 3.7),  # rank 2.7: 3 + 0.7 * (4 - 3)
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([10.0, 20.0, 30.0, 40.0, 50.0], 25, 20.0),  # rank exactly 1
        ([10.0, 20.0, 30.0, 40.0, 50.0], 95, 48.0),  # rank 3.8: 40 + 0.8 * 10
        ([0.0, 100.0], 99, 99.0),
    ],
)
def test_percentile_is_linear_between_closest_ranks(data, q, expected):
    assert percentile(data, q) == pytest.approx(expected)


@pytest.mark.parametrize("n", [2, 3, 7, 10, 101])
def test_percentile_agrees_with_statistics_inclusive_quantiles(n):
    rng = random.Random(n)
    data = sorted(rng.uniform(0, 1000) for _ in range(n))
    cuts = statistics.quantiles(data, n=100, method="inclusive")
    for q in range(1, 100):
        assert percentile(data, q) == pytest.approx(cuts[q - 1]), q


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="no data"):
        percentile([], 50)


# --- summarize --------------------------------------------------------------------------------


def test_summarize_nothing_is_only_n():
    assert summarize([]) == {"n": 0}
    assert summarize(iter(())) == {"n": 0}


def test_summarize_one_value():
    summary = summarize([42])
    assert summary["n"] == 1
    for name in ("mean", "median", "p90", "p95", "min", "max"):
        assert summary[name] == 42.0, name
    assert summary["stdev"] is None
    assert summary["p99"] is None


def test_summarize_matches_the_definitions():
    values = [9.0, 1.0, 4.0, 7.0, 3.0, 8.0, 2.0]  # unsorted on purpose
    ordered = sorted(values)
    summary = summarize(values)
    assert summary["n"] == len(values)
    assert summary["mean"] == pytest.approx(statistics.fmean(values))
    assert summary["median"] == pytest.approx(statistics.median(values))
    assert summary["p90"] == pytest.approx(percentile(ordered, 90))
    assert summary["p95"] == pytest.approx(percentile(ordered, 95))
    assert summary["min"] == 1.0 and summary["max"] == 9.0
    assert summary["stdev"] == pytest.approx(statistics.stdev(values))  # the sample stdev
    assert summary["p99"] is None


def test_summarize_takes_any_iterable():
    assert summarize(v for v in (3, 1, 2)) == summarize([1, 2, 3])


@pytest.mark.parametrize(("n", "has_p99"), [(2, False), (99, False), (100, True), (250, True)])
def test_p99_only_from_100_values(n, has_p99):
    values = list(range(n))
    summary = summarize(values)
    assert summary["n"] == n
    if has_p99:
        assert summary["p99"] == pytest.approx(percentile(values, 99))
    else:
        assert summary["p99"] is None
    assert summary["p95"] is not None


# --- aggregate --------------------------------------------------------------------------------


def _record(target="p/m", tier=0, ok=True, status="passed", **fields):
    provider, model = target.split("/", 1)
    return {
        "target": target,
        "provider": provider,
        "model": model,
        "display_name": model.upper(),
        "simulated": False,
        "tier": tier,
        "ok": ok,
        "status": status,
        **fields,
    }


def test_aggregate_groups_by_target_and_tier():
    records = [
        _record("p/a", 0, ttft_ms=10.0),
        _record("p/a", 0, ttft_ms=30.0),
        _record("p/a", 5000, ttft_ms=100.0),
        _record("p/b", 0, ttft_ms=5.0),
    ]
    out = aggregate(records)
    assert [(g["target"], g["tier"]) for g in out] == [("p/a", 0), ("p/a", 5000), ("p/b", 0)]
    first = out[0]
    assert first["provider"] == "p" and first["model"] == "a" and first["display_name"] == "A"
    assert first["requests"] == 2 and first["errors"] == 0 and first["skipped"] == 0
    assert first["metrics"]["ttft_ms"]["n"] == 2
    assert first["metrics"]["ttft_ms"]["mean"] == pytest.approx(20.0)
    assert out[1]["metrics"]["ttft_ms"]["n"] == 1
    assert out[2]["metrics"]["ttft_ms"]["median"] == pytest.approx(5.0)


def test_aggregate_measures_only_ok_records_and_counts_errors_and_skips():
    records = [
        _record(ttft_ms=10.0, decode_tps=50.0),
        _record(ttft_ms=20.0, decode_tps=70.0),
        _record(ok=False, status="failed", ttft_ms=9999.0, error="HTTP 500"),
        _record(ok=False, status="passed", ttft_ms=8888.0),  # check=False: ran, not ok
        _record(ok=False, status="skipped", reason="KEY is not set"),
        _record(ok=False, status="skipped", reason="KEY is not set"),
    ]
    (group,) = aggregate(records)
    assert group["requests"] == 4  # skipped requests were never sent
    assert group["errors"] == 2
    assert group["skipped"] == 2
    ttft = group["metrics"]["ttft_ms"]
    assert ttft["n"] == 2
    assert ttft["max"] == 20.0  # the failed requests' figures are not measurements
    assert group["metrics"]["decode_tps"]["mean"] == pytest.approx(60.0)


def test_aggregate_has_every_field_and_skips_missing_values():
    records = [_record(ttft_ms=10.0, tpot_ms=None), _record(ttft_ms=12.0)]
    (group,) = aggregate(records)
    assert set(group["metrics"]) == set(AGGREGATED_FIELDS)
    assert group["metrics"]["tpot_ms"] == {"n": 0}
    assert group["metrics"]["reasoning_ms"] == {"n": 0}
    assert group["metrics"]["ttft_ms"]["n"] == 2


def test_a_target_with_only_skips_still_has_its_row():
    (group,) = aggregate([_record(ok=False, status="skipped")])
    assert (group["requests"], group["errors"], group["skipped"]) == (0, 0, 1)
    assert group["metrics"]["ttft_ms"] == {"n": 0}


def test_aggregate_leaves_out_conversation_turns_and_records_without_a_target():
    records = [
        _record("p/a", 0, ttft_ms=10.0),
        _record("p/a", None, ttft_ms=500.0, turn=1),
        _record("p/conv", None, ttft_ms=500.0, turn=2),
        {"ok": True, "ttft_ms": 1.0, "status": "passed"},
    ]
    out = aggregate(records)
    assert [(g["target"], g["tier"]) for g in out] == [("p/a", 0)]
    assert out[0]["metrics"]["ttft_ms"]["n"] == 1


def test_aggregate_of_nothing():
    assert aggregate([]) == []


def test_aggregate_order_does_not_depend_on_the_input_order():
    records = [
        _record("z/last", 0, ttft_ms=1.0),
        _record("a/first", 5000, ttft_ms=2.0),
        _record("a/first", 0, ttft_ms=3.0),
        _record("a/first", 100, ttft_ms=4.0),
        _record("m/mid", 0, ok=False, status="failed"),
        _record("a/first", 0, ttft_ms=5.0),
    ]
    expected = aggregate(records)
    assert [(g["target"], g["tier"]) for g in expected] == [
        ("a/first", 0),
        ("a/first", 100),
        ("a/first", 5000),
        ("m/mid", 0),
        ("z/last", 0),
    ]
    for order in itertools.permutations(records):
        assert aggregate(list(order)) == expected


def test_tierless_and_tier_zero_groups_have_a_fixed_order():
    tierless = _record("p/m", None, ttft_ms=1.0)
    tier0 = _record("p/m", 0, ttft_ms=2.0)
    first = [g["tier"] for g in aggregate([tierless, tier0])]
    second = [g["tier"] for g in aggregate([tier0, tierless])]
    assert sorted(first, key=str) == sorted(second, key=str) == [0, None]
    assert first == second
